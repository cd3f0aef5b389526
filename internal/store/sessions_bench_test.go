package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// benchChatStore fills a store with runs runs of a chat server, each
// serving perRun sessions of spans spans each (two users), as
// sessionsFromRecords does, and returns it with one session's id.
func benchChatStore(b *testing.B, runs, perRun, spans int) (*Store, string) {
	b.Helper()
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for r := range runs {
		run := runSpan(fmt.Sprintf("job-%d", r), time.Duration(r)*time.Minute, time.Minute)
		run.Tags[telemetry.TagRunID] = run.SpanID.String()
		batch := telemetry.Batch{Spans: []telemetry.Span{run}}
		for c := range perRun {
			for i := range spans {
				sp := childSpan(&run, "generate", time.Duration(i)*time.Millisecond, time.Millisecond)
				sp.Tags[telemetry.TagSessionID] = fmt.Sprintf("chat-%d-%d", r, c)
				sp.Tags[telemetry.TagUserID] = fmt.Sprintf("user-%d", c%2)
				batch.Spans = append(batch.Spans, sp)
			}
		}
		if err := s.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	return s, fmt.Sprintf("chat-%d-%d", runs/2, perRun/2)
}

// BenchmarkSessionsList lists 2,200 sessions (200 runs, 10 chat sessions
// each, 100,000 spans), and with a user filter.
func BenchmarkSessionsList(b *testing.B) {
	s, _ := benchChatStore(b, 200, 10, 50)
	ctx := context.Background()
	for _, f := range []struct {
		name string
		f    SessionFilter
	}{{"all", SessionFilter{}}, {"user", SessionFilter{User: "user-1"}}} {
		b.Run(f.name, func(b *testing.B) {
			for b.Loop() {
				got, err := s.Sessions(ctx, f.f)
				if err != nil || len(got) == 0 {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}

// BenchmarkShowChatSession shows one chat session of that store, and the
// run's own session (its 500 spans).
func BenchmarkShowChatSession(b *testing.B) {
	s, id := benchChatStore(b, 200, 10, 50)
	ctx := context.Background()
	for _, name := range []string{id, "job-100"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				d, err := s.Session(ctx, name)
				if err != nil || len(d.Runs) != 1 {
					b.Fatal(err)
				}
			}
		})
	}
}
