package journal

import (
	"errors"
	"strings"
	"testing"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestAppendCounters: once a journal refuses records, graphsignal's own
// counters (the drops, docs/protocol.md) are still written, into the first
// half of the run span reserve, and the run span still fits after them.
func TestAppendCounters(t *testing.T) {
	w, err := Create(t.TempDir(), "j", runSpanReserve+300)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	pad := strings.Repeat("x", 2000)
	other := telemetry.Batch{Spans: []telemetry.Span{{Name: "other", Attributes: map[string]any{"pad": pad}}}}
	if err := w.Append(other); !errors.Is(err, ErrFull) {
		t.Fatalf("Append past the bound = %v, want ErrFull", err)
	}
	counters := telemetry.Batch{Metrics: []telemetry.Metric{{Name: "graphsignal.pipeline.failed", Kind: telemetry.Counter, Value: 1,
		Tags: telemetry.Tags{"pad": pad}}}}
	if err := w.AppendCounters(counters); err != nil {
		t.Fatalf("AppendCounters once records are refused = %v, want it written", err)
	}
	n := 1
	for ; n < 1000; n++ {
		if err := w.AppendCounters(counters); errors.Is(err, ErrFull) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if w.size > w.maxBytes-runSpanReserve/2 {
		t.Errorf("counters filled the journal to %d bytes, past half the reserve (%d)", w.size, w.maxBytes-runSpanReserve/2)
	}
	if n == 1000 {
		t.Errorf("AppendCounters never refused: the reserve is not bounded")
	}
	run := telemetry.Batch{Spans: []telemetry.Span{{Name: "run", Attributes: map[string]any{
		telemetry.AttrSpanKind: telemetry.SpanKindRun, "pad": pad}}}}
	if err := w.Append(run); err != nil {
		t.Errorf("Append of the run span after %d counter writes = %v, want room left", n, err)
	}
}
