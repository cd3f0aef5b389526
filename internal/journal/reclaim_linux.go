package journal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Reclaim gives the file system back the disk blocks of the journal name
// in dir up to upTo, which every reader has consumed, but its first line
// (the run's span as it started) and the last keep bytes before upTo
// (whole lines): a destination that resumes the journal after another
// process sent part of it primes its state from those (docs/upload.md).
// The range becomes a hole that reads as zero bytes, while the file's size
// and every offset into it stay as they were, so import offsets and
// delivery cursors need no change (docs/store.md, "Long runs"). Readers
// pass over the zeros, and Append counts only the bytes outside the hole
// towards the journal's bound. upTo must be a line boundary (an offset a
// Reader returned as Next). Reclaiming a range again costs little; a range
// too short to matter is left alone. It returns the bytes the hole spans
// now, ErrReclaimUnsupported when the file system cannot punch holes, and
// an error wrapping os.ErrNotExist when the journal is gone.
func Reclaim(dir, name string, upTo, keep int64) (int64, error) {
	f, err := os.OpenFile(filepath.Join(dir, name+Ext), os.O_WRONLY, 0)
	if err != nil {
		return 0, fmt.Errorf("reclaim journal: %w", err)
	}
	defer f.Close()
	r, err := os.Open(f.Name())
	if err != nil {
		return 0, fmt.Errorf("reclaim journal: %w", err)
	}
	defer r.Close()
	from, err := lineEnd(r, 0)
	if err != nil {
		return 0, fmt.Errorf("reclaim journal %s: %w", f.Name(), err)
	}
	to := upTo
	if keep > 0 {
		if to, err = lineEnd(r, upTo-keep); err != nil {
			return 0, fmt.Errorf("reclaim journal %s: %w", f.Name(), err)
		}
		to = min(to, upTo)
	}
	if to-from < minHole {
		return reclaimed(f), nil
	}
	err = unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, from, to-from)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return 0, ErrReclaimUnsupported
	}
	if err != nil {
		return 0, fmt.Errorf("reclaim journal %s: %w", f.Name(), err)
	}
	return reclaimed(f), nil
}

// minHole is the least range Reclaim punches: a few blocks.
const minHole = 64 << 10

// lineEnd returns the offset just past the first newline at or after off
// (within 1 MiB; off itself when there is none that near, or when off is
// in a hole, which is as good as a line boundary to a Reader).
func lineEnd(r *os.File, off int64) (int64, error) {
	if off <= 0 {
		off = 0
	}
	buf := make([]byte, 64<<10)
	for pos := off; pos < off+1<<20; {
		n, err := r.ReadAt(buf, pos)
		if pos == off && n > 0 && buf[0] == 0 {
			return off, nil
		}
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return pos + int64(i) + 1, nil
		}
		pos += int64(n)
		if errors.Is(err, io.EOF) {
			return off, nil
		}
		if err != nil {
			return 0, err
		}
	}
	return off, nil
}

// reclaimed returns the bytes of f's first hole (a journal has at most
// one): 0 when it has none or holes cannot be found.
func reclaimed(f *os.File) int64 {
	fd := int(f.Fd())
	start, err := unix.Seek(fd, 0, unix.SEEK_HOLE)
	if err != nil {
		return 0
	}
	end, err := unix.Seek(fd, start, unix.SEEK_DATA)
	if errors.Is(err, unix.ENXIO) {
		if fi, err := f.Stat(); err == nil {
			end = fi.Size()
		}
	} else if err != nil {
		return 0
	}
	return max(end-start, 0)
}

// dataFrom returns the offset of the first byte at or after off that is
// not in a hole (the block holding it: zero bytes of a partly reclaimed
// block are data), or the file's size when only a hole follows; off itself
// where holes cannot be found.
func dataFrom(f *os.File, off int64) int64 {
	next, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
	switch {
	case err == nil:
		return next
	case errors.Is(err, unix.ENXIO):
		if fi, err := f.Stat(); err == nil {
			return fi.Size()
		}
	}
	return off
}
