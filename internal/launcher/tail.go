package launcher

import (
	"bytes"
	"sync"
)

// Tail keeps the last bytes written to it, up to a fixed capacity. It is
// safe for concurrent use.
type Tail struct {
	mu   sync.Mutex
	buf  []byte
	size int
	full bool
	pos  int
}

// NewTail returns a Tail that keeps the last size bytes.
func NewTail(size int) *Tail { return &Tail{buf: make([]byte, size), size: size} }

// Write records p; it never fails.
func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if n >= t.size {
		copy(t.buf, p[n-t.size:])
		t.pos, t.full = 0, true
		return n, nil
	}
	for len(p) > 0 {
		c := copy(t.buf[t.pos:], p)
		t.pos += c
		p = p[c:]
		if t.pos == t.size {
			t.pos, t.full = 0, true
		}
	}
	return n, nil
}

// Bytes returns a copy of the kept bytes, oldest first.
func (t *Tail) Bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.full {
		return append([]byte(nil), t.buf[:t.pos]...)
	}
	out := make([]byte, 0, t.size)
	out = append(out, t.buf[t.pos:]...)
	return append(out, t.buf[:t.pos]...)
}

// LastLines returns at most n of the last lines of b, without the final
// newline. When cut is true b is known to start mid-stream, so a partial
// first line is dropped.
func LastLines(b []byte, n int, cut bool) string {
	if cut {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	b = bytes.TrimRight(b, "\n")
	start := len(b)
	for i := 0; i < n; i++ {
		j := bytes.LastIndexByte(b[:start], '\n')
		if j < 0 {
			return string(b)
		}
		start = j
	}
	return string(b[start+1:])
}

// Cut reports whether older bytes were discarded.
func (t *Tail) Cut() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.full
}
