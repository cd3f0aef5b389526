package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/graphsignal/graphsignal/internal/journal"
)

// Trim applies the spool bounds to dest and returns the number of records
// it dropped: a pending journal not written for longer than the age bound
// is dropped, then, while the journal bytes pending for dest (not yet
// acknowledged) pass the size bound, the oldest pending journal is dropped.
// A cursor held by a process (ErrBusy) is skipped: its holder is
// delivering it. Each drop is counted (Dropped) and leaves a "dropped"
// marker (Status). Trim also retires cursors whose journal never appeared
// (a run that expected it and died before creating it), and removes
// delivered and dropped markers older than the store's retention.
func (d *Dir) Trim(dest string) (int64, error) {
	names, err := d.cursors(dest)
	if err != nil {
		return 0, fmt.Errorf("trim: %w", err)
	}
	now := d.now()
	type entry struct {
		name    string
		pending int64
	}
	var kept []entry
	var total, dropped int64
	for _, name := range names {
		fi, err := os.Stat(d.journalPath(name))
		var why string
		switch {
		case errors.Is(err, os.ErrNotExist):
			cfi, err := os.Stat(filepath.Join(d.destDir(dest), name+extCursor))
			if err != nil || now.Sub(cfi.ModTime()) < orphanGrace {
				continue
			}
			why = "journal missing"
		case err != nil:
			return dropped, fmt.Errorf("trim: %w", err)
		case d.maxAge > 0 && now.Sub(fi.ModTime()) > d.maxAge:
			why = fmt.Sprintf("waited longer than %v", d.maxAge)
		}
		if why != "" {
			n, err := d.dropJournal(dest, name, why)
			dropped += n
			if err == nil {
				continue
			}
			if !errors.Is(err, ErrBusy) {
				return dropped, err
			}
			if fi == nil {
				continue // an orphan in use: nothing pending to count
			}
		}
		c, err := d.peek(dest, name)
		if errors.Is(err, ErrNotPending) {
			continue // delivered meanwhile
		}
		if err != nil {
			return dropped, fmt.Errorf("trim: %w", err)
		}
		e := entry{name: name, pending: max(fi.Size()-c, 0)}
		total += e.pending
		kept = append(kept, e)
	}
	for _, e := range kept {
		if d.maxBytes <= 0 || total <= d.maxBytes {
			break
		}
		n, err := d.dropJournal(dest, e.name, fmt.Sprintf("more than %d bytes waited", d.maxBytes))
		if errors.Is(err, ErrBusy) {
			continue
		}
		dropped += n
		if err != nil {
			return dropped, err
		}
		total -= e.pending
	}
	if err := d.pruneMarkers(dest); err != nil {
		return dropped, err
	}
	return dropped, nil
}

// dropJournal claims dest's cursor on name and drops it, counting the
// records not acknowledged. A busy or no longer pending cursor drops
// nothing (ErrBusy is returned for the size rule to skip it).
func (d *Dir) dropJournal(dest, name, why string) (int64, error) {
	c, err := d.Claim(dest, name)
	if errors.Is(err, ErrBusy) {
		return 0, ErrBusy
	}
	if errors.Is(err, ErrNotPending) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("trim: %w", err)
	}
	n, err := d.countRecords(name, c.Offset())
	if err != nil {
		_ = c.Release()
		return 0, fmt.Errorf("trim: %w", err)
	}
	if err := c.Drop(n, why); err != nil {
		return 0, fmt.Errorf("trim: %w", err)
	}
	return n, nil
}

// countRecords counts the records of journal name from offset on.
func (d *Dir) countRecords(name string, offset int64) (int64, error) {
	r, err := journal.Open(d.JournalDir(), name)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer r.Close()
	var n int64
	for {
		c, err := r.Read(offset, importChunk)
		if err != nil {
			return n, err
		}
		for i := range c.Batches {
			n += int64(c.Batches[i].Len())
		}
		n += int64(c.Skipped)
		if c.EOF || c.Next == offset {
			return n, nil
		}
		offset = c.Next
	}
}

// pruneMarkers removes dest's delivered and dropped markers older than
// markerKeep.
func (d *Dir) pruneMarkers(dest string) error {
	dir := d.destDir(dest)
	for _, ext := range []string{extDelivered, extDropped} {
		names, err := listExt(dir, ext)
		if err != nil {
			return fmt.Errorf("trim: %w", err)
		}
		for _, n := range names {
			p := filepath.Join(dir, n+ext)
			if fi, err := os.Stat(p); err == nil && d.now().Sub(fi.ModTime()) > markerKeep {
				_ = os.Remove(p)
			}
		}
	}
	return nil
}
