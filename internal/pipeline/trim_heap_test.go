package pipeline

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// stuckExporter holds every Export until release is closed.
type stuckExporter struct{ release chan struct{} }

func (s stuckExporter) Export(ctx context.Context, _ telemetry.Batch) error {
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return nil
}

func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestTrimFreesDropped: batches far larger than the queues' byte bound
// (one OTLP logs request decoded into 40,000 records) are cut to what fits,
// and the memory of the records dropped is given back: the live heap stays
// near what the queues account for, not the size of what arrived.
func TestTrimFreesDropped(t *testing.T) {
	ex := stuckExporter{release: make(chan struct{})}
	p := New(Config{QueueBytes: 4 << 20, Interval: time.Hour, ExportTimeout: time.Hour}, ex)
	defer func() {
		close(ex.release)
		_ = p.Shutdown(context.Background())
	}()
	base := liveHeap()
	for range 8 {
		logs := make([]telemetry.Log, 40_000)
		for i := range logs {
			logs[i] = telemetry.Log{Level: "info", Message: strings.Repeat("m", 1000) + string(rune('a'+i%26))}
		}
		p.Enqueue(telemetry.Batch{Logs: logs})
	}
	// Wait for the dispatcher to settle: the counters stop moving.
	var st Stats
	deadline := time.Now().Add(10 * time.Second)
	for prev := (Stats{}); time.Now().Before(deadline); prev = st {
		time.Sleep(50 * time.Millisecond)
		st = p.Stats()
		if st.Dropped == prev.Dropped && st.Queued == prev.Queued && len(st.Exporters) == 1 &&
			len(prev.Exporters) == 1 && st.Exporters[0].Queued == prev.Exporters[0].Queued {
			break
		}
	}
	accounted := st.QueuedBytes
	for _, e := range st.Exporters {
		accounted += e.QueuedBytes
	}
	live := liveHeap() - base
	t.Logf("accounted %d KiB in the queues, %d logs dropped, live heap +%d KiB", accounted>>10, st.Dropped.Logs, live>>10)
	if st.Dropped.Logs == 0 {
		t.Fatal("nothing dropped: the batches fitted, the test proves nothing")
	}
	if limit := 2*accounted + 4<<20; live > limit {
		t.Errorf("live heap +%d MiB for %d MiB accounted in the queues: the dropped records are still reachable", live>>20, accounted>>20)
	}
}
