package launcher

import (
	"os"

	"golang.org/x/sys/unix"
)

// exitWatch reports a child's exit through a pidfd in Go's network poller:
// no signal handler to install (a round trip to the runtime's signal
// thread) and no thread blocked in wait. A pidfd is readable once its
// process has exited.
type exitWatch struct {
	f *os.File
	// done receives once: nil when the child has exited, else the reason
	// the watch failed (the caller then falls back to SIGCHLD).
	done chan error
}

// watchExit starts watching pid, which must be an unreaped child of this
// process. It fails before Linux 5.10 (pidfd_open with PIDFD_NONBLOCK).
func watchExit(pid int) (*exitWatch, error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	w := &exitWatch{f: f, done: make(chan error, 1)}
	go func() {
		// Read waits for readability whenever the check says "not yet";
		// it fails at once if the poller does not take the pidfd.
		w.done <- rc.Read(func(uintptr) bool { return exited(pid) })
	}()
	return w, nil
}

// exited reports whether pid has exited, without reaping it.
func exited(pid int) bool {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			// ECHILD: there is nothing left to wait for; the caller's
			// poll says why.
			return true
		}
		break
	}
	got, _ := siginfoPidCode(&info)
	return got == pid
}

// close ends the watch: its goroutine returns soon after, as Read fails on
// the closed file (done then holds the error, unless it was read already).
func (w *exitWatch) close() { w.f.Close() }
