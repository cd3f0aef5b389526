package launcher

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// The stderr keeper is a small process, started just before the child, that holds
// the read end of the stderr tee so that the child keeps its stderr whatever
// happens to graphsignal (docs/launcher.md). While graphsignal copies, the
// keeper only waits; once graphsignal lets go of the tee (at exit, when the
// real stderr's reader is gone, or because it was killed) the keeper copies
// what is left to the real stderr until every writer has closed the tee.
//
// The lifeline tells it when: a pipe whose write end only graphsignal holds
// (close-on-exec, so the child does not inherit it). End-of-file on it means
// graphsignal has closed it or has died.

// keeperLifelineFd is the keeper's descriptor of the lifeline's read end.
const keeperLifelineFd = 3

// keeper is a started stderr keeper, seen from graphsignal.
type keeper struct {
	pid      int
	pidfd    int // refers to the keeper whatever reaps it; -1 without pidfd support
	lifeline int // write end; closing it hands the tee over; -1 once closed
}

// startKeeper starts argv as the keeper of the tee r, with stderr as the
// real stderr. It returns nil when the keeper cannot be started: the tee
// then works without protection against graphsignal's death. The keeper is
// not waited for (as PID 1, Wait reaps it with the other orphans). Nil-safe
// release.
func startKeeper(argv []string, r *os.File, stderr int) *keeper {
	if len(argv) == 0 {
		return nil
	}
	// r.Fd() would put the tee in blocking mode, which the copy's read
	// deadlines need it not to be: its descriptor is borrowed instead.
	rc, err := r.SyscallConn()
	if err != nil {
		return nil
	}
	var p [2]int
	if unix.Pipe2(p[:], unix.O_CLOEXEC) != nil {
		return nil
	}
	defer unix.Close(p[0])
	var pid int
	pidfd := -1
	var forkErr error
	err = rc.Control(func(tee uintptr) {
		attr := &syscall.ProcAttr{
			Env:   []string{},
			Files: []uintptr{tee, uintptr(stderr), uintptr(stderr), uintptr(p[0])},
			// Its own process group: a Ctrl-C for the foreground group is
			// for the program, not for the copy of its stderr.
			Sys: &syscall.SysProcAttr{Setpgid: true, PidFD: &pidfd},
		}
		pid, forkErr = forkExec(argv[0], argv, attr)
	})
	if err != nil || forkErr != nil {
		_ = unix.Close(p[1])
		if pidfd >= 0 {
			_ = unix.Close(pidfd)
		}
		return nil
	}
	// While graphsignal copies, the keeper only waits: its start-up (a Go
	// runtime's) yields the CPU to the program and to graphsignal.
	_ = unix.Setpriority(unix.PRIO_PROCESS, pid, 19)
	return &keeper{pid: pid, pidfd: pidfd, lifeline: p[1]}
}

// release hands the tee over to the keeper: graphsignal no longer reads it,
// and processes the child left behind may still write to it. Nil-safe;
// only the first of release and stop counts.
func (k *keeper) release() {
	if k != nil && k.lifeline >= 0 {
		_ = unix.Close(k.lifeline)
		k.lifeline = -1
	}
}

// stop ends the keeper when it has nothing to do: every writer has closed
// the tee, or the real stderr's reader is gone. Killing it rather than
// waking it lets go of the real stderr at once, even while its start-up is
// still under way, so that a reader waiting for the end of graphsignal's
// stderr (`$(graphsignal run ... 2>&1)`) does not wait for the keeper. It
// is then reaped, so that no zombie is left to an init that does not reap
// (a container whose PID 1 is an application). As PID 1, graphsignal's
// reaper of orphans may have reaped it already and its pid may have been
// reused: the kill and the wait go through its pidfd, which refers to the
// keeper alone (ESRCH and ECHILD once it is gone). Without pidfd support
// (Linux before 5.4), by pid. Nil-safe.
func (k *keeper) stop() {
	if k == nil || k.lifeline < 0 {
		return
	}
	if k.pidfd >= 0 {
		_ = unix.PidfdSendSignal(k.pidfd, unix.SIGKILL, nil, 0)
	} else {
		_ = unix.Kill(k.pid, unix.SIGKILL)
	}
	k.release()
	for {
		var err error
		if k.pidfd >= 0 {
			var info unix.Siginfo
			err = unix.Waitid(unix.P_PIDFD, k.pidfd, &info, unix.WEXITED, nil)
		} else {
			var ws unix.WaitStatus
			_, err = unix.Wait4(k.pid, &ws, 0, nil)
		}
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if k.pidfd >= 0 {
		_ = unix.Close(k.pidfd)
		k.pidfd = -1
	}
}

// KeepStderr is the body of the stderr keeper process (see
// Config.StderrKeeper): it waits until graphsignal lets go of the tee (its
// lifeline, descriptor 3, reaches end-of-file), then copies tee to stderr
// until the tee's writers have all closed it or stderr's reader is gone, and
// returns. Without a lifeline it copies at once. It ignores the signals a
// terminal, a hang-up or a `killall graphsignal` sends: it ends when the
// program's stderr does.
func KeepStderr(tee, stderr *os.File) error {
	signal.Ignore(unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGPIPE)
	var b [1]byte
	for {
		_, err := unix.Read(keeperLifelineFd, b[:])
		if !errors.Is(err, unix.EINTR) {
			break // EOF, a byte, or no lifeline (EBADF): copy now
		}
	}
	_ = unix.Close(keeperLifelineFd)
	if err := copyFd(int(stderr.Fd()), int(tee.Fd())); err != nil {
		return fmt.Errorf("keep stderr: %w", err)
	}
	return nil
}

// copyFd copies src to dst until src ends or a write fails; a write to a
// reader that went away (EPIPE) ends it without an error. Either may be in
// non-blocking mode (the tee is, as graphsignal's poller left it): it then
// waits in poll(2).
func copyFd(dst, src int) error {
	buf := make([]byte, 32*1024)
	for {
		n, err := unix.Read(src, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			waitFd(src, unix.POLLIN)
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		for b := buf[:n]; len(b) > 0; {
			w, err := unix.Write(dst, b)
			switch {
			case errors.Is(err, unix.EINTR):
			case errors.Is(err, unix.EAGAIN):
				waitFd(dst, unix.POLLOUT)
			case errors.Is(err, unix.EPIPE):
				return nil
			case err != nil:
				return err
			default:
				b = b[w:]
			}
		}
	}
}

// waitFd waits until fd is ready for events (or has an error or hang-up).
func waitFd(fd int, events int16) {
	_, _ = unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: events}}, -1)
}
