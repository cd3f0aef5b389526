package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/pipeline"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// The local store's write path (docs/store.md): a run appends its records to
// its own journal and never waits for SQLite, at start or at exit. Journals
// are moved into the database (internal/spool) by the next command that
// reads it (sessions, show) and, while a run lasts longer than
// spool.IndexAfter, by that run's background indexer.

// journalExporter appends pipeline batches to the run's journal.
type journalExporter struct{ w *journal.Writer }

func (e journalExporter) Export(_ context.Context, b telemetry.Batch) error { return e.w.Append(b) }
func (e journalExporter) Close() error                                      { return e.w.Close() }

// ExportCounters writes the pipeline's own counters, which the journal
// keeps room for once it is full (journal.Writer.AppendCounters).
func (e journalExporter) ExportCounters(_ context.Context, b telemetry.Batch) error {
	return e.w.AppendCounters(b)
}

// openJournalExporter returns the opener of the run's journal, which the
// pipeline runs in its worker goroutine while graphsignal starts the child.
func openJournalExporter(dataDir, name string) func(context.Context) (pipeline.Exporter, error) {
	return func(context.Context) (pipeline.Exporter, error) {
		w, err := journal.Create(spool.Open(dataDir).JournalDir(), name, 0)
		if err != nil {
			return nil, err
		}
		return journalExporter{w: w}, nil
	}
}

// openStoreForRead opens the store in dataDir and imports the journals
// waiting there, so that queries see every run, including running ones. A
// data dir with neither a database nor journals yields *NoDataError.
// Damaged records and unreadable journals are passed over with a warning
// on stderr.
func openStoreForRead(ctx context.Context, dataDir string, stderr io.Writer) (*store.Store, error) {
	sp := spool.Open(dataDir)
	_, dbErr := os.Stat(filepath.Join(dataDir, store.FileName))
	if errors.Is(dbErr, os.ErrNotExist) {
		// Nothing recorded, unless the journals cannot be listed: that is
		// said, not shown as an empty store.
		names, err := journal.List(sp.JournalDir())
		if err != nil {
			return nil, fmt.Errorf("read the recorded runs in %s: %w", sp.JournalDir(), err)
		}
		if len(names) == 0 {
			return nil, &NoDataError{Dir: dataDir}
		}
	}
	st, err := store.Open(ctx, dataDir, store.WithMemoryMap())
	if err != nil {
		return nil, storeError(err, dataDir)
	}
	rep, err := sp.ImportAll(ctx, st)
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("import recorded runs: %w", storeError(err, dataDir))
	}
	if rep.Damaged > 0 {
		fmt.Fprintf(stderr, "graphsignal: warning: %d damaged records in %s were skipped\n", rep.Damaged, sp.JournalDir())
	}
	for _, err := range rep.Unreadable {
		fmt.Fprintf(stderr, "graphsignal: warning: %v (that run is not shown until the file can be read)\n", err)
	}
	sp.PruneDaily(ctx, st)
	return st, nil
}

// storeError adds what to do to a database error.
func storeError(err error, dataDir string) error {
	switch {
	case errors.Is(err, store.ErrCorrupt):
		return fmt.Errorf("%w (data dir %s; move the file away to start afresh: the runs not yet imported stay in %s)",
			err, dataDir, spool.Open(dataDir).JournalDir())
	case errors.Is(err, store.ErrBusy):
		return fmt.Errorf("%w (another process holds it; try again)", err)
	}
	return err
}
