package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// A live server run (no end yet) whose requests carry their own session
// ids: the size rule deletes none of it, however far over the bound, and
// the index still stands on records.
func TestPruneSizeKeepsLiveServer(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	old := runSpan("old", 0, time.Minute) // ended: deletable
	write(t, s, batchOf(old, 100))
	run := runSpan("server", time.Hour, 0) // in progress
	run.Tags[telemetry.TagRunID] = run.SpanID.String()
	spans := []telemetry.Span{run}
	for i := range 50 {
		sp := childSpan(&run, "handle", 2*time.Hour+time.Duration(i)*time.Second, time.Second)
		sp.Tags[telemetry.TagSessionID] = []string{"chat-1", "chat-2"}[i%2]
		spans = append(spans, sp)
	}
	write(t, s, telemetry.Batch{Spans: spans})

	if err := s.Prune(ctx, 0, 1); err != nil { // any size is over the bound
		t.Fatalf("Prune() = %v", err)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM spans WHERE is_run = 1`:                         1, // the live run; "old" deleted
		`SELECT count(*) FROM spans WHERE session_id IN ('chat-1', 'chat-2')`: 50,
		`SELECT count(*) FROM metrics`:                                        0,
		`SELECT count(*) FROM session_links WHERE session_id = 'old'`:         0,
		`SELECT count(*) FROM session_tags WHERE session_id = 'old'`:          0,
	} {
		if got := count(t, s, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
	got, err := s.Sessions(ctx, SessionFilter{})
	if err != nil {
		t.Fatalf("Sessions() = %v", err)
	}
	runs := map[string]int{}
	for _, x := range got {
		runs[x.ID] = x.Runs
	}
	if diff := cmp.Diff(map[string]int{"server": 1, "chat-1": 1, "chat-2": 1}, runs); diff != "" {
		t.Errorf("sessions and their runs after Prune (-want +got):\n%s", diff)
	}
}

// A run's age is its last record, metric points included; a run without an
// end is never deleted for age, until EndAbandoned ends it.
func TestPruneAgeLiveAndAbandonedRuns(t *testing.T) {
	ctx := context.Background()
	day := 24 * time.Hour
	now := t0.Add(41 * day)
	s := openStore(t, t.TempDir(), WithClock(func() time.Time { return now }))
	// name, run start (offset from t0), run length (0: in progress), last point before now
	cases := []struct {
		name      string
		start, d  time.Duration
		lastPoint time.Duration
		abandon   bool
		kept      bool
	}{
		{name: "live-recent", start: 10 * day, lastPoint: time.Minute, kept: true},      // a 31-day run, still sampling
		{name: "live-silent", start: 0, lastPoint: 35 * day, kept: true},                // no end: maybe paused, kept
		{name: "abandoned", start: 0, lastPoint: 35 * day, abandon: true},               // ended at its last point
		{name: "abandoned-recent", start: 0, lastPoint: day, abandon: true, kept: true}, // ended at its last point, a day ago
		{name: "ended-old", start: 0, d: day, lastPoint: 40 * day},
	}
	runs := map[string]telemetry.Span{}
	for _, c := range cases {
		run := runSpan(c.name, c.start, c.d)
		runs[c.name] = run
		var ms []telemetry.Metric
		for i := range 10 {
			ms = append(ms, telemetry.Metric{TraceID: run.TraceID, Name: "cpu", Kind: telemetry.Gauge, Value: 1,
				Time: now.Add(-c.lastPoint - time.Duration(i)*time.Minute)})
		}
		write(t, s, telemetry.Batch{Spans: []telemetry.Span{run}, Metrics: ms})
	}
	for _, c := range cases {
		if c.abandon {
			if _, err := s.EndAbandoned(ctx, runs[c.name].SpanID); err != nil {
				t.Fatalf("EndAbandoned(%s) = %v", c.name, err)
			}
		}
	}
	if err := s.Prune(ctx, DefaultMaxAge, 0); err != nil {
		t.Fatalf("Prune() = %v", err)
	}
	for _, c := range cases {
		trace := runs[c.name].TraceID.String()
		want := 0
		if c.kept {
			want = 10
		}
		var points int
		if err := s.db.QueryRow(`SELECT count(*) FROM metrics WHERE trace_id = ?`, trace).Scan(&points); err != nil {
			t.Fatal(err)
		}
		if points != want {
			t.Errorf("%s: %d metric points after Prune, want %d", c.name, points, want)
		}
		listed, err := s.Sessions(ctx, SessionFilter{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, x := range listed {
			found = found || x.ID == c.name
		}
		if found != c.kept {
			t.Errorf("%s: listed after Prune = %v, want %v", c.name, found, c.kept)
		}
	}
}

// Deleting a run's trace drops the index rows of every session that had
// records in it, not only the run's own session: no session is listed with
// nothing behind it, and one with other records keeps those.
func TestDeleteSessionDropsOtherSessionsLinks(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	run := runSpan("server", 0, time.Hour)
	run.Tags[telemetry.TagRunID] = run.SpanID.String()
	other := runSpan("other", 2*time.Hour, time.Hour) // a trace that stays
	inTrace := childSpan(&run, "handle", time.Minute, time.Second)
	inTrace.Tags[telemetry.TagSessionID] = "chat-only-here"
	inTrace.Tags[telemetry.TagUserID] = "u1"
	byRun := childSpan(&run, "handle", 2*time.Minute, time.Second)
	byRun.Tags[telemetry.TagSessionID] = "chat-elsewhere-too"
	// A span of the run in another trace (a request's own trace).
	elsewhere := byRun
	elsewhere.TraceID, elsewhere.SpanID = telemetry.NewTraceID(), telemetry.NewSpanID()
	elsewhere.Tags = byRun.Tags.Clone()
	elsewhere.Tags[telemetry.TagSessionID] = "chat-run-elsewhere"
	later := childSpan(&other, "handle", time.Minute, time.Second)
	later.Tags[telemetry.TagSessionID] = "chat-elsewhere-too"
	write(t, s, telemetry.Batch{Spans: []telemetry.Span{run, other, inTrace, byRun, elsewhere, later},
		Logs: []telemetry.Log{{Level: "error", Message: "x", TraceID: run.TraceID, Time: t0,
			Tags: telemetry.Tags{telemetry.TagSessionID: "chat-log"}}}})

	if err := s.deleteSession(ctx, "server"); err != nil {
		t.Fatalf("deleteSession() = %v", err)
	}
	if diff := cmp.Diff([]string{"chat-elsewhere-too", "other"}, sortedIDs(t, s)); diff != "" {
		t.Errorf("sessions after deleting server (-want +got):\n%s", diff)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM spans WHERE run_id = '` + run.SpanID.String() + `'`:                    0,
		`SELECT count(*) FROM session_links WHERE session_id NOT IN ('chat-elsewhere-too', 'other')`: 0,
		`SELECT count(*) FROM session_tags WHERE session_id NOT IN ('chat-elsewhere-too', 'other')`:  0,
		`SELECT count(*) FROM session_links WHERE session_id = 'chat-elsewhere-too'`:                 1,
	} {
		if got := count(t, s, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
	sum, err := s.Sessions(ctx, SessionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range sum {
		if x.Runs != 1 {
			t.Errorf("session %s: %d runs, want 1", x.ID, x.Runs)
		}
	}
}

func sortedIDs(t *testing.T, s *Store) []string {
	t.Helper()
	ids := sessionIDs(t, s)
	slices.Sort(ids)
	return ids
}

// BenchmarkPruneDaily measures the daily retention pass over a store of
// 500 ended runs of 2,000 metric points each and a live server run with
// 20,000 spans of 2,000 chat sessions, with nothing old enough to delete:
// the cost of ranking sessions and finding those of runs in progress.
func BenchmarkPruneDaily(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range 500 {
		run := runSpan(fmt.Sprintf("run-%d", i), time.Duration(i)*time.Minute, time.Minute)
		if err := s.Write(ctx, batchOf(run, 2000)); err != nil {
			b.Fatal(err)
		}
	}
	server := runSpan("server", 0, 0)
	server.Tags[telemetry.TagRunID] = server.SpanID.String()
	for i := range 20 {
		spans := make([]telemetry.Span, 0, 1000)
		for j := range 1000 {
			sp := childSpan(&server, "handle", time.Duration(i*1000+j)*time.Millisecond, time.Millisecond)
			sp.Tags[telemetry.TagSessionID] = fmt.Sprintf("chat-%d", j%2000+i%2*1000)
			spans = append(spans, sp)
		}
		if err := s.Write(ctx, telemetry.Batch{Spans: spans}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if err := s.Prune(ctx, 365*24*time.Hour, 1<<40); err != nil {
			b.Fatal(err)
		}
	}
}
