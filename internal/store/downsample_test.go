package store

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestDownsample: old points are replaced by fewer rows while what `show`
// reports of each series (count, min, avg, max, last) stays the same; the
// recent points, histograms and intake metrics stay as recorded.
func TestDownsample(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	run := runSpan("long", 0, 0)
	const n = 2 * 3600 // two hours at 1 s
	var ms []telemetry.Metric
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		gauge := float64(i%97) + 0.25 // not monotonic: min and max inside intervals
		if i%1000 == 7 {
			gauge = math.NaN()
		}
		ms = append(ms,
			telemetry.Metric{TraceID: run.TraceID, Name: "process.memory.usage", Kind: telemetry.Gauge, Unit: "By", Time: at, Value: gauge},
			telemetry.Metric{TraceID: run.TraceID, Name: "process.cpu.user_time", Kind: telemetry.Counter, Unit: "s", Time: at, Value: float64(i) / 10},
			telemetry.Metric{TraceID: run.TraceID, Name: "process.threads", Kind: telemetry.Gauge, Tags: telemetry.Tags{"pid": "1"}, Time: at, Value: float64(i % 5)},
		)
		if i%600 == 0 {
			ms = append(ms,
				telemetry.Metric{TraceID: run.TraceID, Name: "graphsignal.intake.messages", Kind: telemetry.Gauge, Time: at, Value: 2},
				telemetry.Metric{TraceID: run.TraceID, Name: "latency", Kind: telemetry.Histogram, Time: at,
					Buckets: []float64{1}, Counts: []uint64{1, 1}, Count: 2, Sum: 3})
		}
	}
	write(t, s, telemetry.Batch{Spans: []telemetry.Span{run}, Metrics: ms})
	before := sessionMetrics(t, s, "long")
	rowsBefore := countRows(t, s)

	now := t0.Add(n * time.Second)
	tiers := []Tier{{After: time.Hour, Width: time.Minute}, {After: 90 * time.Minute, Width: 10 * time.Minute}}
	removed, err := s.Downsample(ctx, now, tiers)
	if err != nil {
		t.Fatal(err)
	}
	rowsAfter := countRows(t, s)
	if removed <= 0 || rowsBefore-rowsAfter != removed {
		t.Errorf("Downsample() removed %d, rows %d -> %d", removed, rowsBefore, rowsAfter)
	}
	// 3 series: the last hour raw (3600 points each), 30 1-minute rows
	// and 3 10-minute rows each; 12 intake and 12 histogram points.
	if want := int64(3*(3600+30+3) + 24); rowsAfter != want {
		t.Errorf("rows after = %d, want %d", rowsAfter, want)
	}
	after := sessionMetrics(t, s, "long")
	// A counter's interval keeps its last cumulative value, so its average
	// over the run (of cumulative totals, which nobody reads) moves.
	for _, ms := range [][]MetricSummary{before, after} {
		for i := range ms {
			if ms[i].Kind == telemetry.Counter {
				ms[i].Avg = 0
			}
		}
	}
	opts := []cmp.Option{cmpopts.EquateApprox(0, 1e-9), cmpopts.IgnoreFields(MetricSummary{}, "Points")}
	if diff := cmp.Diff(before, after, opts...); diff != "" {
		t.Errorf("summaries changed by downsampling (-before +after):\n%s", diff)
	}
	for _, m := range after {
		if len(m.Points) == 0 {
			t.Errorf("%s: no sparkline points", m.Name)
		}
	}

	// Again: nothing new to do.
	if removed, err := s.Downsample(ctx, now, tiers); err != nil || removed != 0 {
		t.Errorf("Downsample() again = %d, %v, want 0, nil", removed, err)
	}
}

func TestDownsampleBadTier(t *testing.T) {
	s := openStore(t, t.TempDir())
	if _, err := s.Downsample(context.Background(), t0, []Tier{{After: time.Hour}}); err == nil {
		t.Error("Downsample() with a zero interval = nil error")
	}
}

func sessionMetrics(t *testing.T, s *Store, id string) []MetricSummary {
	t.Helper()
	d, err := s.Session(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d.Runs[0].Metrics
}

func countRows(t *testing.T, s *Store) int64 {
	t.Helper()
	var n int64
	if err := s.db.QueryRow(`SELECT count(*) FROM metrics`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
