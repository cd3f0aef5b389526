package launcher

import (
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"
)

// forwarded are the signals graphsignal relays to the child (SPEC §3).
// Those whose default action would end graphsignal are caught before the
// fork (a SIGTERM in between must not leave the child orphaned); SIGWINCH,
// ignored by default, is caught after it, with SIGCHLD.
var (
	forwardedEarly = []os.Signal{
		unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM,
		unix.SIGUSR1, unix.SIGUSR2, unix.SIGALRM,
	}
	forwardedLate = []os.Signal{unix.SIGWINCH}
)

// Signals catches the signals a Child forwards, and SIGCHLD. Catching a
// signal takes the Go runtime a round trip to its signal thread, about 50
// to 100 microseconds each on a small VM, so a caller may start it early
// with CatchSignals, do other work meanwhile, and hand it to Start in
// Config.Signals. The catching runs on goroutines of its own, joined by
// Start and Wait (which take the Signals over) or by Stop. A forwarded
// signal caught before the child exists is forwarded to it once Wait runs.
type Signals struct {
	forward chan os.Signal // forwarded signals
	sigchld chan os.Signal
	caught  chan struct{} // closed once the early handlers are in
	late    chan struct{} // closed once the late handlers are in
	lateOne sync.Once
	stop    sync.Once
}

// CatchSignals starts catching the forwarded signals and returns at once.
// A signal that was ignored when graphsignal started stays ignored, so the
// child inherits SIG_IGN for it (Go can only tell for HUP and INT). Pass
// the result to Start in Config.Signals, or call Stop.
func CatchSignals() *Signals {
	s := &Signals{
		forward: make(chan os.Signal, 16),
		sigchld: make(chan os.Signal, 1),
		caught:  make(chan struct{}),
		late:    make(chan struct{}),
	}
	go func() {
		defer close(s.caught)
		s.notify(forwardedEarly)
	}()
	return s
}

func (s *Signals) notify(sigs []os.Signal) {
	for _, sig := range sigs {
		if !signal.Ignored(sig) {
			signal.Notify(s.forward, sig)
		}
	}
}

// wait returns once the early handlers are in.
func (s *Signals) wait() { <-s.caught }

// catchLate starts catching SIGWINCH and SIGCHLD; Start calls it right
// after the fork, Wait joins it with waitLate before it first polls the
// child, so no SIGCHLD is missed.
func (s *Signals) catchLate() {
	s.lateOne.Do(func() {
		go func() {
			defer close(s.late)
			s.notify(forwardedLate)
			signal.Notify(s.sigchld, unix.SIGCHLD)
		}()
	})
}

func (s *Signals) waitLate() {
	s.catchLate()
	<-s.late
}

// Stop waits for the catching to be complete, then stops it: a signal
// received after Stop has its default effect. Later calls do nothing.
func (s *Signals) Stop() {
	s.stop.Do(func() {
		s.wait()
		s.lateOne.Do(func() { close(s.late) })
		<-s.late
		signal.Stop(s.forward)
		signal.Stop(s.sigchld)
	})
}
