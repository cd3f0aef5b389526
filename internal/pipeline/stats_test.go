package pipeline

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestStatsMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bad := &recorder{name: "bad", fail: errors.New("no")}
		good := &recorder{name: "good"}
		p := New(Config{QueueSize: 4, RunSpanReserve: 1, Interval: time.Hour}, bad, good)
		p.Enqueue(telemetry.Batch{Spans: []telemetry.Span{span("s", false)}, Logs: make([]telemetry.Log, 4)})
		if err := p.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		trace := telemetry.NewTraceID()
		now := time.Now()
		got := map[string]float64{}
		for _, m := range p.Stats().Metrics(trace, telemetry.Tags{"run_id": "r1"}, now) {
			if m.TraceID != trace || !m.Time.Equal(now) || m.Kind != telemetry.Counter || m.Unit != telemetry.UnitCount ||
				m.Tags["run_id"] != "r1" || m.Value == 0 {
				t.Errorf("metric %+v: wrong trace, time, kind, unit or tags, or zero", m)
			}
			got[m.Name+"/"+m.Tags["kind"]+"/"+m.Tags["exporter"]] += m.Value
		}
		want := map[string]float64{
			"graphsignal.pipeline.dropped/logs/":    2,
			"graphsignal.pipeline.failed/spans/bad": 1, "graphsignal.pipeline.failed/logs/bad": 2,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("metrics (-want +got):\n%s", diff)
		}
	})
}

// TestStatsMetricsSDKUploads: SDK uploads are reported as their own kind.
func TestStatsMetricsSDKUploads(t *testing.T) {
	st := Stats{Enqueued: Counts{SDKUploads: 3}, Dropped: Counts{SDKUploads: 1},
		Exporters: []ExporterStats{{Name: "gs", Exported: Counts{SDKUploads: 2}}}}
	got := map[string]float64{}
	for _, m := range st.Metrics(telemetry.NewTraceID(), nil, time.Now()) {
		if m.Tags["kind"] == "sdk_uploads" {
			got[m.Name+"/"+m.Tags["exporter"]] = m.Value
		}
	}
	want := map[string]float64{"graphsignal.pipeline.dropped/": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sdk_uploads metrics (-want +got):\n%s", diff)
	}
}
