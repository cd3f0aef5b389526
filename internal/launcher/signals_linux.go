package launcher

import (
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"
)

// forwarded are the signals graphsignal relays to the child (SPEC §3).
var forwarded = []os.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM,
	unix.SIGUSR1, unix.SIGUSR2, unix.SIGALRM, unix.SIGWINCH,
}

// Signals catches the signals a Child forwards, and SIGCHLD. Catching a
// signal takes the Go runtime a round trip to its signal thread, about half
// a millisecond for all of them on a small VM, so a caller may start it
// early with CatchSignals, do other work meanwhile, and hand it to Start in
// Config.Signals. The catching runs on a goroutine of its own, joined by
// Start (which takes the Signals over) or by Stop. A forwarded signal
// caught before the child exists is forwarded to it once Wait runs.
type Signals struct {
	forward chan os.Signal // forwarded signals
	sigchld chan os.Signal
	caught  chan struct{} // closed once every handler is in
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
	}
	go func() {
		defer close(s.caught)
		for _, sig := range forwarded {
			if !signal.Ignored(sig) {
				signal.Notify(s.forward, sig)
			}
		}
		signal.Notify(s.sigchld, unix.SIGCHLD)
	}()
	return s
}

// wait returns once every handler is in.
func (s *Signals) wait() { <-s.caught }

// Stop waits for the catching to be complete, then stops it: a signal
// received after Stop has its default effect. Later calls do nothing.
func (s *Signals) Stop() {
	s.stop.Do(func() {
		s.wait()
		signal.Stop(s.forward)
		signal.Stop(s.sigchld)
	})
}
