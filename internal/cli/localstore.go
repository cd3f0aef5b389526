package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/pipeline"
	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// The local store's write path (docs/store.md): a run appends its records to
// its own journal and never waits for SQLite, at start or at exit. Journals
// are moved into the database by the next command that reads it (sessions,
// show) and, while a run lasts longer than indexAfter, by that run's
// background indexer. Either applies retention once a day.

const (
	// indexAfter is how long a child must run before its graphsignal opens
	// the database: shorter runs never touch SQLite.
	indexAfter = time.Second
	// pruneEvery is how often retention is applied.
	pruneEvery = 24 * time.Hour
	// importChunk bounds the journal bytes imported per transaction, so
	// that stopping an indexer (at a run's exit) waits for little decoding.
	importChunk = 1 << 20
)

// journalDir is where runs write their journals.
func journalDir(dataDir string) string { return filepath.Join(dataDir, "journal") }

// journalName names a run's journal so that journals sort by start time.
func journalName(start time.Time, run telemetry.SpanID) string {
	return fmt.Sprintf("%020d-%s", start.UnixNano(), run)
}

// journalExporter appends pipeline batches to the run's journal.
type journalExporter struct{ w *journal.Writer }

func (e journalExporter) Export(_ context.Context, b telemetry.Batch) error { return e.w.Append(b) }
func (e journalExporter) Close() error                                      { return e.w.Close() }

// openJournalExporter returns the opener of the run's journal, which the
// pipeline runs in its worker goroutine while graphsignal starts the child.
func openJournalExporter(dataDir, name string) func(context.Context) (pipeline.Exporter, error) {
	return func(context.Context) (pipeline.Exporter, error) {
		w, err := journal.Create(journalDir(dataDir), name, 0)
		if err != nil {
			return nil, err
		}
		return journalExporter{w: w}, nil
	}
}

// importReport says what importJournals had to pass over.
type importReport struct {
	damaged    int     // undecodable records skipped (torn or damaged lines)
	unreadable []error // journals that could not be read, left in place
}

// journalError marks a failure to read a journal file, as opposed to a
// database failure: the journal is passed over, the import goes on.
type journalError struct{ err error }

func (e journalError) Error() string { return e.err.Error() }
func (e journalError) Unwrap() error { return e.err }

// importJournals moves what the journals in dataDir hold into st, oldest
// journal first, and deletes each journal that is final and wholly imported.
// Live journals (their run goes on) are imported up to their last complete
// record. A journal that cannot be read (permissions, I/O) is left in place
// and reported; a database error stops the import and is returned.
func importJournals(ctx context.Context, st *store.Store, dataDir string) (importReport, error) {
	var rep importReport
	dir := journalDir(dataDir)
	names, err := journal.List(dir)
	if err != nil {
		return rep, err
	}
	for _, name := range names {
		damaged, err := importJournal(ctx, st, dir, name)
		rep.damaged += damaged
		var je journalError
		if errors.As(err, &je) {
			rep.unreadable = append(rep.unreadable, je.err)
			continue
		}
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func importJournal(ctx context.Context, st *store.Store, dir, name string) (damaged int, err error) {
	r, err := journal.Open(dir, name)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil // imported and removed by another process meanwhile
	}
	if err != nil {
		return 0, journalError{err}
	}
	defer r.Close()
	for {
		var chunk journal.Chunk
		_, err := st.Import(ctx, name, func(offset int64) ([]telemetry.Batch, int64, error) {
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
	if r.Final() {
		if err := journal.Remove(dir, name); err != nil {
			return damaged, journalError{err}
		}
	}
	return damaged, nil
}

// pruneDaily applies retention (30 days, 1 GiB) when it has not been applied
// for pruneEvery, recording when in a marker file of the data dir.
func pruneDaily(ctx context.Context, st *store.Store, dataDir string) {
	marker := filepath.Join(dataDir, "last-prune")
	if fi, err := os.Stat(marker); err == nil && time.Since(fi.ModTime()) < pruneEvery {
		return
	}
	if err := st.Prune(ctx, store.DefaultMaxAge, store.DefaultMaxBytes); err == nil {
		_ = os.WriteFile(marker, nil, 0o600)
	}
}

// openStoreForRead opens the store in dataDir and imports the journals
// waiting there, so that queries see every run, including running ones. A
// data dir with neither a database nor journals yields *NoDataError.
// Damaged records and unreadable journals are passed over with a warning
// on stderr.
func openStoreForRead(ctx context.Context, dataDir string, stderr io.Writer) (*store.Store, error) {
	_, dbErr := os.Stat(filepath.Join(dataDir, store.FileName))
	names, _ := journal.List(journalDir(dataDir))
	if errors.Is(dbErr, os.ErrNotExist) && len(names) == 0 {
		return nil, &NoDataError{Dir: dataDir}
	}
	st, err := store.Open(ctx, dataDir)
	if err != nil {
		return nil, storeError(err, dataDir)
	}
	rep, err := importJournals(ctx, st, dataDir)
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("import recorded runs: %w", storeError(err, dataDir))
	}
	if rep.damaged > 0 {
		fmt.Fprintf(stderr, "graphsignal: warning: %d damaged records in %s were skipped\n", rep.damaged, journalDir(dataDir))
	}
	for _, err := range rep.unreadable {
		fmt.Fprintf(stderr, "graphsignal: warning: %v (that run is not shown until the file can be read)\n", err)
	}
	pruneDaily(ctx, st, dataDir)
	return st, nil
}

// storeError adds what to do to a database error.
func storeError(err error, dataDir string) error {
	switch {
	case errors.Is(err, store.ErrCorrupt):
		return fmt.Errorf("%w (data dir %s; move the file away to start afresh: the runs not yet imported stay in %s)",
			err, dataDir, journalDir(dataDir))
	case errors.Is(err, store.ErrBusy):
		return fmt.Errorf("%w (another process holds it; try again)", err)
	}
	return err
}

// indexer imports journals into the store in the background of a long run:
// it waits indexAfter, opens the store, then imports every interval until
// stopped. It waits at most indexerBusy for another process's lock (and
// tries again at the next interval), so stopping it never waits for long.
//
// Runs shorter than indexAfter would leave their journals to the next
// `sessions` or `show` forever on a machine where nobody asks; so when
// backlogJournals or more are waiting, the indexer starts at once and the
// run's exit waits for one full import (within the flush timeout), as
// `git gc --auto` does: one run in many pays for the others.
type indexer struct {
	cancel  context.CancelFunc
	done    sync.WaitGroup
	counted chan struct{} // closed once the waiting journals are counted
	catchUp chan struct{} // closed once a backlog has been imported
	backlog atomic.Bool   // a backlog was found: stop waits for catchUp
}

const (
	// indexerBusy is how long the indexer waits for the database's lock.
	indexerBusy = 50 * time.Millisecond
	// backlogJournals is the number of waiting journals that makes a run
	// import them before it exits.
	backlogJournals = 64
)

// startIndexer starts the indexer of dataDir; onError receives its first
// error other than a busy database (after which it stops: the journals
// keep the records).
func startIndexer(ctx context.Context, dataDir string, after, every time.Duration, onError func(error)) *indexer {
	ctx, cancel := context.WithCancel(ctx)
	ix := &indexer{cancel: cancel, counted: make(chan struct{}), catchUp: make(chan struct{})}
	ix.done.Go(func() {
		defer func() {
			select {
			case <-ix.catchUp:
			default:
				close(ix.catchUp)
			}
		}()
		if hasBacklog(dataDir) {
			ix.backlog.Store(true)
			after = 0
		}
		close(ix.counted)
		wait := time.NewTimer(after)
		defer wait.Stop()
		select {
		case <-wait.C:
		case <-ctx.Done():
			return
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		var st *store.Store
		defer func() {
			if st != nil {
				_ = st.Close()
			}
		}()
		for {
			err := indexPass(ctx, &st, dataDir)
			if ix.backlog.Load() && (err == nil || errors.Is(err, store.ErrBusy)) {
				// Imported, or another process holds the database: either
				// way the run's exit does not wait for the backlog.
				ix.backlog.Store(false)
				close(ix.catchUp)
			}
			if err != nil && !errors.Is(err, store.ErrBusy) {
				if ctx.Err() == nil {
					onError(err)
				}
				return
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	})
	return ix
}

// stop ends the indexer and waits for it; when it is importing a backlog,
// it first lets it finish, within ctx (the flush timeout).
func (ix *indexer) stop(ctx context.Context) {
	select { // the count is a directory listing: a child that exits at once waits for it
	case <-ix.counted:
	case <-ctx.Done():
	}
	if ix.backlog.Load() {
		select {
		case <-ix.catchUp:
		case <-ctx.Done():
		}
	}
	ix.cancel()
	ix.done.Wait()
}

// hasBacklog reports whether backlogJournals or more journals that this
// user can read are waiting in dataDir (one it cannot read stays, and must
// not make every run wait). Below that, it costs one directory listing.
func hasBacklog(dataDir string) bool {
	dir := journalDir(dataDir)
	names, _ := journal.List(dir)
	if len(names) < backlogJournals {
		return false
	}
	n := 0
	for _, name := range names {
		if unix.Access(filepath.Join(dir, name+journal.Ext), unix.R_OK) == nil {
			n++
		}
	}
	return n >= backlogJournals
}

// indexPass opens the store if it is not open yet, then imports the
// journals.
func indexPass(ctx context.Context, st **store.Store, dataDir string) error {
	if *st == nil {
		s, err := store.Open(ctx, dataDir, store.WithBusyTimeout(indexerBusy))
		if err != nil {
			return err
		}
		*st = s
		pruneDaily(ctx, s, dataDir)
	}
	_, err := importJournals(ctx, *st, dataDir)
	return err
}
