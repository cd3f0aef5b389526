package spool

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// sample is one sampler pass of a run: 13 gauge points numbered from seq.
func sample(trace telemetry.TraceID, at time.Time, seq int) telemetry.Batch {
	var b telemetry.Batch
	for k := range 13 {
		b.Metrics = append(b.Metrics, telemetry.Metric{TraceID: trace, Name: "process.memory.usage", Kind: telemetry.Gauge,
			Unit: "By", Time: at, Value: float64(seq + k)})
	}
	return b
}

// deliverNew reads dest's pending part of journal name, as a Shipper
// would, records each point's value in seen and advances the cursor to
// the end.
func deliverNew(t *testing.T, sp *Dir, dest, name string, seen map[float64]int) {
	t.Helper()
	c, err := sp.Claim(dest, name)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Release() }()
	r, err := journal.Open(sp.JournalDir(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	off := c.Offset()
	for {
		chunk, err := r.Read(off, 64<<10)
		if err != nil {
			t.Fatal(err)
		}
		if chunk.Skipped > 0 {
			t.Fatalf("%s: %d damaged lines from offset %d", dest, chunk.Skipped, off)
		}
		for _, b := range chunk.Batches {
			for _, m := range b.Metrics {
				seen[m.Value]++
			}
		}
		off = chunk.Next
		if chunk.EOF {
			break
		}
	}
	if err := c.Advance(off); err != nil {
		t.Fatal(err)
	}
}

// TestLongRunJournal: a run that writes many times its journal's bound
// while the importer and a destination keep up is recorded in full: no
// batch refused, every point imported once and delivered once, and the
// journal holds on disk about what is not consumed yet. A destination that
// has not acknowledged a part keeps it on disk.
func TestLongRunJournal(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	sp := Open(data)
	sp.reclaimStep, sp.reclaimKeep = 16<<10, 8<<10
	const bound = 192 << 10
	runID := telemetry.NewSpanID()
	trace := telemetry.NewTraceID()
	start := time.Now().Add(-time.Hour)
	name := JournalName(start, runID)
	const lagging = "OTLP http://127.0.0.1:1"
	for _, d := range []string{testDest, lagging} {
		if err := sp.Expect(d, name); err != nil {
			t.Fatal(err)
		}
	}
	w, err := journal.Create(sp.JournalDir(), name, bound+1<<20) // the bound plus the run span reserve
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	run := runBatch("long", time.Time{})
	run.Spans[0].TraceID, run.Spans[0].SpanID = trace, runID
	if err := w.Append(run); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, data)
	delivered, late := map[float64]int{}, map[float64]int{}
	points := 0
	for round := range 40 {
		if round == 3 {
			// The lagging destination catches up once, then keeps up.
			deliverNew(t, sp, lagging, name, late)
		}
		for i := range 10 {
			at := start.Add(time.Duration(points) * time.Millisecond)
			if err := w.Append(sample(trace, at, points)); err != nil {
				t.Fatalf("round %d, sample %d: Append() = %v", round, i, err)
			}
			points += 13
		}
		if _, err := sp.ImportAll(ctx, st); err != nil {
			t.Fatal(err)
		}
		deliverNew(t, sp, testDest, name, delivered)
		if round >= 3 {
			deliverNew(t, sp, lagging, name, late)
		}
	}
	fi, err := os.Stat(sp.journalPath(name))
	if err != nil {
		t.Fatal(err)
	}
	if held := fi.Sys().(*syscall.Stat_t).Blocks * 512; fi.Size() < 3*bound || held > bound {
		t.Errorf("journal size %d, %d bytes on disk; want past 3 times the bound (%d) and at most the bound on disk", fi.Size(), held, bound)
	}
	for what, seen := range map[string]map[float64]int{"delivered": delivered, "delivered late": late} {
		if len(seen) != points {
			t.Errorf("%s %d distinct points, want %d", what, len(seen), points)
		}
		for v, n := range seen {
			if n != 1 {
				t.Errorf("%s point %v %d times", what, v, n)
				break
			}
		}
	}
	r := onlyRun(t, st, "long")
	if stored := r.Metrics[0].Count; len(r.Metrics) != 1 || stored != points {
		t.Errorf("store holds %d points, want %d (each imported once)", r.Metrics[0].Count, points)
	}
}

// TestReclaimWaitsForDestination: what a destination has not acknowledged
// is not reclaimed, whatever the importer has imported.
func TestReclaimWaitsForDestination(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	sp := Open(data)
	sp.reclaimStep, sp.reclaimKeep = 4<<10, 0
	name := JournalName(time.Now(), telemetry.NewSpanID())
	if err := sp.Expect(testDest, name); err != nil {
		t.Fatal(err)
	}
	w, err := journal.Create(sp.JournalDir(), name, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	st := openStore(t, data)
	trace := telemetry.NewTraceID()
	points := 0
	for range 100 {
		if err := w.Append(sample(trace, time.Now(), points)); err != nil {
			t.Fatal(err)
		}
		points += 13
		if _, err := sp.ImportAll(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[float64]int{}
	deliverNew(t, sp, testDest, name, seen)
	if len(seen) != points {
		t.Errorf("the destination read %d points after the importer's passes, want all %d", len(seen), points)
	}
}
