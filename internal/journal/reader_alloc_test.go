package journal

import (
	"runtime"
	"testing"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// metricBatch is one sample: n gauge points stamped i.
func metricBatch(i, n int) telemetry.Batch {
	var b telemetry.Batch
	for k := range n {
		b.Metrics = append(b.Metrics, telemetry.Metric{TraceID: trace, Name: "process.memory.usage", Kind: telemetry.Gauge,
			Time: t0, Value: float64(i*1000 + k)})
	}
	return b
}

// TestReadAllocatesWhatIsThere: an importer that opens a live journal at
// every pass and reads the few lines appended since allocates about what
// it reads, not its read limit each time (1 MiB per pass at a 10 ms
// interval was 100 MiB of garbage a second, and a heap that never settled).
func TestReadAllocatesWhatIsThere(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, "j", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var off int64
	pass := func() {
		if err := w.Append(metricBatch(1, 13)); err != nil {
			t.Fatal(err)
		}
		r, err := Open(dir, "j")
		if err != nil {
			t.Fatal(err)
		}
		c, err := r.Read(off, 1<<20)
		_ = r.Close()
		if err != nil || len(c.Batches) != 1 {
			t.Fatalf("Read() = %d batches, %v", len(c.Batches), err)
		}
		off = c.Next
	}
	pass()
	const passes = 50
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range passes {
		pass()
	}
	runtime.ReadMemStats(&after)
	if perPass := (after.TotalAlloc - before.TotalAlloc) / passes; perPass > 64<<10 {
		t.Errorf("a pass that reads one 2 KB line allocates %d bytes, want at most 64 KiB", perPass)
	}
}
