package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// logOf is an external log: one batch per offset.
func logOf(batches []telemetry.Batch, step int) ReadFunc {
	return func(offset int64) ([]telemetry.Batch, int64, error) {
		end := min(int(offset)+step, len(batches))
		return batches[offset:end], int64(end), nil
	}
}

func TestImportExactlyOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	run := runSpan("imp", 0, time.Second)
	var log []telemetry.Batch
	log = append(log, telemetry.Batch{Spans: []telemetry.Span{run}})
	for range 40 {
		log = append(log, telemetry.Batch{Metrics: points(run.TraceID, "cpu", 1)})
	}
	// Two stores (as two processes would) import the same log at once, in
	// small steps, until both have seen its end.
	stores := []*Store{openStore(t, dir), openStore(t, dir)}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, s := range stores {
		wg.Go(func() {
			for {
				next, err := s.Import(ctx, "j1", logOf(log, 3))
				if err != nil {
					errs <- err
					return
				}
				if next == int64(len(log)) {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n int
	if err := stores[0].db.QueryRowContext(ctx, `SELECT count(*) FROM metrics`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 40 {
		t.Errorf("metric points = %d, want 40 (each imported once)", n)
	}
	// Nothing new: the offset stays, nothing is written.
	if next, err := stores[0].Import(ctx, "j1", logOf(log, 3)); err != nil || next != int64(len(log)) {
		t.Errorf("Import at the end = %d, %v", next, err)
	}

	// A failing read writes nothing and keeps the offset.
	boom := errors.New("boom")
	if _, err := stores[0].Import(ctx, "j2", func(int64) ([]telemetry.Batch, int64, error) { return log[:1], 1, boom }); !errors.Is(err, boom) {
		t.Errorf("Import with a failing read = %v, want boom", err)
	}
	if next, err := stores[0].Import(ctx, "j2", logOf(log, 1)); err != nil || next != 1 {
		t.Errorf("Import after a failure = %d, %v; want 1 (from the start)", next, err)
	}
}

func TestPruneDropsStaleImportOffsets(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Now()
	s := openStore(t, dir, WithClock(func() time.Time { return now }))
	log := []telemetry.Batch{{Metrics: points(telemetry.NewTraceID(), "cpu", 1)}}
	if _, err := s.Import(ctx, "old", logOf(log, 1)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(importKeep - time.Hour)
	if err := s.Prune(ctx, 0, 0); err != nil {
		t.Fatal(err)
	}
	if next, _ := s.Import(ctx, "old", func(off int64) ([]telemetry.Batch, int64, error) { return nil, off, nil }); next != 1 {
		t.Fatalf("offset pruned too early: %d", next)
	}
	now = now.Add(2 * time.Hour)
	if err := s.Prune(ctx, 0, 0); err != nil {
		t.Fatal(err)
	}
	if next, _ := s.Import(ctx, "old", func(off int64) ([]telemetry.Batch, int64, error) { return nil, off, nil }); next != 0 {
		t.Errorf("offset of a log untouched for %v kept: %d", importKeep+time.Hour, next)
	}
}
