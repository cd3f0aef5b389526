package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestSessionLogLines: logs of every level and span exceptions, newest
// first with their span's name; errors grouped by type and message.
func TestSessionLogLines(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	run := runSpan("logs", 0, time.Minute)
	run.Tags[telemetry.TagRunID] = "r1"
	tool := childSpan(&run, "tool", time.Second, time.Second)
	var spans []telemetry.Span
	for i := range 3 { // three failures of one kind, one of another
		sp := childSpan(&run, "llm", time.Duration(10+i)*time.Second, time.Second)
		sp.Status = telemetry.StatusError
		sp.Exceptions = []telemetry.Exception{{Type: "RateLimit", Message: "slow down"}}
		spans = append(spans, sp)
	}
	timeout := childSpan(&run, "llm", 20*time.Second, time.Second)
	timeout.Status, timeout.StatusMessage = telemetry.StatusError, "deadline"
	handled := childSpan(&run, "retry", 30*time.Second, time.Second) // an exception on a span that did not fail
	handled.Exceptions = []telemetry.Exception{{Type: "Timeout", Message: "retried", Time: t0.Add(30500 * time.Millisecond)}}
	spans = append(spans, run, tool, timeout, handled)
	tags := telemetry.Tags{telemetry.TagSessionID: "logs", telemetry.TagRunID: "r1"}
	logs := []telemetry.Log{
		{Time: t0.Add(2 * time.Second), Level: "info", Message: "calling tool", Tags: tags, TraceID: run.TraceID, SpanID: tool.SpanID},
		{Time: t0.Add(40 * time.Second), Level: "error", Message: "", Exception: "KeyError: 'x'\n  at main", Tags: tags},
		{Time: t0.Add(41 * time.Second), Level: "ERROR", Exception: "KeyError: 'x'", Tags: tags},
		{Time: t0.Add(42 * time.Second), Level: "error", Message: "KeyError: 'x'", Tags: tags},
	}
	write(t, s, telemetry.Batch{Spans: spans, Logs: logs})

	d, err := s.Session(ctx, "logs")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range d.LogLines {
		got = append(got, fmt.Sprintf("%s %s %s %s %q %s", l.Time.Sub(t0), l.Kind, l.Level, l.Type, l.Message, l.SpanName))
	}
	want := []string{
		`42s log error  "KeyError: 'x'" `,
		`41s log ERROR  "KeyError: 'x'" `,
		`40s log error  "KeyError: 'x'" `,
		`30.5s exception  Timeout "retried" retry`,
		`13s exception  RateLimit "slow down" llm`,
		`12s exception  RateLimit "slow down" llm`,
		`11s exception  RateLimit "slow down" llm`,
		`2s log info  "calling tool" tool`,
	}
	if diff := cmp.Diff(want, got); diff != "" || d.MoreLogLines != 0 {
		t.Errorf("log lines (more %d) (-want +got):\n%s", d.MoreLogLines, diff)
	}
	var groups []string
	for _, g := range d.ErrorGroups {
		groups = append(groups, fmt.Sprintf("%d %s %s %q %s..%s", g.Count, g.Kind, g.Type, g.Message, g.First.Sub(t0), g.Last.Sub(t0)))
	}
	wantGroups := []string{
		`3 log error "KeyError: 'x'" 40s..42s`,
		`3 span RateLimit "slow down" 11s..13s`,
		`1 span  "deadline" 21s..21s`,
	}
	if diff := cmp.Diff(wantGroups, groups); diff != "" || d.MoreErrorGroups != 0 {
		t.Errorf("error groups (more %d) (-want +got):\n%s", d.MoreErrorGroups, diff)
	}
}

// TestSessionLogLinesBound: the newest MaxLogLines lines of logs and
// exceptions together, the rest counted.
func TestSessionLogLinesBound(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	run := runSpan("many", 0, time.Hour)
	tags := telemetry.Tags{telemetry.TagSessionID: "many"}
	var logs []telemetry.Log
	for i := range MaxLogLines + 50 {
		logs = append(logs, telemetry.Log{Time: t0.Add(time.Duration(i) * time.Second), Level: "info",
			Message: fmt.Sprint(i), Tags: tags})
	}
	late := childSpan(&run, "late", time.Duration(MaxLogLines+100)*time.Second, time.Second)
	late.Exceptions = []telemetry.Exception{{Type: "E", Message: "newest"}}
	early := childSpan(&run, "early", 0, time.Millisecond)
	early.Exceptions = []telemetry.Exception{{Type: "E", Message: "oldest"}}
	write(t, s, telemetry.Batch{Spans: []telemetry.Span{run, late, early}, Logs: logs})
	d, err := s.Session(ctx, "many")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.LogLines) != MaxLogLines || d.MoreLogLines != 52 {
		t.Fatalf("log lines = %d, more %d; want %d, 52", len(d.LogLines), d.MoreLogLines, MaxLogLines)
	}
	first, last := d.LogLines[0], d.LogLines[len(d.LogLines)-1]
	if first.Message != "newest" || last.Message != fmt.Sprint(51) {
		t.Errorf("lines run from %q to %q, want newest to 51", first.Message, last.Message)
	}
}
