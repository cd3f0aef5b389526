package launcher

import (
	"bytes"
	"io"
	"sync"
)

// ownStderrKept bounds what an OwnStderr keeps of graphsignal's own writes.
const ownStderrKept = 256 << 10

// OwnStderr is graphsignal's own writer to the stderr it shares with the
// child. Where that stderr is a regular file (mode StderrFile), the child's
// stderr tail is read back from the file, which also holds graphsignal's
// messages written during the run (a refused upload, --debug): the writes
// made through OwnStderr (the last 256 KiB of them) are left out of the
// tail. Each Write is passed to the underlying writer whole, one at a time.
type OwnStderr struct {
	w io.Writer

	mu     sync.Mutex
	writes [][]byte
	kept   int
}

// NewOwnStderr returns an OwnStderr that writes to w.
func NewOwnStderr(w io.Writer) *OwnStderr { return &OwnStderr{w: w} }

func (o *OwnStderr) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, err := o.w.Write(p)
	if n > 0 {
		o.writes = append(o.writes, bytes.Clone(p[:n]))
		o.kept += n
		for o.kept > ownStderrKept && len(o.writes) > 1 {
			o.kept -= len(o.writes[0])
			o.writes = o.writes[1:]
		}
	}
	return n, err
}

// size is how many bytes of writes are kept.
func (o *OwnStderr) size() int {
	if o == nil {
		return 0
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.kept
}

// leaveOut returns b without the writes made through o, each removed where
// it occurs in b, in order of writing; a write found nowhere (written
// before b starts) is passed over.
func (o *OwnStderr) leaveOut(b []byte) []byte {
	if o == nil {
		return b
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]byte, 0, len(b))
	rest := b
	for _, w := range o.writes {
		i := bytes.Index(rest, w)
		if i < 0 {
			continue
		}
		out = append(out, rest[:i]...)
		rest = rest[i+len(w):]
	}
	return append(out, rest...)
}
