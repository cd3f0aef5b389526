package store

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestSessionPrograms checks SessionSummary.Programs: the distinct
// non-empty names of a session's runs, sorted, at most MaxSessionPrograms,
// in the list and in one session's summary.
func TestSessionPrograms(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	var spans []telemetry.Span
	// ci: eight runs of seven programs (train.py twice, one unnamed).
	for i, name := range []string{"train.py", "prep", "eval.py", "train.py", "", "lint", "upload", "zip", "bench"} {
		sp := runSpan("ci", time.Duration(i)*time.Minute, time.Second)
		sp.Name = name
		spans = append(spans, sp)
	}
	unnamed := runSpan("unnamed", time.Hour, time.Second)
	unnamed.Name = ""
	spans = append(spans, unnamed)
	write(t, s, telemetry.Batch{Spans: spans})

	want := map[string][]string{
		"ci":      {"bench", "eval.py", "lint", "prep", "train.py"},
		"unnamed": nil,
	}
	got, err := s.Sessions(ctx, SessionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("Sessions() = %d sessions, want %d", len(got), len(want))
	}
	for _, sum := range got {
		if !cmp.Equal(sum.Programs, want[sum.ID]) {
			t.Errorf("Sessions(): %s programs %q, want %q", sum.ID, sum.Programs, want[sum.ID])
		}
		d, err := s.Session(ctx, sum.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(d.Summary.Programs, want[sum.ID]) {
			t.Errorf("Session(%s).Summary.Programs = %q, want %q", sum.ID, d.Summary.Programs, want[sum.ID])
		}
	}
}

func TestDistinct(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`[]`, nil},
		{`[""]`, nil},
		{`["b","","a"]`, []string{"a", "b"}},
		{`["a b","c,d"]`, []string{"a b", "c,d"}},
		{`["say \"hi\"","x\\y"]`, []string{`say "hi"`, `x\y`}},
		{`["a\n"]`, []string{"a\n"}},
		{`["é","日本"]`, []string{"é", "日本"}},
		{`["a",null,"b"]`, []string{"a", "b"}},
		{`not json`, nil},
	}
	for _, tt := range tests {
		if got := distinct(newColumnDecoder(), tt.in); !cmp.Equal(got, tt.want) {
			t.Errorf("distinct(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
