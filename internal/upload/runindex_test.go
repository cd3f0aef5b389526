package upload

import (
	"fmt"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func runSpan(trace byte, id string, start time.Time) telemetry.Span {
	return telemetry.Span{TraceID: telemetry.TraceID{trace}, Name: id, Start: start, Tags: telemetry.Tags{telemetry.TagRunID: id},
		Attributes: map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun}}
}

// TestRunIndex: a record belongs to the run of its run_id, else to the
// earliest run of its trace, whichever order the run spans came in; the
// last 256 runs are kept.
func TestRunIndex(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	outer, nested := runSpan(1, "outer", t0), runSpan(1, "nested", t0.Add(time.Second))
	for _, order := range [][]telemetry.Span{{outer, nested}, {nested, outer}} {
		var x RunIndex
		x.Learn(order)
		x.Learn([]telemetry.Span{{TraceID: telemetry.TraceID{1}, Name: "not a run", Tags: telemetry.Tags{telemetry.TagRunID: "x"}}})
		for _, tt := range []struct {
			trace byte
			tags  telemetry.Tags
			want  string // "" for none
		}{
			{1, nil, "outer"},
			{1, telemetry.Tags{telemetry.TagRunID: "nested"}, "nested"},
			{2, telemetry.Tags{telemetry.TagRunID: "outer"}, "outer"},
			{2, nil, ""},
			{1, telemetry.Tags{telemetry.TagRunID: "x"}, ""},
		} {
			run, ok := x.RunOf(telemetry.TraceID{tt.trace}, tt.tags)
			if got := map[bool]string{true: run.Name}[ok]; got != tt.want {
				t.Errorf("order %s first: RunOf(%d, %v) = %q, want %q", order[0].Name, tt.trace, tt.tags, got, tt.want)
			}
		}
	}
	var x RunIndex
	for i := range maxIndexedRuns + 1 {
		sp := runSpan(0, fmt.Sprint(i), t0)
		sp.TraceID = telemetry.TraceID{byte(i), byte(i >> 8)}
		x.Learn([]telemetry.Span{sp})
	}
	if _, ok := x.Run("0"); ok {
		t.Error("the oldest run is still known past the bound")
	}
	if _, ok := x.Run(fmt.Sprint(maxIndexedRuns)); !ok {
		t.Error("the newest run is not known")
	}
	if run, ok := x.RunOf(telemetry.TraceID{0, 0}, nil); ok {
		t.Errorf("the oldest run's trace still gives run %q", run.Name)
	}
}
