package otlpexport

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestPrime checks that a Sender primed with a batch holding the run span
// (as the Shipper does with the records of a journal before its delivery
// offset) gives a later batch of the run, without its run span, the run's
// whole resource and its counters the run's start, and that Prime itself
// sends nothing; an unprimed Sender gives neither.
func TestPrime(t *testing.T) {
	tests := []struct {
		name  string
		prime bool
	}{
		{name: "primed", prime: true},
		{name: "not primed", prime: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t)
			s := newSender(t, r.config(ProtocolHTTPProtobuf))
			run := testRun()
			if tt.prime {
				s.Prime(telemetry.Batch{Spans: []telemetry.Span{run}})
				if n := len(r.requests()); n != 0 {
					t.Fatalf("Prime sent %d requests, want none", n)
				}
			}
			later := telemetry.Batch{Metrics: []telemetry.Metric{{TraceID: run.TraceID, Name: "steps", Kind: telemetry.Counter,
				Time: testStart.Add(2 * time.Second), Value: 7}}}
			if _, err := s.Send(context.Background(), later); err != nil {
				t.Fatalf("Send: %v", err)
			}
			var md pmetric.Metrics
			n := 0
			for _, q := range r.requests() {
				if q.path == "/v1/metrics" {
					md = q.metrics
					n++
				}
			}
			if n != 1 || md.ResourceMetrics().Len() != 1 {
				t.Fatalf("%d metrics requests, want 1 with one resource", n)
			}
			rm := md.ResourceMetrics().At(0)
			attrs := rm.Resource().Attributes().AsRaw()
			dp := rm.ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0)
			wantAttrs := map[string]any{
				"session.id":            run.Tags[telemetry.TagSessionID],
				"graphsignal.run.id":    run.Tags[telemetry.TagRunID],
				telemetry.AttrHostName:  run.Attributes[telemetry.AttrHostName],
				"cicd.pipeline.run.id":  "99",
				"vcs.ref.head.revision": "abc123",
				telemetry.AttrPID:       int64(4242),
			}
			for k, v := range wantAttrs {
				got, ok := attrs[k]
				if tt.prime && got != v {
					t.Errorf("resource %s = %v, want %v (resource %v)", k, got, v, attrs)
				}
				if !tt.prime && ok && k != "session.id" && k != "graphsignal.run.id" {
					t.Errorf("unprimed resource has %s = %v: the test does not tell primed from not", k, got)
				}
			}
			wantStart := uint64(0)
			if tt.prime {
				wantStart = uint64(testStart.UnixNano())
			}
			if got := uint64(dp.StartTimestamp()); got != wantStart {
				t.Errorf("counter start = %d, want %d", got, wantStart)
			}
			if dp.DoubleValue() != 7 {
				t.Errorf("counter value = %v, want 7", dp.DoubleValue())
			}
		})
	}
}
