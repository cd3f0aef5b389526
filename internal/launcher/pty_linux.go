package launcher

import (
	"errors"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// ptyIdle is how long output must stay quiet after the child has exited
// before the drain stops waiting for processes that still hold the terminal.
const ptyIdle = 100 * time.Millisecond

// ptySession copies between graphsignal's stdio and the child's
// pseudo-terminal. It owns two goroutines (input and output copiers), which
// close joins.
type ptySession struct {
	master, slave *os.File
	in, out       *os.File
	typed         bool          // in is a terminal: its input is typed keys
	tail          *Tail         // keeps the end of the output, may be nil
	stopped       chan struct{} // wakes Wait: see stopPending
	sigs          *Signals      // graphsignal's, for keys that signal the outer group

	mu       sync.Mutex
	rawState *term.State // outer terminal settings to restore, nil if untouched

	// stopPending is set when the child's group stops (by the suspend key
	// or as Wait finds it), cleared by takeStop and, once graphsignal is
	// continued, by suspend: the key's notice and Wait's own report of the
	// same stop make one suspension, never two.
	stopMu      sync.Mutex
	stopPending bool

	child    atomic.Int64 // the child's pid, once started
	exited   atomic.Bool
	quit     chan struct{}
	outDone  chan struct{}
	inDone   chan struct{}
	closeOne sync.Once
}

func openPTY(in, out *os.File, tail *Tail) (*ptySession, error) {
	master, slave, err := pty.Open()
	if err != nil {
		return nil, err
	}
	p := &ptySession{master: master, slave: slave, in: in, out: out, tail: tail,
		typed:   in != nil && term.IsTerminal(int(in.Fd())),
		stopped: make(chan struct{}, 1), quit: make(chan struct{}),
		outDone: make(chan struct{}), inDone: make(chan struct{})}
	p.resize()
	if !p.typed {
		// Input is not typed at a terminal: do not echo it back, and pass
		// every byte as data. Only a key typed at a terminal is a request
		// to interrupt, quit or suspend; a 0x03 or 0x1a in a file is not.
		if t, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS); err == nil {
			t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ISIG
			_ = unix.IoctlSetTermios(int(slave.Fd()), unix.TCSETS, t)
		}
	}
	return p, nil
}

// outerTTY is the outer terminal whose size the pty follows, if any.
func (p *ptySession) outerTTY() *os.File {
	for _, f := range []*os.File{p.in, p.out} {
		if f != nil && term.IsTerminal(int(f.Fd())) {
			return f
		}
	}
	return nil
}

// resize copies the outer terminal's window size to the pty (the kernel then
// sends SIGWINCH to the child's foreground group). Without an outer terminal
// the pty gets 80×24.
func (p *ptySession) resize() {
	if tty := p.outerTTY(); tty != nil {
		if err := pty.InheritSize(tty, p.master); err == nil {
			return
		}
	}
	if sz, err := pty.GetsizeFull(p.master); err == nil && sz.Rows != 0 {
		return
	}
	_ = pty.Setsize(p.master, &pty.Winsize{Rows: 24, Cols: 80})
}

// started runs once the child has the slave side: it puts the outer terminal
// in raw mode (so keys reach the child's line discipline) and starts copying.
// sigs are graphsignal's caught signals (see writeInput).
func (p *ptySession) started(pid int, sigs *Signals) {
	p.sigs = sigs
	p.child.Store(int64(pid))
	p.slave.Close()
	p.makeRaw()
	go p.copyOut()
	go p.copyIn()
}

func (p *ptySession) makeRaw() {
	if p.in == nil || !foreground(int(p.in.Fd())) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, err := term.MakeRaw(int(p.in.Fd())); err == nil {
		p.rawState = st
	}
}

func (p *ptySession) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rawState != nil {
		_ = term.Restore(int(p.in.Fd()), p.rawState)
		p.rawState = nil
	}
}

// copyOut copies the child's terminal output to graphsignal's stdout until
// every holder of the slave has closed it, or the child has exited and the
// output has been quiet for ptyIdle.
func (p *ptySession) copyOut() {
	defer close(p.outDone)
	buf := make([]byte, 32*1024)
	fd := int(p.master.Fd())
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(ptyIdle/time.Millisecond))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return
		}
		if n == 0 {
			if p.exited.Load() {
				return
			}
			continue
		}
		r, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
			continue
		}
		if r <= 0 || err != nil {
			return // EIO: no process holds the terminal any more
		}
		if p.tail != nil {
			_, _ = p.tail.Write(buf[:r])
		}
		if p.out != nil && writeAll(int(p.out.Fd()), buf[:r]) != nil {
			// Our reader went away: the child would have got SIGPIPE.
			if pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP); err == nil {
				_ = unix.Kill(-pgrp, unix.SIGPIPE)
			}
			p.out = nil
		}
	}
}

// copyIn copies graphsignal's stdin to the child's terminal. At the end of
// piped input it sends the terminal's end-of-file character.
func (p *ptySession) copyIn() {
	defer close(p.inDone)
	if p.in == nil {
		return
	}
	buf := make([]byte, 32*1024)
	var last byte // the last byte copied
	fd := int(p.in.Fd())
	if term.IsTerminal(fd) && !foreground(fd) {
		// A background job must not read the terminal (SIGTTIN).
		return
	}
	for {
		select {
		case <-p.quit:
			return
		default:
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(ptyIdle/time.Millisecond))
		if errors.Is(err, unix.EINTR) || n == 0 {
			continue
		}
		if err != nil {
			return
		}
		r, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
			continue
		}
		if r <= 0 || err != nil {
			if !term.IsTerminal(fd) {
				// End of piped input: the terminal's EOF character. On a
				// partial line the first one only passes the line on, so a
				// second one is needed for the reader to see the end.
				eof := []byte{4}
				if last != '\n' && last != 0 {
					eof = []byte{4, 4}
				}
				_, _ = p.master.Write(eof)
			}
			return
		}
		last = buf[r-1]
		if p.writeInput(buf[:r]) != nil {
			return
		}
	}
}

// writeInput passes input to the child's terminal. Typed keys that make
// the child's line discipline signal its foreground group get special care:
//
//   - The interrupt and quit keys (Ctrl-C, Ctrl-\) would also have signalled
//     the outer terminal's foreground group (graphsignal and the shell that
//     runs it) if the outer terminal were not in raw mode. That group is
//     sent the signal first, graphsignal excepted, so that a shell waiting
//     for graphsignal sees the interrupt as it would without graphsignal (a
//     loop ends when the child dies of SIGINT).
//   - The suspend key (Ctrl-Z) is handled here when the child itself is the
//     terminal's foreground process: its process group has no parent in its
//     session (the child is a session leader), so the kernel would discard
//     the SIGTSTP that the key generates. graphsignal stops the group with
//     SIGSTOP instead and has Wait suspend graphsignal, as a shell job.
//
// Input that is not typed passes as data (see openPTY).
func (p *ptySession) writeInput(b []byte) error {
	fd := int(p.master.Fd())
	for len(b) > 0 {
		keys, on := p.signalKeys()
		i := indexKey(b, keys, on)
		if i < 0 {
			return writeAll(fd, b)
		}
		if err := writeAll(fd, b[:i]); err != nil {
			return err
		}
		key := b[i]
		b = b[i+1:]
		switch key {
		case keys[keyInterrupt], keys[keyQuit]:
			sig := unix.SIGINT
			if key != keys[keyInterrupt] {
				sig = unix.SIGQUIT
			}
			if _, ok := p.childForeground(); ok {
				p.signalOuterGroup(sig)
			}
		case keys[keySuspend]:
			if pgrp, ok := p.childForeground(); ok {
				// Suspend now rather than when the child reports the
				// stop: a child waiting in vfork(2) for a grandchild that
				// the SIGSTOP stopped before its exec never stops itself.
				p.stopGroup(pgrp)
				continue
			}
		}
		if err := writeAll(fd, []byte{key}); err != nil {
			return err
		}
	}
	return nil
}

// childForeground returns the child's terminal's foreground process group
// and whether it is the child's own initial group (the child is a session
// leader, so that group's id is the child's pid). It is not when a process
// of the child's has taken the foreground with a group of its own (an
// interactive shell's job, anything calling tcsetpgrp(3)).
func (p *ptySession) childForeground() (int, bool) {
	pgrp, err := unix.IoctlGetInt(int(p.master.Fd()), unix.TIOCGPGRP)
	return pgrp, err == nil && pgrp > 0 && int64(pgrp) == p.child.Load()
}

// Indexes of signalKeys' result.
const (
	keyInterrupt = iota
	keyQuit
	keySuspend
)

// signalKeys returns the child terminal's interrupt, quit and suspend
// characters, and whether they are on: the input is typed and the terminal
// generates signals. A character 0 (_POSIX_VDISABLE) is off.
func (p *ptySession) signalKeys() (keys [3]byte, on bool) {
	if !p.typed {
		return keys, false
	}
	t, err := unix.IoctlGetTermios(int(p.master.Fd()), unix.TCGETS)
	if err != nil || t.Lflag&unix.ISIG == 0 {
		return keys, false
	}
	return [3]byte{t.Cc[unix.VINTR], t.Cc[unix.VQUIT], t.Cc[unix.VSUSP]}, true
}

// indexKey returns the index of the first of keys in b, or -1.
func indexKey(b []byte, keys [3]byte, on bool) int {
	if !on {
		return -1
	}
	for i, c := range b {
		if c != 0 && (c == keys[0] || c == keys[1] || c == keys[2]) {
			return i
		}
	}
	return -1
}

// signalOuterGroup sends sig to the outer terminal's foreground process
// group, as the terminal would have for the key had graphsignal not put it
// in raw mode, without delivering it to graphsignal itself (the child gets
// it from its own terminal). Nothing is sent when the outer terminal still
// generates signals itself, nor when that group is not a real group other
// than PID 1's: as a PID namespace's init (a container's entry point),
// graphsignal's group is 1, and kill(-1) would signal every process in the
// namespace, the child a second time among them.
func (p *ptySession) signalOuterGroup(sig unix.Signal) {
	fd := int(p.in.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil || t.Lflag&unix.ISIG != 0 {
		return
	}
	pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || pgrp <= 1 || int64(pgrp) == p.child.Load() {
		return
	}
	p.sigs.raiseInGroup(sig, pgrp)
}

// stopGroup stops the child's process group and tells Wait. The stop and
// the notice are one step for suspend, which clears the notice.
func (p *ptySession) stopGroup(pgrp int) {
	p.stopMu.Lock()
	_ = unix.Kill(-pgrp, unix.SIGSTOP)
	p.stopPending = true
	p.stopMu.Unlock()
	p.wakeWait()
}

// notifyStopped tells Wait that the child's group is stopped; a stop
// already pending is not doubled.
func (p *ptySession) notifyStopped() {
	p.stopMu.Lock()
	p.stopPending = true
	p.stopMu.Unlock()
	p.wakeWait()
}

func (p *ptySession) wakeWait() {
	select {
	case p.stopped <- struct{}{}:
	default:
	}
}

// takeStop reports whether a stop is pending, and clears it.
func (p *ptySession) takeStop() bool {
	p.stopMu.Lock()
	defer p.stopMu.Unlock()
	pending := p.stopPending
	p.stopPending = false
	return pending
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// suspend mirrors a Ctrl-Z on the pty: the child has stopped, so graphsignal
// restores the outer terminal and stops itself; when the shell continues it
// (fg/bg), the terminal goes raw again and the child is continued.
func (p *ptySession) suspend(child int) {
	cont := make(chan os.Signal, 1)
	signal.Notify(cont, unix.SIGCONT)
	defer signal.Stop(cont)
	p.restore()
	_ = unix.Kill(os.Getpid(), unix.SIGTSTP)
	<-cont
	p.makeRaw()
	p.resize()
	p.continueGroup(child)
}

// continueGroup continues the child's process group after a suspension.
// Notices that came in meanwhile are of the stop just handled (the group
// stays stopped until the SIGCONT) and are cleared; a suspend key typed
// after the SIGCONT stops the group anew (stopGroup holds the same lock).
func (p *ptySession) continueGroup(pgrp int) {
	p.stopMu.Lock()
	defer p.stopMu.Unlock()
	p.stopPending = false
	_ = unix.Kill(-pgrp, unix.SIGCONT)
}

// drain waits for the child's output to be copied out, then stops input.
func (p *ptySession) drain() {
	p.exited.Store(true)
	<-p.outDone
}

// close restores the outer terminal and joins the copiers. Idempotent.
func (p *ptySession) close() {
	p.closeOne.Do(func() {
		p.restore()
		select {
		case <-p.outDone:
		default:
			p.exited.Store(true)
		}
		close(p.quit)
		if p.outDone != nil {
			select {
			case <-p.outDone:
			case <-time.After(time.Second):
			}
		}
		select {
		case <-p.inDone:
		case <-time.After(time.Second):
		}
		p.master.Close()
		p.slave.Close()
	})
}

// foreground reports whether fd is a terminal whose foreground process
// group is graphsignal's (only then may it change the terminal's settings).
func foreground(fd int) bool {
	pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}
