package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

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

// importJournals moves what the journals in dataDir hold into st, oldest
// journal first, and deletes each journal that is final and wholly imported.
// Live journals (their run goes on) are imported up to their last complete
// record. It returns how many damaged records it had to skip.
func importJournals(ctx context.Context, st *store.Store, dataDir string) (skipped int, err error) {
	dir := journalDir(dataDir)
	names, err := journal.List(dir)
	if err != nil {
		return 0, err
	}
	for _, name := range names {
		n, err := importJournal(ctx, st, dir, name)
		skipped += n
		if err != nil {
			return skipped, err
		}
	}
	return skipped, nil
}

func importJournal(ctx context.Context, st *store.Store, dir, name string) (skipped int, err error) {
	r, err := journal.Open(dir, name)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil // imported and removed by another process meanwhile
	}
	if err != nil {
		return 0, err
	}
	defer r.Close()
	for {
		var chunk journal.Chunk
		_, err := st.Import(ctx, name, func(offset int64) ([]telemetry.Batch, int64, error) {
			c, err := r.Read(offset, importChunk)
			chunk = c
			return c.Batches, c.Next, err
		})
		skipped += chunk.Skipped
		if err != nil {
			return skipped, err
		}
		if chunk.EOF {
			break
		}
	}
	if r.Final() {
		return skipped, journal.Remove(dir, name)
	}
	return skipped, nil
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
// Damaged journal records are skipped with a warning on stderr.
func openStoreForRead(ctx context.Context, dataDir string, stderr io.Writer) (*store.Store, error) {
	_, dbErr := os.Stat(filepath.Join(dataDir, store.FileName))
	names, _ := journal.List(journalDir(dataDir))
	if errors.Is(dbErr, os.ErrNotExist) && len(names) == 0 {
		return nil, &NoDataError{Dir: dataDir}
	}
	st, err := store.Open(ctx, dataDir)
	if err != nil {
		return nil, fmt.Errorf("%w (data dir %s; move the file away to start afresh: the runs not yet imported stay in %s)",
			err, dataDir, journalDir(dataDir))
	}
	skipped, err := importJournals(ctx, st, dataDir)
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("import recorded runs: %w", err)
	}
	if skipped > 0 {
		fmt.Fprintf(stderr, "graphsignal: warning: %d damaged records in %s were skipped\n", skipped, journalDir(dataDir))
	}
	pruneDaily(ctx, st, dataDir)
	return st, nil
}

// indexer imports journals into the store in the background of a long run:
// it waits indexAfter, opens the store, then imports every interval until
// stopped. Stopping never waits for SQLite beyond an interrupted statement.
type indexer struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// startIndexer starts the indexer of dataDir; onError receives its first
// error (after which it stops: the journals keep the records).
func startIndexer(ctx context.Context, dataDir string, after, every time.Duration, onError func(error)) *indexer {
	ctx, cancel := context.WithCancel(ctx)
	ix := &indexer{cancel: cancel}
	ix.done.Go(func() {
		wait := time.NewTimer(after)
		defer wait.Stop()
		select {
		case <-wait.C:
		case <-ctx.Done():
			return
		}
		st, err := store.Open(ctx, dataDir)
		if err != nil {
			if ctx.Err() == nil {
				onError(err)
			}
			return
		}
		defer st.Close()
		pruneDaily(ctx, st, dataDir)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if _, err := importJournals(ctx, st, dataDir); err != nil {
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

// stop ends the indexer and waits for it.
func (ix *indexer) stop() {
	ix.cancel()
	ix.done.Wait()
}
