package launcher

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// teeDrain is how long the tee keeps reading, after the child has exited,
// once nothing more arrives. Everything the child wrote is already in the
// pipe when it exits, so a short wait suffices; what comes later is from
// processes it left behind, and goes to the keeper.
const teeDrain = 10 * time.Millisecond

// stderrCapture obtains the tail of the child's stderr for one of the
// modes above. The pipe mode owns the stderr keeper process
// (keeper_linux.go), which it releases, and two goroutines joined by
// finish: the copy, and the keeper's start when that follows the fork.
type stderrCapture struct {
	mode     string
	maxBytes int
	maxLines int

	// file mode
	startSize int64
	srcFd     int
	own       *OwnStderr // graphsignal's writes to the file, left out

	// pipe mode and pty mode
	tail        *Tail
	r, w        *os.File
	dst         int
	done        chan struct{}
	keeperArgv  []string
	keeperEarly bool          // start the keeper before the child, not after
	keeper      *keeper       // nil if none; set before keeperUp is closed
	keeperUp    chan struct{} // closed once the keeper's start is over

	mu       sync.Mutex
	draining bool
	eof      bool // every writer has closed the tee
	broken   bool // the real stderr's reader went away
}

// newStderrCapture decides how to capture stderr. maxBytes 0 turns capture
// off.
func newStderrCapture(stderr, stdout *os.File, maxBytes, maxLines int, pty bool, keeperArgv []string, keeperEarly bool) (*stderrCapture, error) {
	c := &stderrCapture{mode: StderrNone, maxBytes: maxBytes, maxLines: maxLines, keeperArgv: keeperArgv, keeperEarly: keeperEarly}
	if maxBytes <= 0 {
		return c, nil
	}
	if pty {
		c.mode, c.tail = StderrPTY, NewTail(maxBytes)
		return c, nil
	}
	if stderr == nil {
		return c, nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(stderr.Fd()), &st); err != nil {
		return c, nil
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		if stdout != nil && sameFile(stdout, &st) {
			// >log 2>&1: the file's tail is not the child's stderr alone.
			return c, nil
		}
		c.mode, c.startSize, c.srcFd = StderrFile, st.Size, int(stderr.Fd())
	case unix.S_IFCHR:
		if isTerminal(int(stderr.Fd())) {
			c.mode = StderrTerminal
		}
	case unix.S_IFIFO:
		// Sockets (the systemd journal, for one) are not teed: programs
		// compare their identity (JOURNAL_STREAM).
		if stdout != nil && sameFile(stdout, &st) {
			// 2>&1 into one pipe: a tee would change the interleaving.
			return c, nil
		}
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("stderr tee: %w", err)
		}
		c.mode, c.tail, c.r, c.w, c.dst, c.done = StderrPipe, NewTail(maxBytes), r, w, int(stderr.Fd()), make(chan struct{})
		c.keeperUp = make(chan struct{})
	}
	return c, nil
}

func sameFile(f *os.File, st *unix.Stat_t) bool {
	var o unix.Stat_t
	return unix.Fstat(int(f.Fd()), &o) == nil && o.Dev == st.Dev && o.Ino == st.Ino
}

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// childFd returns the descriptor to give the child as stderr instead of the
// original, or false to keep the original.
func (c *stderrCapture) childFd() (uintptr, bool) {
	if c.mode == StderrPipe {
		return c.w.Fd(), true
	}
	return 0, false
}

// beforeFork starts the keeper before the child when asked to (as PID 1,
// so that the keeper, older than the child, is never taken for one of the
// child's processes among the orphans graphsignal adopts).
func (c *stderrCapture) beforeFork() {
	if c.mode == StderrPipe && c.keeperEarly {
		c.keeper = startKeeper(c.keeperArgv, c.r, c.dst)
		close(c.keeperUp)
	}
}

// started runs after the fork: the tee starts copying and, unless it was
// started before the fork, the keeper is started beside the child, off the
// path of the child's start and of graphsignal's own work (the exec of
// graphsignal's binary takes 1–2 ms).
func (c *stderrCapture) started() {
	if c.mode != StderrPipe {
		return
	}
	c.w.Close()
	if !c.keeperEarly {
		go func() {
			defer close(c.keeperUp)
			c.keeper = startKeeper(c.keeperArgv, c.r, c.dst)
		}()
	}
	go c.copy()
}

// abort releases the tee and stops the keeper (started only before the
// fork) when the child could not be started.
func (c *stderrCapture) abort() {
	if c.mode == StderrPipe {
		c.w.Close()
		c.r.Close()
		c.keeper.stop()
	}
}

// copy passes everything from the tee to the real stderr, keeping the tail.
// If the real stderr's reader is gone, it closes the tee and stops the
// keeper, so that the child's next write fails with EPIPE/SIGPIPE as it
// would have directly.
func (c *stderrCapture) copy() {
	defer close(c.done)
	buf := make([]byte, 32*1024)
	for {
		n, err := c.r.Read(buf)
		if n > 0 {
			_, _ = c.tail.Write(buf[:n])
			if writeAll(c.dst, buf[:n]) != nil {
				c.mu.Lock()
				c.broken = true
				c.mu.Unlock()
				c.r.Close()
				<-c.keeperUp
				c.keeper.stop()
				return
			}
			c.mu.Lock()
			if c.draining {
				_ = c.r.SetReadDeadline(time.Now().Add(teeDrain))
			}
			c.mu.Unlock()
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				c.mu.Lock()
				c.eof = true
				c.mu.Unlock()
			}
			return
		}
	}
}

// finish collects the tail once the child has exited. The tee is drained
// until its writers close it or it has been quiet for a moment (a background
// grandchild may keep it open; graphsignal does not wait for it, the keeper
// copies the rest).
func (c *stderrCapture) finish() StderrTail {
	switch c.mode {
	case StderrPipe:
		c.mu.Lock()
		c.draining = true
		_ = c.r.SetReadDeadline(time.Now().Add(teeDrain))
		c.mu.Unlock()
		<-c.done
		c.release()
		return StderrTail{Mode: c.mode, Text: c.text(c.tail)}
	case StderrPTY:
		return StderrTail{Mode: c.mode, Text: c.text(c.tail)}
	case StderrFile:
		return StderrTail{Mode: c.mode, Text: c.fileTail()}
	}
	return StderrTail{Mode: c.mode}
}

// release lets go of the tee once the child has exited: graphsignal stops
// reading it. If processes the child left in the background still hold it,
// the keeper copies what they write (closing the tee would make their next
// write fail with SIGPIPE, which it would not directly); else the keeper is
// stopped.
func (c *stderrCapture) release() {
	c.mu.Lock()
	eof, broken := c.eof, c.broken
	c.mu.Unlock()
	if !broken {
		c.r.Close()
	}
	<-c.keeperUp
	if eof || broken {
		c.keeper.stop()
		return
	}
	c.keeper.release()
}

func (c *stderrCapture) text(t *Tail) string {
	b := t.Bytes()
	return LastLines(b, c.maxLines, t.Cut())
}

// fileTail reads what the child appended to the stderr file, through a new
// read-only descriptor (the inherited one is usually write-only).
func (c *stderrCapture) fileTail() string {
	f, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", c.srcFd))
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() <= c.startSize {
		return ""
	}
	// Read enough to fill the tail once graphsignal's own writes are left
	// out.
	from := c.startSize
	cut := false
	if want := int64(c.maxBytes + c.own.size()); fi.Size()-from > want {
		from, cut = fi.Size()-want, true
	}
	b := make([]byte, fi.Size()-from)
	n, err := f.ReadAt(b, from)
	if err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	b = c.own.leaveOut(b[:n])
	if len(b) > c.maxBytes {
		b, cut = b[len(b)-c.maxBytes:], true
	}
	return LastLines(b, c.maxLines, cut)
}
