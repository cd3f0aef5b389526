package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestLateScores checks which sessions include a score recorded after the
// run (as `graphsignal score` writes it outside a run) and that it is
// joined to the span it names. The run "own-1" (run_id r-1) has an llm
// span in its trace, a tool span in a trace of its own (an SDK's), and
// serves the session "chat-1": a chat span in the run's trace and a turn
// span in a third trace. The run "other" is unrelated.
func TestLateScores(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	run := runSpan("own-1", 0, time.Minute)
	run.Tags[telemetry.TagRunID] = "r-1"
	llm := childSpan(&run, "llm", time.Second, time.Second)
	tool := childSpan(&run, "tool", 2*time.Second, time.Second)
	tool.TraceID, tool.ParentSpanID = telemetry.NewTraceID(), telemetry.SpanID{}
	chat := childSpan(&run, "chat", 3*time.Second, time.Second)
	chat.Tags[telemetry.TagSessionID] = "chat-1"
	turn := childSpan(&run, "turn", 4*time.Second, time.Second)
	turn.TraceID, turn.ParentSpanID = telemetry.NewTraceID(), telemetry.SpanID{}
	turn.Tags[telemetry.TagSessionID] = "chat-1"
	other := runSpan("other", time.Hour, time.Minute)
	other.Tags[telemetry.TagRunID] = "r-2"
	otherSpan := childSpan(&other, "embed", time.Second, time.Second)
	write(t, s, telemetry.Batch{Spans: []telemetry.Span{run, llm, tool, chat, turn, other, otherSpan}})

	tests := []struct {
		name  string
		trace telemetry.TraceID
		span  telemetry.SpanID
		tags  telemetry.Tags
		// in maps the sessions that include the score to the span name
		// its summary's worst score carries.
		in map[string]string
	}{
		{name: "session-only", tags: telemetry.Tags{telemetry.TagSessionID: "chat-1"}, in: map[string]string{"chat-1": ""}},
		{name: "run-only", tags: telemetry.Tags{telemetry.TagRunID: "r-1"}, in: map[string]string{"own-1": ""}},
		{name: "span-in-run-trace", trace: llm.TraceID, span: llm.SpanID, in: map[string]string{"own-1": "llm"}},
		{name: "run-trace-only", trace: run.TraceID, in: map[string]string{"own-1": ""}},
		{name: "span-in-sdk-trace", trace: tool.TraceID, span: tool.SpanID, in: map[string]string{"own-1": "tool"}},
		{name: "sdk-trace-only", trace: tool.TraceID, in: map[string]string{"own-1": ""}},
		{name: "chat-span-in-run-trace", trace: chat.TraceID, span: chat.SpanID,
			in: map[string]string{"own-1": "chat", "chat-1": "chat"}},
		{name: "chat-span-in-own-trace", trace: turn.TraceID, span: turn.SpanID,
			in: map[string]string{"own-1": "turn", "chat-1": "turn"}},
		{name: "chat-trace-only", trace: turn.TraceID, in: map[string]string{"own-1": "", "chat-1": ""}},
		{name: "span-and-user", trace: turn.TraceID, span: turn.SpanID, tags: telemetry.Tags{telemetry.TagUserID: "bob"},
			in: map[string]string{"own-1": "turn", "chat-1": "turn"}},
		{name: "other-run-span", trace: otherSpan.TraceID, span: otherSpan.SpanID, in: map[string]string{"other": "embed"}},
		{name: "tagged-elsewhere", trace: turn.TraceID, span: turn.SpanID,
			tags: telemetry.Tags{telemetry.TagSessionID: "other"}, in: map[string]string{"other": "turn"}},
		{name: "unknown-span", trace: telemetry.NewTraceID(), span: telemetry.NewSpanID(),
			tags: telemetry.Tags{telemetry.TagUserID: "bob"}, in: map[string]string{}},
	}
	for i, tt := range tests {
		// Two scores per case, so that the worse one is listed with its
		// span.
		var b telemetry.Batch
		for _, v := range []float64{0, 1} {
			b.Scores = append(b.Scores, telemetry.Score{Name: tt.name, Value: v, TraceID: tt.trace, SpanID: tt.span,
				Tags: tt.tags, Time: t0.Add(time.Duration(2*time.Hour) + time.Duration(i)*time.Second)})
		}
		write(t, s, b)
	}
	sessions := map[string]*SessionDetail{}
	for _, id := range []string{"own-1", "chat-1", "other"} {
		d, err := s.Session(ctx, id)
		if err != nil {
			t.Fatalf("Session(%q) = %v", id, err)
		}
		sessions[id] = d
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for id, d := range sessions {
				var got *ScoreSummary
				for i := range d.ScoreSummaries {
					if d.ScoreSummaries[i].Name == tt.name {
						got = &d.ScoreSummaries[i]
					}
				}
				span, want := tt.in[id]
				switch {
				case !want && got != nil:
					t.Errorf("Session(%q) includes %s: %+v", id, tt.name, got)
				case want && got == nil:
					t.Errorf("Session(%q) leaves out %s", id, tt.name)
				case want && (got.Count != 2 || len(got.Worst) != 1 || got.Worst[0].SpanName != span ||
					got.Worst[0].SpanID != tt.span):
					t.Errorf("Session(%q) %s = %+v, want 2 scores, the worst on span %q", id, tt.name, got, span)
				}
			}
		})
	}
}

// TestSummarizeScores checks the per-name statistics, distribution and
// worst scores.
func TestSummarizeScores(t *testing.T) {
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	scores := func(name string, values ...float64) []Score {
		out := make([]Score, len(values))
		for i, v := range values {
			out[i] = Score{Name: name, Value: v, Time: at(i)}
		}
		return out
	}
	ramp := make([]float64, 20) // 0, 0.05, … 0.95
	for i := range ramp {
		ramp[i] = float64(i) / 20
	}
	severe := scores("guard", 0.9, 0.1, 0.5, 0.2)
	severe[2].Severity, severe[3].Severity = 2, 1
	mixed := scores("latency", 1, 2, math.NaN())
	mixed[0].Unit, mixed[1].Unit = "s", "ms"
	tests := []struct {
		name   string
		scores []Score
		want   []ScoreSummary
		// worst are the values of the worst scores, in order.
		worst [][]float64
	}{
		{name: "thumbs", scores: scores("thumbs", 1, 0, 1, 1, 0),
			want: []ScoreSummary{{Name: "thumbs", Count: 5, Valued: 5, Mean: 0.6, Min: 0, P50: 1, Max: 1,
				Distribution: []ScoreBucket{{0, 0, 2}, {1, 1, 3}}}},
			worst: [][]float64{{0, 0}}},
		{name: "all equal", scores: scores("ok", 1, 1, 1),
			want:  []ScoreSummary{{Name: "ok", Count: 3, Valued: 3, Mean: 1, Min: 1, P50: 1, Max: 1, Distribution: []ScoreBucket{{1, 1, 3}}}},
			worst: [][]float64{nil}},
		{name: "histogram", scores: scores("relevance", ramp...),
			want: []ScoreSummary{{Name: "relevance", Count: 20, Valued: 20, Mean: 0.475, Min: 0, P50: 0.45, Max: 0.95,
				Distribution: []ScoreBucket{{0, 0.095, 2}, {0.095, 0.19, 2}, {0.19, 0.285, 2}, {0.285, 0.38, 2},
					{0.38, 0.475, 2}, {0.475, 0.57, 2}, {0.57, 0.665, 2}, {0.665, 0.76, 2}, {0.76, 0.855, 2}, {0.855, 0.95, 2}}}},
			worst: [][]float64{{0, 0.05, 0.1, 0.15, 0.2}}},
		{name: "severity first", scores: severe,
			want: []ScoreSummary{{Name: "guard", Count: 4, Valued: 4, Mean: 0.425, Min: 0.1, P50: 0.2, Max: 0.9,
				Distribution: []ScoreBucket{{0.1, 0.1, 1}, {0.2, 0.2, 1}, {0.5, 0.5, 1}, {0.9, 0.9, 1}}}},
			worst: [][]float64{{0.5, 0.2, 0.1}}},
		{name: "mixed units, no value", scores: mixed,
			want: []ScoreSummary{{Name: "latency", Count: 3, Valued: 2, Mean: 1.5, Min: 1, P50: 1, Max: 2,
				Distribution: []ScoreBucket{{1, 1, 1}, {2, 2, 1}}}},
			worst: [][]float64{{1, 2}}},
		{name: "by name", scores: append(scores("b", 2), scores("a", 3)...),
			want: []ScoreSummary{{Name: "a", Count: 1, Valued: 1, Mean: 3, Min: 3, P50: 3, Max: 3, Distribution: []ScoreBucket{{3, 3, 1}}},
				{Name: "b", Count: 1, Valued: 1, Mean: 2, Min: 2, P50: 2, Max: 2, Distribution: []ScoreBucket{{2, 2, 1}}}},
			worst: [][]float64{nil, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarizeScores(tt.scores)
			var worst [][]float64
			for i := range got {
				var vs []float64
				for _, w := range got[i].Worst {
					vs = append(vs, w.Value)
				}
				worst = append(worst, vs)
			}
			approx := cmpopts.EquateApprox(0, 1e-9)
			if diff := cmp.Diff(tt.want, got, approx, cmpopts.IgnoreFields(ScoreSummary{}, "Worst")); diff != "" {
				t.Errorf("summarizeScores(%s) mismatch (-want +got):\n%s", tt.name, diff)
			}
			if diff := cmp.Diff(tt.worst, worst, approx); diff != "" {
				t.Errorf("summarizeScores(%s) worst values mismatch (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

// TestSessionScoresReadIndexes checks that the session's scores are found
// through indexes: no branch scans the scores or spans table.
func TestSessionScoresReadIndexes(t *testing.T) {
	s := openStore(t, t.TempDir())
	joined := queryPlan(t, s, sessionScoresSQL, "s", `["r"]`, `["t"]`)
	for _, want := range []string{"scores_session (session_id=?)", "scores_run (run_id=?)", "scores_trace (trace_id=?)",
		"sqlite_autoindex_spans_1 (trace_id=? AND span_id=?)"} {
		if !strings.Contains(joined, want) {
			t.Errorf("session scores query plan:\n%s\nwant a search of %s", joined, want)
		}
	}
	for _, scan := range []string{"SCAN scores", "SCAN c", "SCAN spans", "SCAN s\n"} {
		if strings.Contains(joined+"\n", scan) {
			t.Errorf("session scores query plan:\n%s\nwant no %q", joined, scan)
		}
	}
}

// BenchmarkSessionScores shows a session of 10,000 spans holding 3,000
// scores (one per agent span, from five judges) in a store of 100 sessions
// and about 110,000 spans, with 1,000 scores recorded after the runs that
// name only spans (by trace and span id) across the store.
func BenchmarkSessionScores(b *testing.B) {
	ctx := context.Background()
	s, id := benchAgentStore(b, 100)
	rows, err := s.db.QueryContext(ctx, `SELECT trace_id, span_id, session_id FROM spans WHERE name = 'agent' ORDER BY rowid`)
	if err != nil {
		b.Fatal(err)
	}
	var own, late telemetry.Batch
	for i := 0; rows.Next(); i++ {
		var trace, span, session string
		if err := rows.Scan(&trace, &span, &session); err != nil {
			b.Fatal(err)
		}
		sc := telemetry.Score{Name: fmt.Sprintf("judge-%d", i%5), Value: float64(i % 7), Time: t0.Add(time.Duration(i) * time.Millisecond)}
		sc.TraceID, _ = telemetry.ParseTraceID(trace)
		sc.SpanID, _ = telemetry.ParseSpanID(span)
		switch {
		case session == id:
			sc.Tags = telemetry.Tags{telemetry.TagSessionID: id}
			own.Scores = append(own.Scores, sc)
		case i%30 == 0:
			late.Scores = append(late.Scores, sc)
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	rows.Close()
	for _, batch := range []telemetry.Batch{own, late} {
		if err := s.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		d, err := s.Session(ctx, id)
		if err != nil || len(d.Scores) != len(own.Scores) {
			b.Fatal(len(d.Scores), len(own.Scores), err)
		}
	}
}
