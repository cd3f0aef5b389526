package store

import (
	"context"
	"maps"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestDeploymentHistoryDurations(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	var spans []telemetry.Span
	// 52 finished "train" runs a minute apart lasting 1s, 2s, … 52s, the
	// runs of an even number of seconds costing that many dollars.
	for i := range HistoryRuns + 2 {
		run := runSpan("a", time.Duration(i)*time.Minute, time.Duration(i+1)*time.Second)
		if (i+1)%2 == 0 {
			run.Attributes[telemetry.AttrCostUSD] = float64(i + 1)
		}
		spans = append(spans, run)
	}
	inProgress := runSpan("b", 30*time.Second, 0)
	eval := runSpan("c", 90*time.Second, 7*time.Second)
	eval.Tags[telemetry.TagDeployment] = "eval"
	write(t, s, telemetry.Batch{Spans: append(spans, inProgress, eval)})

	seconds := func(from, to int) []PastRun { // from down to to
		var out []PastRun
		for i := from; i >= to; i-- {
			p := PastRun{Duration: time.Duration(i) * time.Second}
			if i%2 == 0 {
				cost := float64(i)
				p.CostUSD = &cost
			}
			out = append(out, p)
		}
		return out
	}
	tests := []struct {
		deployment string
		before     time.Time
		want       []PastRun
	}{
		{"train", t0, nil}, // nothing earlier
		{"train", t0.Add(3 * time.Minute), seconds(3, 1)},             // the in-progress run is left out
		{"train", t0.Add(3*time.Minute + time.Second), seconds(4, 1)}, // started before, even if it ended after
		{"train", t0.Add(time.Hour), seconds(HistoryRuns+2, 3)},       // the newest HistoryRuns
		{"eval", t0.Add(time.Hour), []PastRun{{Duration: 7 * time.Second}}},
		{"", t0.Add(time.Hour), nil},
		{"other", t0.Add(time.Hour), nil},
	}
	for _, tt := range tests {
		got, err := s.DeploymentHistory(ctx, tt.deployment, tt.before)
		if err != nil {
			t.Fatalf("DeploymentHistory(%q, %v) = %v", tt.deployment, tt.before, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("DeploymentHistory(%q, %v) (-want +got):\n%s", tt.deployment, tt.before, diff)
		}
	}
}

// TestDeploymentHistoryAttributes: a past run's cost and span counts come
// from its run span's attributes when they are numbers of the right kind.
func TestDeploymentHistoryAttributes(t *testing.T) {
	cost := func(f float64) *float64 { return &f }
	tests := []struct {
		name  string
		attrs map[string]any
		want  PastRun
	}{
		{"cost and spans", map[string]any{telemetry.AttrCostUSD: 1.25, telemetry.AttrSpanCount: int64(40), telemetry.AttrErrorSpanCount: int64(3)},
			PastRun{CostUSD: cost(1.25), Spans: 40, ErrorSpans: 3}},
		{"a whole-dollar cost", map[string]any{telemetry.AttrCostUSD: 2.0}, PastRun{CostUSD: cost(2)}},
		{"a cost of 0", map[string]any{telemetry.AttrCostUSD: 0.0, telemetry.AttrSpanCount: int64(0), telemetry.AttrErrorSpanCount: int64(0)},
			PastRun{CostUSD: cost(0)}},
		{"none recorded", nil, PastRun{}},
		{"not numbers", map[string]any{telemetry.AttrCostUSD: "1.25", telemetry.AttrSpanCount: "40", telemetry.AttrErrorSpanCount: int64(3)},
			PastRun{}},
		{"NaN and a fractional count", map[string]any{telemetry.AttrCostUSD: math.NaN(), telemetry.AttrSpanCount: 4.5, telemetry.AttrErrorSpanCount: int64(1)},
			PastRun{}},
		{"more errors than spans", map[string]any{telemetry.AttrSpanCount: int64(2), telemetry.AttrErrorSpanCount: int64(3)}, PastRun{}},
		{"a negative cost", map[string]any{telemetry.AttrCostUSD: -1.0}, PastRun{}},
		{"only the span count", map[string]any{telemetry.AttrSpanCount: int64(2)}, PastRun{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t, t.TempDir())
			run := runSpan("a", 0, time.Second)
			maps.Copy(run.Attributes, tt.attrs)
			write(t, s, telemetry.Batch{Spans: []telemetry.Span{run}})
			got, err := s.DeploymentHistory(context.Background(), "train", t0.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Duration = time.Second
			if diff := cmp.Diff([]PastRun{tt.want}, got); diff != "" {
				t.Errorf("DeploymentHistory of a run with %v (-want +got):\n%s", tt.attrs, diff)
			}
		})
	}
}

// TestDeploymentHistoryPlan: the runs are found through the spans_runs
// index, and the attributes are read by rowid for the runs returned only.
func TestDeploymentHistoryPlan(t *testing.T) {
	s := openStore(t, t.TempDir())
	joined := queryPlan(t, s, deploymentHistorySQL, "train", 1, HistoryRuns, "$.a", "$.b", "$.c")
	for _, want := range []string{"SEARCH spans USING INDEX spans_run_history (deployment=? AND start_ns>? AND start_ns<?)", "SEARCH s USING INTEGER PRIMARY KEY (rowid=?)"} {
		if !strings.Contains(joined, want) {
			t.Errorf("history query plan:\n%s\nwant %q", joined, want)
		}
	}
	if strings.Contains(joined, "SCAN spans") || strings.Contains(joined, "SCAN s ") {
		t.Errorf("history query plan:\n%s\nwant no scan of spans", joined)
	}
}
