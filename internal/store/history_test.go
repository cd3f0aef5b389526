package store

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestDeploymentDurations(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	var spans []telemetry.Span
	// 52 finished "train" runs a minute apart lasting 1s, 2s, … 52s.
	for i := range HistoryRuns + 2 {
		spans = append(spans, runSpan("a", time.Duration(i)*time.Minute, time.Duration(i+1)*time.Second))
	}
	inProgress := runSpan("b", 30*time.Second, 0)
	eval := runSpan("c", 90*time.Second, 7*time.Second)
	eval.Tags[telemetry.TagDeployment] = "eval"
	write(t, s, telemetry.Batch{Spans: append(spans, inProgress, eval)})

	seconds := func(from, to int) []time.Duration { // from down to to
		var out []time.Duration
		for i := from; i >= to; i-- {
			out = append(out, time.Duration(i)*time.Second)
		}
		return out
	}
	tests := []struct {
		deployment string
		before     time.Time
		want       []time.Duration
	}{
		{"train", t0, nil}, // nothing earlier
		{"train", t0.Add(3 * time.Minute), seconds(3, 1)},             // the in-progress run is left out
		{"train", t0.Add(3*time.Minute + time.Second), seconds(4, 1)}, // started before, even if it ended after
		{"train", t0.Add(time.Hour), seconds(HistoryRuns+2, 3)},       // the newest HistoryRuns
		{"eval", t0.Add(time.Hour), []time.Duration{7 * time.Second}},
		{"", t0.Add(time.Hour), nil},
		{"other", t0.Add(time.Hour), nil},
	}
	for _, tt := range tests {
		got, err := s.DeploymentDurations(ctx, tt.deployment, tt.before)
		if err != nil {
			t.Fatalf("DeploymentDurations(%q, %v) = %v", tt.deployment, tt.before, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("DeploymentDurations(%q, %v) (-want +got):\n%s", tt.deployment, tt.before, diff)
		}
	}
}
