package spool

import (
	"context"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/store"
)

// TestIndexPassDownsamples: a long run's indexer downsamples the points
// older than the first tier, at its first pass and then every
// downsampleEvery, not at every pass.
func TestIndexPassDownsamples(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	now := start.Add(7 * time.Hour)
	sp := Open(data, WithClock(func() time.Time { return now }))
	run := runBatch("long", time.Time{})
	run.Spans[0].Start = start
	w, err := journal.Create(sp.JournalDir(), JournalName(start, run.Spans[0].SpanID), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	appendSamples := func(from time.Time, n int) {
		for i := range n {
			if err := w.Append(sample(run.Spans[0].TraceID, from.Add(time.Duration(i)*time.Second), i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Append(run); err != nil {
		t.Fatal(err)
	}
	appendSamples(start, 120) // two minutes, 7 hours old
	var st *store.Store
	defer func() {
		if st != nil {
			_ = st.Close()
		}
	}()
	var last time.Time
	if err := sp.indexPass(ctx, &st, &last); err != nil {
		t.Fatal(err)
	}
	if got := onlyRun(t, st, "long").Metrics[0]; got.Count != 120*13 || len(got.Points) != 2 {
		// 2 rows (a sparkline point each) stand for the 1,560 points: one per minute.
		t.Errorf("after the first pass: %d points in %d rows, want 1560 in 2", got.Count, len(got.Points))
	}
	// Points that turn old before downsampleEvery passed wait for it.
	appendSamples(start.Add(30*time.Minute), 60)
	now = now.Add(downsampleEvery / 2)
	if err := sp.indexPass(ctx, &st, &last); err != nil {
		t.Fatal(err)
	}
	// (The sparkline has a point per row, up to 40.)
	if got := onlyRun(t, st, "long").Metrics[0]; len(got.Points) <= 3 {
		t.Errorf("within downsampleEvery: %d sparkline points, want the new points as recorded", len(got.Points))
	}
	now = now.Add(downsampleEvery)
	if err := sp.indexPass(ctx, &st, &last); err != nil {
		t.Fatal(err)
	}
	if got := onlyRun(t, st, "long").Metrics[0]; got.Count != 180*13 || len(got.Points) != 3 {
		t.Errorf("after downsampleEvery: %d points in %d rows, want 2340 in 3", got.Count, len(got.Points))
	}
}
