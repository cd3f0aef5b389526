package forward

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/graphsignal/graphsignal/internal/ipc"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestForwardThroughRealSocket sends a nested run's records through a real
// ipc server, as the enclosing run receives them.
func TestForwardThroughRealSocket(t *testing.T) {
	var mu sync.Mutex
	var got telemetry.Batch
	trace, outerSpan := telemetry.NewTraceID(), telemetry.NewSpanID()
	srv, err := ipc.Bind(context.Background(), ipc.Config{
		TraceID: trace, SpanID: outerSpan, Tags: telemetry.Tags{"session_id": "s-1"}, RecordPayloads: true,
		Consumer: ipc.ConsumerFunc(func(b telemetry.Batch) {
			mu.Lock()
			defer mu.Unlock()
			got.Spans = append(got.Spans, b.Spans...)
			got.Metrics = append(got.Metrics, b.Metrics...)
			got.Scores = append(got.Scores, b.Scores...)
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve()
	f, err := Dial(context.Background(), srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Second)
	inner := telemetry.NewSpanID()
	batch := telemetry.Batch{
		Spans: []telemetry.Span{
			{TraceID: trace, SpanID: inner, ParentSpanID: outerSpan, Name: "pytest", Start: start}, // in progress: skipped
			{TraceID: trace, SpanID: inner, ParentSpanID: outerSpan, Name: "pytest", Start: start, End: start.Add(time.Second),
				Status: telemetry.StatusError, StatusMessage: "exited with code 2",
				Attributes: map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun, "bad": math.NaN()},
				Payloads:   []telemetry.Payload{{Name: "input", ContentType: "application/json", Data: []byte(`{"a":1}`)}},
				Exceptions: []telemetry.Exception{{Type: "exit_code", Message: "exited with code 2"}}},
		},
		Metrics: []telemetry.Metric{
			{Name: "process.memory.usage", Kind: telemetry.Gauge, Value: 1, Time: start},
			{Name: "queue.depth", Kind: telemetry.Gauge, Value: 3, Time: start},
		},
		Scores: []telemetry.Score{{Name: "quality", Value: 0.5, Time: start}},
	}
	if err := f.Export(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got.Spans) != 1 {
		t.Fatalf("spans = %d, want 1 (the ended run span)", len(got.Spans))
	}
	s := got.Spans[0]
	if s.SpanID != inner || s.ParentSpanID != outerSpan || s.Status != telemetry.StatusError || len(s.Payloads) != 1 || len(s.Exceptions) != 1 {
		t.Errorf("span = %+v", s)
	}
	if s.Attributes[telemetry.AttrSpanKind] != telemetry.SpanKindRun {
		t.Errorf("span kind attribute lost: %v", s.Attributes)
	}
	if len(got.Metrics) != 1 || got.Metrics[0].Name != "queue.depth" {
		t.Errorf("metrics = %+v, want only queue.depth", got.Metrics)
	}
	if len(got.Scores) != 1 || got.Scores[0].Value != 0.5 {
		t.Errorf("scores = %+v", got.Scores)
	}
	if st := srv.Stats(); st.BadTotal() != 0 {
		t.Errorf("bad lines = %v, want none", st.BadLines)
	}
}
