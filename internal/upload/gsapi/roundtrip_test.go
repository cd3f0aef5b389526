package gsapi

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/graphsignal/graphsignal/internal/httpintake"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

type collector struct {
	mu sync.Mutex
	b  telemetry.Batch
}

func (c *collector) Consume(b telemetry.Batch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.b.Spans = append(c.b.Spans, b.Spans...)
	c.b.Metrics = append(c.b.Metrics, b.Metrics...)
	c.b.Logs = append(c.b.Logs, b.Logs...)
}

// startIntake runs graphsignal's own intake on loopback, which decodes
// what the Graphsignal SDK sends into the model.
func startIntake(t *testing.T) (*httpintake.Server, *collector) {
	t.Helper()
	col := &collector{}
	srv, err := httpintake.Bind(context.Background(), httpintake.Config{
		TraceID: testTrace, RunSpanID: runSpanID, Tags: runTags, APIKey: testKey,
		RecordPayloads: true, Consumer: col, Now: func() time.Time { return fixedNow },
	})
	if err != nil {
		t.Fatalf("Bind: %v", err)
	}
	srv.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv, col
}

// TestRoundTripThroughIntake sends the model through this mapping and
// graphsignal's intake (the inverse mapping) and expects the same records
// back where the mapping is lossless (docs/upload.md lists what is not:
// non-string attribute types, payloads, scores, the usage's payload name,
// log span ids, metric units of the SDK's process metrics).
func TestRoundTripThroughIntake(t *testing.T) {
	intake, col := startIntake(t)
	s := newSender(t, intake.Endpoint(), nil)

	run := telemetry.Span{TraceID: testTrace, SpanID: runSpanID, Name: "python train.py", Start: t0, End: t0.Add(3 * time.Second),
		Tags: runTags.Clone(), Attributes: map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun, "host.name": "h1"},
		Status: telemetry.StatusError, Exceptions: []telemetry.Exception{{Type: "exit_code", Message: "exited with code 3", StackTrace: "tail", Time: t0.Add(3 * time.Second)}}}
	child := telemetry.Span{TraceID: testTrace, SpanID: telemetry.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, ParentSpanID: runSpanID,
		Name: "generate", Start: t0.Add(time.Second), End: t0.Add(2 * time.Second),
		Tags:       runTags.Merge(telemetry.Tags{"model_type": "chat"}),
		Attributes: map[string]any{"model": "gpt-4o", "graphsignal.linked_span_ids": []string{"0102030405060709"}},
		Events:     []telemetry.Event{{Name: "first_token", Time: t0.Add(1500 * time.Millisecond), Attributes: map[string]any{"n": "1"}}},
		Usage:      []telemetry.Usage{{Name: "prompt_tokens", Value: 12}, {Name: "completion_tokens", Value: 40}}}
	metrics := []telemetry.Metric{
		{TraceID: testTrace, Name: "queue.depth", Kind: telemetry.Gauge, Unit: "{count}", Tags: runTags, Time: t0, Value: 3},
		{TraceID: testTrace, Name: "requests", Kind: telemetry.Counter, Unit: "{count}", Tags: runTags, Time: t0, Value: 10},
		{TraceID: testTrace, Name: "requests", Kind: telemetry.Counter, Unit: "{count}", Tags: runTags, Time: t0.Add(time.Second), Value: 25},
		{TraceID: testTrace, Name: "batch_size", Kind: telemetry.Histogram, Tags: runTags, Time: t0, Counts: []uint64{4}, Count: 4, Sum: 8},
		{TraceID: testTrace, Name: "batch_size", Kind: telemetry.Histogram, Tags: runTags, Time: t0.Add(time.Second), Counts: []uint64{6}, Count: 6, Sum: 11},
	}
	logs := []telemetry.Log{
		{Time: t0, Level: "warning", Message: "slow", Tags: runTags.Merge(telemetry.Tags{"logger": "app"}), TraceID: testTrace},
		{Time: t0.Add(time.Second), Level: "info", Message: "step", Exception: "", Tags: runTags, TraceID: testTrace},
	}
	batches := []telemetry.Batch{
		{Spans: []telemetry.Span{child}, Metrics: metrics[:2], Logs: logs},
		{Spans: []telemetry.Span{run}, Metrics: metrics[2:]},
	}
	for _, b := range batches {
		if _, err := s.Send(context.Background(), b); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}

	// What the intake adds or cannot tell apart.
	withIntake := func(sp telemetry.Span, extraTags telemetry.Tags) telemetry.Span {
		sp.Attributes = map[string]any{"graphsignal.intake": "graphsignal_sdk"}
		sp.Tags = sp.Tags.Merge(extraTags)
		return sp
	}
	wantRun := withIntake(run, telemetry.Tags{"span.status": "error", "exception.name": "exit_code"})
	wantRun.Attributes[telemetry.AttrSpanKind] = telemetry.SpanKindRun
	wantRun.Attributes["host.name"] = "h1"
	wantChild := withIntake(child, nil)
	wantChild.Attributes["model"] = "gpt-4o"
	wantChild.Attributes["graphsignal.linked_span_ids"] = []string{"0102030405060709"}
	wantLogs := append(logs, telemetry.Log{Time: t0.Add(3 * time.Second), Level: "error",
		Message: "exited with code 3", Exception: "tail", Tags: runTags, TraceID: testTrace})

	got := col.b
	opts := []cmp.Option{cmpopts.EquateEmpty()}
	if diff := cmp.Diff([]telemetry.Span{wantChild, wantRun}, got.Spans, opts...); diff != "" {
		t.Errorf("spans (-sent +received):\n%s", diff)
	}
	if diff := cmp.Diff(metrics, got.Metrics, opts...); diff != "" {
		t.Errorf("metrics (-sent +received):\n%s", diff)
	}
	if diff := cmp.Diff(wantLogs, got.Logs, opts...); diff != "" {
		t.Errorf("logs (-sent +received):\n%s", diff)
	}
}
