package gsapi

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	gen "github.com/graphsignal/graphsignal/internal/signalspb/signalspbgen"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestUntaggedPointsTakeTheirRunsTags: the recorder writes process metric
// points without tags; they are sent with the tags of their trace's
// earliest run span, whether that came in the same batch, an earlier one,
// or a Prime (a resumed journal), and a nested run sharing the trace does
// not take them over. A point with a run_id of its own keeps its tags.
func TestUntaggedPointsTakeTheirRunsTags(t *testing.T) {
	outer := failedRun()
	outer.Attributes = map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun}
	outer.Exceptions, outer.Status = nil, telemetry.StatusOK
	nested := outer
	nested.SpanID, nested.ParentSpanID, nested.Start = telemetry.SpanID{9}, outer.SpanID, outer.Start.Add(time.Second)
	nested.Tags = runTags.Merge(telemetry.Tags{"run_id": "r-nested", "deployment": "inner"})
	point := telemetry.Metric{TraceID: testTrace, Name: "process.threads", Kind: telemetry.Gauge, Unit: "{count}", Time: t0.Add(2 * time.Second), Value: 2}
	own := point
	own.Name, own.Tags = "program.metric", telemetry.Tags{"run_id": "r-own", "k": "v"}
	outerTags := genTags("deployment", "test", "run_id", "r-1", "session_id", "s-1")

	tests := []struct {
		name  string
		prime []telemetry.Span // primed before
		sent  []telemetry.Batch
	}{
		{"same batch", nil, []telemetry.Batch{{Spans: []telemetry.Span{outer}, Metrics: []telemetry.Metric{point, own}}}},
		{"earlier batch", nil, []telemetry.Batch{{Spans: []telemetry.Span{outer}}, {Metrics: []telemetry.Metric{point, own}}}},
		{"primed", []telemetry.Span{outer}, []telemetry.Batch{{Metrics: []telemetry.Metric{point, own}}}},
		{"nested run after", nil, []telemetry.Batch{{Spans: []telemetry.Span{outer, nested}, Metrics: []telemetry.Metric{point, own}}}},
		{"nested run first", nil, []telemetry.Batch{{Spans: []telemetry.Span{nested}}, {Spans: []telemetry.Span{outer}, Metrics: []telemetry.Metric{point, own}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPIServer(t)
			s := newSender(t, srv.URL, nil)
			if tt.prime != nil {
				s.Prime(telemetry.Batch{Spans: tt.prime})
			}
			for _, b := range tt.sent {
				if _, err := s.Send(context.Background(), b); err != nil {
					t.Fatal(err)
				}
			}
			got := srv.last(t).req.GetMetrics()
			want := []*gen.Metric{
				{Name: "process.threads", Tags: outerTags, Type: gen.Metric_GAUGE_METRIC, Unit: "{count}",
					Datapoints: []*gen.DataPoint{{MeasurementTs: ns(2 * time.Second), Value: &gen.DataPoint_Gauge{Gauge: 2}}}},
				{Name: "program.metric", Tags: genTags("k", "v", "run_id", "r-own"), Type: gen.Metric_GAUGE_METRIC, Unit: "{count}",
					Datapoints: []*gen.DataPoint{{MeasurementTs: ns(2 * time.Second), Value: &gen.DataPoint_Gauge{Gauge: 2}}}},
			}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
		})
	}
}
