package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// benchAgentSession writes a run of session id with spans spans in agent
// turns (an agent span over an llm span, with a first_token event, and a
// tool span; every 50th llm span failed with an exception) and a log line
// per turn.
func benchAgentSession(b *testing.B, s *Store, id string, offset time.Duration, spans int) {
	b.Helper()
	run := runSpan(id, offset, time.Duration(spans)*10*time.Millisecond)
	run.Tags[telemetry.TagRunID] = run.SpanID.String()
	batch := telemetry.Batch{Spans: []telemetry.Span{run}}
	flush := func() {
		if err := s.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		batch = telemetry.Batch{}
	}
	for turn := 0; turn*3 < spans; turn++ {
		at := time.Duration(turn) * 30 * time.Millisecond
		agent := childSpan(&run, "agent", at, 25*time.Millisecond)
		llm := childSpan(&run, "llm", at+time.Millisecond, time.Duration(5+turn%15)*time.Millisecond)
		llm.ParentSpanID = agent.SpanID
		llm.Events = []telemetry.Event{{Name: "first_token", Time: llm.Start.Add(2 * time.Millisecond)}}
		if turn%50 == 0 {
			llm.Status = telemetry.StatusError
			llm.Exceptions = []telemetry.Exception{{Type: "RateLimit", Message: "slow down"}}
		}
		tool := childSpan(&run, "tool", at+20*time.Millisecond, 4*time.Millisecond)
		tool.ParentSpanID = agent.SpanID
		batch.Spans = append(batch.Spans, agent, llm, tool)
		batch.Logs = append(batch.Logs, telemetry.Log{Time: llm.End, Level: "info", Message: "turn done",
			Tags: run.Tags.Clone(), TraceID: run.TraceID, SpanID: llm.SpanID})
		if len(batch.Spans) >= 3000 {
			flush()
		}
	}
	flush()
}

// BenchmarkShowLargeStore shows one session of 10,000 spans in a store of
// 1,000 sessions and about 1,000,000 spans (the other sessions 990 spans
// each): `graphsignal show`'s store query, the latency and log sections
// included.
func BenchmarkShowLargeStore(b *testing.B) {
	ctx := context.Background()
	s, id := benchAgentStore(b, 1000)
	b.ResetTimer()
	for b.Loop() {
		d, err := s.Session(ctx, id)
		if err != nil || len(d.Runs) != 1 || len(d.Runs[0].Spans) != 3 || len(d.LogLines) == 0 {
			b.Fatal(err)
		}
	}
}

// benchAgentStore returns a store of sessions agent sessions of 990 spans
// each (benchAgentSession), but the middle one of 10,000, and that one's id.
func benchAgentStore(b *testing.B, sessions int) (*Store, string) {
	b.Helper()
	s, err := Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for i := range sessions {
		n := 990
		if i == sessions/2 {
			n = 10_000
		}
		benchAgentSession(b, s, fmt.Sprintf("sess-%d", i), time.Duration(i)*time.Minute, n)
	}
	return s, fmt.Sprintf("sess-%d", sessions/2)
}
