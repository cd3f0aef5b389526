package launcher

import (
	"os"
	"os/signal"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// forwarded are the signals graphsignal relays to the child (docs/launcher.md).
// Those whose default action would end graphsignal are caught before the
// fork (a SIGTERM in between must not leave the child orphaned); SIGWINCH,
// ignored by default, is caught after the fork, so that it does not compete
// with the fork for the CPU.
var (
	forwardedEarly = []os.Signal{
		unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM,
		unix.SIGUSR1, unix.SIGUSR2, unix.SIGALRM,
	}
	forwardedLate = []os.Signal{unix.SIGWINCH}
)

// Signals catches the signals a Child forwards. Catching a signal takes
// the Go runtime a round trip to its signal thread, 10 to 200 microseconds
// each on a small VM, so a caller may start it early with CatchSignals, do
// other work meanwhile, and hand it to Start in Config.Signals. The catching
// runs on a goroutine of its own, joined by Start and Wait (which take the
// Signals over) or by Stop. A forwarded signal caught before the child
// exists is forwarded to it once Wait runs.
//
// SIGCHLD is caught only where the child's exit cannot be watched through a
// pidfd (see Child.Wait).
type Signals struct {
	forward chan os.Signal // forwarded signals
	sigchld chan os.Signal
	caught  chan struct{} // closed once the early handlers are in
	forked  chan struct{} // closed by catchLate
	late    chan struct{} // closed once all forwarded signals are caught
	forkOne sync.Once
	stop    sync.Once

	mu      sync.Mutex // orders raiseInGroup with Stop
	stopped bool
}

// CatchSignals starts catching the forwarded signals and returns at once.
// A signal that was ignored when graphsignal started stays ignored, so the
// child inherits SIG_IGN for it (Go can only tell for HUP and INT). Pass
// the result to Start in Config.Signals, or call Stop: until one of them
// runs, the catching goroutine waits for the fork after the early signals.
func CatchSignals() *Signals {
	s := &Signals{
		forward: make(chan os.Signal, 16),
		sigchld: make(chan os.Signal, 1),
		caught:  make(chan struct{}),
		forked:  make(chan struct{}),
		late:    make(chan struct{}),
	}
	go func() {
		defer close(s.late)
		s.notify(forwardedEarly)
		close(s.caught)
		<-s.forked
		s.notify(forwardedLate)
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

// catchLate lets the catching go on with the late signals; Start calls it
// after the fork, Stop if there is none.
func (s *Signals) catchLate() { s.forkOne.Do(func() { close(s.forked) }) }

// waitLate returns once every forwarded signal is caught.
func (s *Signals) waitLate() {
	s.catchLate()
	<-s.late
}

// catchChildExits starts delivering SIGCHLD to s.sigchld. A child that
// exited earlier is found by the caller's next poll.
func (s *Signals) catchChildExits() { signal.Notify(s.sigchld, unix.SIGCHLD) }

// Stop waits for the catching to be complete, then stops it: a signal
// received after Stop has its default effect. Later calls do nothing.
func (s *Signals) Stop() {
	s.stop.Do(func() {
		s.waitLate()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.stopped = true
		signal.Stop(s.forward)
		signal.Stop(s.sigchld)
	})
}

// raiseInGroup sends sig to process group pgrp without delivering it to
// graphsignal, which may be in that group: for the moment of the kill,
// graphsignal's disposition of sig is SIG_IGN, set and restored with the
// kernel directly (the kernel drops a signal that is ignored when it is
// sent; the Go runtime's os/signal bookkeeping is left untouched). A pgrp
// of 1 or less is no group to signal (kill(-1) reaches every process the
// caller may signal, kill(0) the caller's own group): nothing is sent.
func (s *Signals) raiseInGroup(sig unix.Signal, pgrp int) {
	if pgrp <= 1 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		_ = unix.Kill(-pgrp, sig)
		return
	}
	// struct sigaction as the kernel reads it, at most 4 words on the
	// architectures Go supports; handler 1 is SIG_IGN.
	ign, old := [4]uint64{1}, [4]uint64{}
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&ign)), uintptr(unsafe.Pointer(&old)), 8, 0, 0); e != 0 {
		return
	}
	_ = unix.Kill(-pgrp, sig)
	_, _, _ = unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
}
