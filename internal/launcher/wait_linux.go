package launcher

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Wait forwards signals to the child until it ends, then reaps it and
// returns how it ended. With Config.Reaper it also reaps every other process
// that exits while it waits. Wait must be called exactly once.
//
// The child's exit is watched through a pidfd where the kernel has them;
// SIGCHLD is caught instead without one, with a pty (which must also see
// the child stop) and as PID 1 (which must also see orphans exit).
//
// The forwarded signals stay caught after Wait returns, so that a signal
// arriving while graphsignal finishes its work does not end it with another
// status than the child's: read them from Signals, and call Release when
// done.
func (c *Child) Wait() (*Exit, error) {
	defer c.closeTTY()
	if c.pty != nil {
		defer c.pty.close()
		c.sigs.waitLate()
		c.pty.resize() // a resize before SIGWINCH was caught is not lost
	}
	var exitWatched <-chan error
	if c.exit != nil {
		defer c.exit.close()
		exitWatched = c.exit.done
	} else {
		c.sigs.catchChildExits()
	}
	for {
		done, err := c.poll()
		if err != nil {
			return nil, err
		}
		if done {
			return c.reap()
		}
		select {
		case s := <-c.sigs.forward:
			c.forward(s.(syscall.Signal))
		case <-c.sigs.sigchld:
		case err := <-exitWatched:
			exitWatched = nil
			if err != nil {
				c.sigs.catchChildExits()
			}
		case <-c.ptyStopped():
			if c.pty.takeStop() {
				c.pty.suspend(c.Pid)
			}
		}
	}
}

// poll reaps exited orphans (as PID 1) and reports whether the child has
// exited, without reaping it. It also notices a child stopped by a terminal
// signal when it runs on a pty.
func (c *Child) poll() (bool, error) {
	if c.cfg.Reaper {
		reapOrphans(c.Pid)
	}
	var info unix.Siginfo
	opts := unix.WEXITED | unix.WNOHANG | unix.WNOWAIT
	if c.pty != nil {
		opts |= unix.WSTOPPED
	}
	for {
		err := unix.Waitid(unix.P_PID, c.Pid, &info, opts, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("wait for child %d: %w", c.Pid, err)
		}
		break
	}
	pid, code := siginfoPidCode(&info)
	if pid != c.Pid {
		return false, nil
	}
	if code == cldTrapped || code == cldStopped {
		// Consume the stop notification so it is not reported again.
		var ws unix.WaitStatus
		_, _ = unix.Wait4(c.Pid, &ws, unix.WUNTRACED|unix.WNOHANG, nil)
		c.pty.notifyStopped()
		return false, nil
	}
	return true, nil
}

// reap collects the exited child, after giving BeforeReap its look at it.
func (c *Child) reap() (*Exit, error) {
	if c.cfg.BeforeReap != nil {
		c.cfg.BeforeReap(c.Pid)
	}
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	for {
		_, err := syscall.Wait4(c.Pid, &ws, 0, &ru)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reap child %d: %w", c.Pid, err)
		}
		break
	}
	e := &Exit{Time: time.Now(), Rusage: ru}
	switch {
	case ws.Exited():
		e.Code = ws.ExitStatus()
	case ws.Signaled():
		e.Signal = syscall.Signal(ws.Signal())
		e.Code = 128 + int(e.Signal)
		e.CoreDumped = ws.CoreDump()
	}
	if c.pty != nil {
		c.pty.drain()
	}
	c.tail = c.stderr.finish()
	return e, nil
}

// si_code values of SIGCHLD (asm-generic/siginfo.h).
const (
	cldTrapped = 4
	cldStopped = 5
)

// reapOrphans reaps every exited process other than the child.
func reapOrphans(child int) {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		pid, _ := siginfoPidCode(&info)
		if err != nil || pid == 0 || pid == child {
			return
		}
		var ws unix.WaitStatus
		_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
	}
}

// forward relays a signal received by graphsignal to the child, unless the
// terminal already delivered it to the child's process group.
func (c *Child) forward(s syscall.Signal) {
	if c.pty != nil {
		if s == unix.SIGWINCH {
			c.pty.resize()
			return
		}
		_ = unix.Kill(c.Pid, s)
		return
	}
	if terminalSignal(s) && c.inForeground() {
		return
	}
	_ = unix.Kill(c.Pid, s)
}

// terminalSignal reports whether the terminal driver sends s to the whole
// foreground process group (keyboard interrupt and quit, window change).
func terminalSignal(s syscall.Signal) bool {
	return s == unix.SIGINT || s == unix.SIGQUIT || s == unix.SIGWINCH
}

// inForeground reports whether graphsignal's process group (which the child
// shares) is the foreground group of its controlling terminal.
func (c *Child) inForeground() bool {
	if c.tty == nil {
		return false
	}
	fg, err := unix.IoctlGetInt(int(c.tty.Fd()), unix.TIOCGPGRP)
	return err == nil && fg == unix.Getpgrp()
}

// Signals delivers the forwarded signals that graphsignal receives after
// the child has exited (there is no child to forward them to any more).
func (c *Child) Signals() <-chan os.Signal { return c.sigs.forward }

// Release stops catching signals; a signal received after it has its
// default effect on graphsignal.
func (c *Child) Release() { c.stopSignals() }

func (c *Child) closeTTY() {
	if c.tty != nil {
		c.tty.Close()
	}
}

func (c *Child) ptyStopped() <-chan struct{} {
	if c.pty == nil {
		return nil
	}
	return c.pty.stopped
}

// siginfoPidCode extracts si_pid and si_code from a SIGCHLD siginfo. On
// Linux si_code is the third int32 and si_pid opens the union at offset 16
// on every architecture Go supports.
func siginfoPidCode(info *unix.Siginfo) (pid, code int) {
	b := (*[32]byte)(unsafe.Pointer(info))
	code = int(int32(binary.NativeEndian.Uint32(b[8:12])))
	pid = int(int32(binary.NativeEndian.Uint32(b[16:20])))
	return pid, code
}
