package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// The importer takes *store.Store rather than an interface of its own: the
// Indexer opens the database itself and branches on store.ErrBusy, there is
// no second implementation, and the tests use a real SQLite file.

const (
	// pruneEvery is how often retention is applied.
	pruneEvery = 24 * time.Hour
	// importChunk bounds the journal bytes imported per transaction, so
	// that stopping an Indexer (at a run's exit) waits for little decoding.
	importChunk = 1 << 20
	// defaultReclaimStep is how many newly imported bytes of a live
	// journal make the importer reclaim its consumed start: about 70
	// minutes of 1 s samples (docs/store.md, "Long runs").
	defaultReclaimStep = 8 << 20
	// defaultReclaimKeep is how much of a live journal before what every
	// reader consumed is kept, with its first line, for a destination that
	// resumes it to prime its state (counters' last values; docs/upload.md):
	// about 9 minutes of 1 s samples.
	defaultReclaimKeep = 1 << 20
)

// ImportReport says what ImportAll had to pass over.
type ImportReport struct {
	// Damaged counts undecodable records skipped (torn or damaged lines).
	Damaged int
	// Unreadable holds an error for each journal that could not be read
	// (left in place).
	Unreadable []error
}

// journalError marks a failure to read a journal file, as opposed to a
// database failure: the journal is passed over, the import goes on.
type journalError struct{ err error }

func (e journalError) Error() string { return e.err.Error() }
func (e journalError) Unwrap() error { return e.err }

// listing is one read of the journal directory: the journals and those
// marked imported (final and wholly in the store, kept for destinations).
type listing struct {
	names    []string
	imported map[string]bool
}

func (d *Dir) list() (listing, error) {
	var l listing
	entries, err := os.ReadDir(d.JournalDir())
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return l, fmt.Errorf("list journals: %w", err)
	}
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		switch {
		case strings.HasPrefix(n, ".") && strings.HasSuffix(n, extImported):
			if l.imported == nil {
				l.imported = make(map[string]bool)
			}
			l.imported[strings.TrimSuffix(n[1:], extImported)] = true
		case !strings.HasPrefix(n, ".") && strings.HasSuffix(n, journal.Ext):
			l.names = append(l.names, strings.TrimSuffix(n, journal.Ext))
		}
	}
	sort.Strings(l.names)
	return l, nil
}

// ImportAll moves what the journals hold into st, oldest journal first,
// and removes each journal that is final, wholly imported and not pending
// for any destination (see the package documentation). Live journals
// (their run goes on) are imported up to their last complete record. A
// journal that cannot be read (permissions, I/O) is left in place and
// reported; a database error stops the import and is returned.
func (d *Dir) ImportAll(ctx context.Context, st *store.Store) (ImportReport, error) {
	var rep ImportReport
	l, err := d.list()
	if err != nil {
		return rep, err
	}
	for _, name := range l.names {
		if l.imported[name] {
			// Already in the store. While a cursor is pending its holder
			// removes it (cursors are never added to an existing journal,
			// so this needs no lock); a destination killed between
			// retiring its cursor and removing the journal leaves it to us.
			if need, err := d.needed(name); need || err != nil {
				continue
			}
			if err := d.imported(name); err != nil {
				rep.Unreadable = append(rep.Unreadable, err)
			}
			continue
		}
		damaged, err := d.importJournal(ctx, st, name)
		rep.Damaged += damaged
		var je journalError
		if errors.As(err, &je) {
			rep.Unreadable = append(rep.Unreadable, je.err)
			continue
		}
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (d *Dir) importJournal(ctx context.Context, st *store.Store, name string) (damaged int, err error) {
	r, err := journal.Open(d.JournalDir(), name)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil // imported and removed by another process meanwhile
	}
	if err != nil {
		return 0, journalError{err}
	}
	defer r.Close()
	first, next := int64(-1), int64(0)
	for {
		var chunk journal.Chunk
		next, err = st.Import(ctx, name, func(offset int64) ([]telemetry.Batch, int64, error) {
			if first < 0 {
				first = offset
			}
			c, err := r.Read(offset, importChunk)
			chunk = c
			if err != nil {
				return nil, offset, journalError{err}
			}
			return c.Batches, c.Next, nil
		})
		damaged += chunk.Skipped
		if err != nil {
			return damaged, err
		}
		if chunk.EOF {
			break
		}
	}
	if !r.Final() {
		// A long run's journal: each time another reclaimStep bytes are
		// imported, give back what every reader has consumed.
		if first >= 0 && next/d.reclaimStep > first/d.reclaimStep {
			d.reclaim(name, next)
		}
		return damaged, nil
	}
	// The writer is gone: a run with no end recorded by now never
	// gets one (graphsignal was killed, or the disk was full at exit).
	if _, run, ok := JournalRun(name); ok {
		if _, err := st.EndAbandoned(ctx, run); err != nil {
			return damaged, err
		}
	}
	if err := d.imported(name); err != nil {
		return damaged, journalError{err}
	}
	return damaged, nil
}

// reclaim gives the file system back the blocks of journal name up to
// upTo (imported into the store), less what a destination has not
// acknowledged yet, but its first line and the last reclaimKeep bytes
// (journal.Reclaim): a run of many days keeps appending to its journal
// while the disk holds only what some reader still needs.
// Failures (a file system without holes) leave the journal as it is.
func (d *Dir) reclaim(name string, upTo int64) {
	dests, err := d.destinations()
	if err != nil {
		return
	}
	for _, dest := range dests {
		off, err := d.peek(dest, name)
		if errors.Is(err, ErrNotPending) {
			continue // delivered, dropped, or never expected there
		}
		if err != nil {
			return
		}
		upTo = min(upTo, off)
	}
	_, _ = journal.Reclaim(d.JournalDir(), name, upTo, d.reclaimKeep)
}

// PruneDaily applies the store's retention (store.DefaultMaxAge,
// store.DefaultMaxBytes) and the spool bounds of every destination (Trim)
// when they have not been applied for a day, recording when in the marker
// file DATA/last-prune.
func (d *Dir) PruneDaily(ctx context.Context, st *store.Store) {
	marker := filepath.Join(d.data, "last-prune")
	if fi, err := os.Stat(marker); err == nil && d.now().Sub(fi.ModTime()) < pruneEvery {
		return
	}
	if _, err := st.Downsample(ctx, d.now(), store.DefaultTiers); err != nil {
		return
	}
	if err := st.Prune(ctx, store.DefaultMaxAge, store.DefaultMaxBytes); err != nil {
		return
	}
	// The spool bounds hold for every destination, also those no longer
	// configured (a removed key, a changed endpoint), whose journals
	// would otherwise wait forever.
	dests, _ := d.Destinations()
	for _, dest := range dests {
		_, _ = d.Trim(dest)
	}
	_ = os.WriteFile(marker, nil, 0o600)
}

// HasJournals reports whether any journal is waiting in the data dir.
func (d *Dir) HasJournals() bool {
	names, _ := journal.List(d.JournalDir())
	return len(names) > 0
}
