package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/graphsignal/graphsignal/internal/journal"
)

// lockWait bounds how long lock waits for another process: the lock is
// held for a few system calls, so only a stopped or stuck holder (Ctrl-Z,
// a hung network file system) makes it run out, and then the caller gives
// up (ErrBusy) rather than delay a run's exit; what it was about to do is
// done by the next reader.
const lockWait = 50 * time.Millisecond

// lock takes the journal directory's exclusive lock, which serialises
// "retire, check, remove" between processes. It is held for a few system
// calls. It returns an error wrapping ErrBusy when another process holds
// it for longer than lockWait.
func (d *Dir) lock() (unlock func(), err error) {
	if err := os.MkdirAll(d.JournalDir(), 0o700); err != nil {
		return nil, fmt.Errorf("lock journals: %w", err)
	}
	f, err := os.Open(d.JournalDir())
	if err != nil {
		return nil, fmt.Errorf("lock journals: %w", err)
	}
	deadline := time.Now().Add(lockWait)
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if errors.Is(err, unix.EWOULDBLOCK) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
			continue
		}
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.EWOULDBLOCK) {
		_ = f.Close()
		return nil, fmt.Errorf("lock journals: held by another process for over %v: %w", lockWait, ErrBusy)
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock journals: %w", err)
	}
	return func() { _ = f.Close() }, nil
}

// needed reports whether any destination's cursor is pending for journal.
// Called with the lock held.
func (d *Dir) needed(journal string) (bool, error) {
	entries, err := os.ReadDir(d.uploadDir())
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check cursors: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		_, err := os.Stat(filepath.Join(d.uploadDir(), e.Name(), journal+extCursor))
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("check cursors: %w", err)
		}
	}
	return false, nil
}

// removeJournal deletes journal and its imported marker. Called with the
// lock held.
func (d *Dir) removeJournal(name string) error {
	if err := journal.Remove(d.JournalDir(), name); err != nil {
		return err
	}
	if err := os.Remove(d.importedPath(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove journal: %w", err)
	}
	return nil
}

// imported is called by the importer once journal is final and wholly in
// the store: it removes the journal, or, while destinations still need it,
// marks it imported for the last of them to remove.
func (d *Dir) imported(name string) error {
	unlock, err := d.lock()
	if err != nil {
		return err
	}
	defer unlock()
	need, err := d.needed(name)
	if err != nil {
		return err
	}
	if !need {
		return d.removeJournal(name)
	}
	if _, err := os.Stat(d.importedPath(name)); err == nil {
		return nil
	}
	if err := writeNew(d.JournalDir(), "."+name+extImported, nil); err != nil {
		return fmt.Errorf("mark journal imported: %w", err)
	}
	return nil
}

// retire renames dest's cursor file of journal to its marker (with extra
// appended first), then removes the journal when it is imported and no
// other destination needs it.
func (d *Dir) retire(c *Cursor, marker string, extra []byte) error {
	unlock, err := d.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if len(extra) > 0 {
		// In place of a refusal line (Cursor.Refused), which may be longer.
		if _, err := c.f.WriteAt(extra, recordSize); err != nil {
			return fmt.Errorf("retire cursor: %w", err)
		}
		if err := c.f.Truncate(recordSize + int64(len(extra))); err != nil {
			return fmt.Errorf("retire cursor: %w", err)
		}
	}
	dir := d.destDir(c.dest)
	if err := os.Rename(filepath.Join(dir, c.journal+extCursor), filepath.Join(dir, c.journal+marker)); err != nil {
		return fmt.Errorf("retire cursor: %w", err)
	}
	for _, kind := range stateKinds {
		if err := os.Remove(filepath.Join(dir, c.journal+string(kind))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("retire cursor: %w", err)
		}
	}
	need, err := d.needed(c.journal)
	if err != nil || need {
		return err
	}
	if _, err := os.Stat(d.importedPath(c.journal)); err != nil {
		return nil // the importer has not finished it: it removes it
	}
	return d.removeJournal(c.journal)
}
