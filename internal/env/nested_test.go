package env

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestNestedRunTags: a run started inside another run's child never takes
// the enclosing run's run_id; it records it as parent_run_id.
func TestNestedRunTags(t *testing.T) {
	inOuter := []string{VarParentSpanID + "=00f067aa0ba902b7", VarTags + "=deployment=app,run_id=outer-1,session_id=s"}
	inInner := []string{VarParentSpanID + "=00f067aa0ba902b8", VarTags + "=deployment=app,parent_run_id=outer-1,run_id=inner-1,session_id=s"}
	tests := []struct {
		name    string
		tags    telemetry.Tags
		environ []string
		want    telemetry.Tags
	}{
		{"outside a run", telemetry.Tags{"run_id": "mine", "a": "b"}, nil, telemetry.Tags{"run_id": "mine", "a": "b"}},
		{"outside a run, none", nil, nil, telemetry.Tags{}},
		{"user's GRAPHSIGNAL_TAGS outside a run", telemetry.Tags{"run_id": "r"}, []string{VarTags + "=run_id=r"}, telemetry.Tags{"run_id": "r"}},
		{"nested", telemetry.Tags{"deployment": "app", "run_id": "outer-1", "session_id": "s"}, inOuter,
			telemetry.Tags{"deployment": "app", "parent_run_id": "outer-1", "session_id": "s"}},
		{"nested twice", telemetry.Tags{"deployment": "app", "parent_run_id": "outer-1", "run_id": "inner-1", "session_id": "s"}, inInner,
			telemetry.Tags{"deployment": "app", "parent_run_id": "inner-1", "session_id": "s"}},
		{"nested, own run_id by flag", telemetry.Tags{"run_id": "step-2", "session_id": "s"}, inOuter,
			telemetry.Tags{"run_id": "step-2", "parent_run_id": "outer-1", "session_id": "s"}},
		{"nested, outer's run_id from GRAPHSIGNAL_TAG_RUN_ID", telemetry.Tags{"run_id": "custom"},
			[]string{VarParentSpanID + "=00f067aa0ba902b7", VarTags + "=run_id=custom", VarTagPrefix + "RUN_ID=custom"},
			telemetry.Tags{"parent_run_id": "custom"}},
		{"nested, enclosing run_id not handed down", telemetry.Tags{"parent_run_id": "grand"},
			[]string{VarParentSpanID + "=00f067aa0ba902b7", VarTags + "=parent_run_id=grand"}, telemetry.Tags{}},
	}
	for _, tt := range tests {
		in := tt.tags.Clone()
		got := NestedRunTags(tt.tags, tt.environ)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: NestedRunTags(%v) (-want +got):\n%s", tt.name, tt.tags, diff)
		}
		if diff := cmp.Diff(in, tt.tags); diff != "" {
			t.Errorf("%s: NestedRunTags modified its argument:\n%s", tt.name, diff)
		}
	}
}
