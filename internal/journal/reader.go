package journal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// MaxLine bounds one line a Reader accepts; a longer line (a Writer never
// writes one) is skipped.
const MaxLine = 64 << 20

// Reader reads one journal. It is not safe for concurrent use.
type Reader struct {
	f     *os.File
	final bool
	buf   []byte // reused by Read: decoded batches never point into it
}

// Open opens the journal name in dir for reading and finds out whether it is
// final (no writer left; see the package documentation). It returns an
// error wrapping os.ErrNotExist when the journal is gone.
func Open(dir, name string) (*Reader, error) {
	f, err := os.Open(filepath.Join(dir, name+Ext))
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	switch {
	case err == nil:
		return &Reader{f: f, final: true}, nil
	case errors.Is(err, unix.EWOULDBLOCK):
		return &Reader{f: f}, nil
	default:
		_ = f.Close()
		return nil, fmt.Errorf("open journal %s: lock: %w", f.Name(), err)
	}
}

// Final reports whether the journal's writer is gone, so that what Read
// returns up to the end of the file is all there will ever be.
func (r *Reader) Final() bool { return r.final }

// Chunk is what one Read returns.
type Chunk struct {
	// Batches are read-only: their records may share maps.
	Batches []telemetry.Batch
	// Next is the offset to read from next time.
	Next int64
	// Skipped counts lines that could not be decoded (damaged file, a line
	// over MaxLine, or a final journal's torn last line); they are passed
	// over, never retried.
	Skipped int
	// EOF reports that Next is the end of what can be read now: all of a
	// final journal, or every complete line of a live one.
	EOF bool
}

// Read decodes the complete lines that start at offset, up to about max
// bytes (at least one line, however long, up to MaxLine). In a live journal
// an incomplete last line is left for a later Read; in a final one it is a
// torn write and is skipped.
func (r *Reader) Read(offset int64, max int) (Chunk, error) {
	if max <= 0 {
		max = 4 << 20
	}
	c := Chunk{Next: offset}
	// Sized to what the file holds past offset (plus one byte, so that a
	// short read says EOF): a background importer opens the live journal
	// at every pass to read a few new lines, and a buffer of max bytes
	// each time made megabytes of garbage per second at short intervals.
	fi, err := r.f.Stat()
	if err != nil {
		return c, fmt.Errorf("read journal %s: %w", r.f.Name(), err)
	}
	if c.Next, err = r.skipHole(c.Next, fi.Size()); err != nil {
		return c, err
	}
	left := fi.Size() - c.Next
	if left < 0 {
		left = 0
	}
	buf := r.scratch(int(min(int64(max), left+1)))
	defer r.release()
	for {
		n, err := r.f.ReadAt(buf, c.Next)
		if err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("read journal %s: %w", r.f.Name(), err)
		}
		data := buf[:n]
		atEOF := n < len(buf)
		if end := bytes.LastIndexByte(data, '\n'); end >= 0 {
			c.decodeLines(data[:end+1])
			if atEOF {
				c.EOF = true
				if tail := n - end - 1; tail > 0 && r.final {
					c.Skipped++ // a torn last line
					c.Next += int64(tail)
				}
			}
			return c, nil
		}
		// No complete line in buf.
		switch {
		case atEOF && n > 0 && r.final:
			c.Skipped++ // a torn last line
			c.Next += int64(n)
			c.EOF = true
			return c, nil
		case atEOF:
			c.EOF = true
			return c, nil
		case len(buf) >= MaxLine:
			next, err := r.skipLine(c.Next + int64(n))
			c.Skipped++
			c.Next = next
			return c, err
		}
		buf = r.scratch(min(2*len(buf), MaxLine))
	}
}

// skipHole returns the offset of the first byte at or after off that is
// not zero: zero bytes never occur in a line (the encoder escapes them),
// so they are a reclaimed range of the journal (Reclaim), which a reader
// from an offset before it (a destination priming its state from the
// journal's start) passes over as if those lines were never there.
func (r *Reader) skipHole(off, size int64) (int64, error) {
	var b [4096]byte
	look := int64(1) // a line starts here, almost always: one byte says so
	for off < size {
		n, err := r.f.ReadAt(b[:min(look, size-off)], off)
		look = int64(len(b))
		if n == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return off, nil
			}
			return off, fmt.Errorf("read journal %s: %w", r.f.Name(), err)
		}
		i := 0
		for i < n && b[i] == 0 {
			i++
		}
		if i < n {
			return off + int64(i), nil
		}
		// A block of zeros: jump over the hole, if the file system
		// says where it ends.
		off = max(off+int64(n), dataFrom(r.f, off+int64(n)))
	}
	return off, nil
}

// scratch returns r.buf with length n, grown if needed.
func (r *Reader) scratch(n int) []byte {
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	return r.buf[:n]
}

// release lets go of a buffer grown for a long line.
func (r *Reader) release() {
	if cap(r.buf) > 16<<20 {
		r.buf = nil
	}
}

// skipLine returns the offset just past the next newline at or after off,
// or the end of the file.
func (r *Reader) skipLine(off int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for {
		n, err := r.f.ReadAt(buf, off)
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return off + int64(i) + 1, nil
		}
		off += int64(n)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return off, nil
			}
			return off, fmt.Errorf("read journal %s: %w", r.f.Name(), err)
		}
	}
}

func (c *Chunk) decodeLines(data []byte) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		// A line right after a reclaimed range starts with its zeros.
		line := bytes.TrimLeft(data[:i], "\x00")
		data = data[i+1:]
		c.Next += int64(i + 1)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		b, err := decodeBatch(line)
		if err != nil {
			c.Skipped++
			continue
		}
		c.Batches = append(c.Batches, b)
	}
}

// Close closes the file and releases the reader's lock.
func (r *Reader) Close() error { return r.f.Close() }
