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
// processes it left behind, and goes to the hand-off.
const teeDrain = 10 * time.Millisecond

// stderrCapture obtains the tail of the child's stderr for one of the
// modes above. The pipe mode owns one goroutine, joined by finish.
type stderrCapture struct {
	mode     string
	maxBytes int
	maxLines int

	// file mode
	startSize int64
	srcFd     int

	// pipe mode and pty mode
	tail    *Tail
	r, w    *os.File
	dst     int
	done    chan struct{}
	handoff func(*os.File) error

	mu       sync.Mutex
	draining bool
	eof      bool // every writer has closed the tee
	broken   bool // the real stderr's reader went away
}

// newStderrCapture decides how to capture stderr. maxBytes 0 turns capture
// off.
func newStderrCapture(stderr, stdout *os.File, maxBytes, maxLines int, pty bool, handoff func(*os.File) error) (*stderrCapture, error) {
	c := &stderrCapture{mode: StderrNone, maxBytes: maxBytes, maxLines: maxLines, handoff: handoff}
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

// started runs after the fork: the tee starts copying.
func (c *stderrCapture) started() {
	if c.mode != StderrPipe {
		return
	}
	c.w.Close()
	go c.copy()
}

// abort releases the tee when the child could not be started.
func (c *stderrCapture) abort() {
	if c.mode == StderrPipe {
		c.w.Close()
		c.r.Close()
	}
}

// copy passes everything from the tee to the real stderr, keeping the tail.
// If the real stderr's reader is gone, it closes the tee so that the child's
// next write fails with EPIPE/SIGPIPE as it would have directly.
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
// grandchild may keep it open; graphsignal does not wait for it).
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

// release lets go of the tee once the child has exited. When processes
// the child left behind still hold it (a background job), closing it would
// make their next write fail with SIGPIPE, which it would not directly: the
// rest of the copying is handed off to a process that outlives graphsignal.
func (c *stderrCapture) release() {
	c.mu.Lock()
	open := !c.eof && !c.broken
	c.mu.Unlock()
	if !open {
		c.r.Close()
		return
	}
	_ = c.r.SetReadDeadline(time.Time{})
	if c.handoff == nil || c.handoff(c.r) != nil {
		c.r.Close()
		return
	}
	c.r.Close()
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
	from := c.startSize
	cut := false
	if fi.Size()-from > int64(c.maxBytes) {
		from, cut = fi.Size()-int64(c.maxBytes), true
	}
	b := make([]byte, fi.Size()-from)
	n, err := f.ReadAt(b, from)
	if err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	return LastLines(b[:n], c.maxLines, cut)
}
