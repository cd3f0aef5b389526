package journal

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestAppendCountersAfterReclaim: a long run whose journal passes its
// bound in logical size while its readers reclaim what they read: the
// drop counters are appended like ordinary records (the bound counts what
// the file holds on disk).
func TestAppendCountersAfterReclaim(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, "run", 4<<20) // 4 MiB bound (default 256 MiB)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	big := strings.Repeat("x", 4000)
	m := func(name string) telemetry.Batch {
		return telemetry.Batch{Metrics: []telemetry.Metric{{Name: name, Kind: telemetry.Gauge, Value: 1, Time: time.Now(), Tags: telemetry.Tags{"p": big}}}}
	}
	var written int64
	for i := 0; written < 12<<20; i++ {
		if err := w.Append(m("m")); err != nil {
			t.Fatalf("Append after %d bytes: %v", written, err)
		}
		w.mu.Lock()
		written = w.size
		w.mu.Unlock()
		if i%200 == 0 {
			// every reader consumed everything
			if _, err := Reclaim(dir, "run", written, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, _ = Reclaim(dir, "run", written, 0)
	if err := w.Append(m("ordinary")); err != nil {
		t.Fatalf("Append at logical size %d: %v", written, err)
	}
	err = w.AppendCounters(m("graphsignal.dropped"))
	t.Logf("logical size %d MiB, holes %d MiB; AppendCounters: %v", written>>20, reclaimed(w.f)>>20, err)
	if errors.Is(err, ErrFull) {
		t.Errorf("AppendCounters refused although the journal holds little on disk")
	}
}
