package otlpexport

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestServiceNameIsEachRunsDeployment: without OTEL_SERVICE_NAME, each
// run's records get the run's own deployment as service.name, whichever
// process sends them (a journal sent later by `graphsignal upload`, or as
// another run's backlog, must not take that process's deployment or none);
// a record whose run span the Sender has not seen takes its own
// deployment tag. A configured service name applies to every record.
func TestServiceNameIsEachRunsDeployment(t *testing.T) {
	runSpan := func(trace telemetry.TraceID, deployment string) telemetry.Span {
		return telemetry.Span{TraceID: trace, SpanID: telemetry.SpanID{trace[0]}, Name: "job",
			Start: testStart, End: testStart.Add(time.Second),
			Tags:       telemetry.Tags{"session_id": "s", "run_id": "r" + deployment, "deployment": deployment},
			Attributes: map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun}}
	}
	alpha, beta, gamma := telemetry.TraceID{0xa}, telemetry.TraceID{0xb}, telemetry.TraceID{0xc}
	batch := telemetry.Batch{
		Spans: []telemetry.Span{runSpan(alpha, "alpha"), runSpan(beta, "beta")},
		Metrics: []telemetry.Metric{
			// Tagged with another deployment: the run's wins.
			{TraceID: alpha, Name: "process.cpu.usage", Kind: telemetry.Gauge, Tags: telemetry.Tags{"deployment": "other"}, Time: testStart, Value: 1},
			// A run whose span this Sender never saw.
			{TraceID: gamma, Name: "process.cpu.usage", Kind: telemetry.Gauge, Tags: telemetry.Tags{"deployment": "gamma"}, Time: testStart, Value: 1},
		},
	}
	tests := []struct {
		name       string
		configured string
		want       map[telemetry.TraceID]string // by the record's trace
	}{
		{"each run's deployment", "", map[telemetry.TraceID]string{alpha: "alpha", beta: "beta", gamma: "gamma"}},
		{"OTEL_SERVICE_NAME", "svc", map[telemetry.TraceID]string{alpha: "svc", beta: "svc", gamma: "svc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t)
			cfg := r.config(ProtocolHTTPProtobuf)
			cfg.ServiceName = tt.configured
			s := newSender(t, cfg)
			if _, err := s.Send(context.Background(), batch); err != nil {
				t.Fatal(err)
			}
			got := map[telemetry.TraceID]string{}
			for _, rec := range r.requests() {
				if rec.traces != (ptrace.Traces{}) {
					for i := range rec.traces.ResourceSpans().Len() {
						rs := rec.traces.ResourceSpans().At(i)
						svc, _ := rs.Resource().Attributes().Get("service.name")
						for j := range rs.ScopeSpans().Len() {
							spans := rs.ScopeSpans().At(j).Spans()
							for k := range spans.Len() {
								got[telemetry.TraceID(spans.At(k).TraceID())] = svc.AsString()
							}
						}
					}
				}
				if rec.metrics == (pmetric.Metrics{}) {
					continue
				}
				for i := range rec.metrics.ResourceMetrics().Len() {
					rm := rec.metrics.ResourceMetrics().At(i)
					svc, _ := rm.Resource().Attributes().Get("service.name")
					var trace telemetry.TraceID
					if v, ok := rm.Resource().Attributes().Get(attrRunID); ok && v.AsString() == "ralpha" {
						trace = alpha
					} else {
						trace = gamma
					}
					if prev, ok := got[trace]; ok && prev != svc.AsString() {
						t.Errorf("trace %v: spans' service.name %q, metrics' %q", trace, prev, svc.AsString())
					}
					got[trace] = svc.AsString()
				}
			}
			for trace, want := range tt.want {
				if got[trace] != want {
					t.Errorf("trace %v: service.name %q, want %q", trace, got[trace], want)
				}
			}
		})
	}
}
