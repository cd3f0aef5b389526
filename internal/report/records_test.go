package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// fixtureRecords is session chat-42 as a chat server recorded it: one run
// (of its own session job-7) whose spans came through the socket in the
// run's trace and from an SDK in a trace of its own, one of them failed.
func fixtureRecords() *store.SessionDetail {
	runTrace := mustTrace("0af7651916cd43dd8448eb211c80319c")
	sdkTrace := mustTrace("5bf92f3577b34da6a3ce929d0e0e4736")
	span := func(id, parent, name string, start, d time.Duration, depth int) store.SpanNode {
		n := store.SpanNode{SpanID: mustSpan(id), Name: name, Start: t0.Add(start), End: t0.Add(start + d),
			Duration: d, Status: telemetry.StatusOK, SessionID: "chat-42", Depth: depth}
		if parent != "" {
			n.ParentSpanID = mustSpan(parent)
		}
		return n
	}
	failed := span("00000000000000a4", "00000000000000a3", "llm", 2100*time.Millisecond, 200*time.Millisecond, 1)
	failed.Status, failed.Error = telemetry.StatusError, "RateLimit: slow down\nretry later"
	open := span("00000000000000a5", "00000000000000a3", "stream", 2400*time.Millisecond, 0, 1)
	open.End = time.Time{}
	return &store.SessionDetail{
		Summary: store.SessionSummary{ID: "chat-42", FirstStart: t0.Add(time.Second), LastEnd: t0.Add(3 * time.Second),
			Duration: 2 * time.Second, Runs: 1, Errors: 1, Deployments: []string{"serve"}, Users: []string{"alice"}},
		Runs: []store.Run{{
			Name: "server", SessionID: "job-7", RunID: "b7ad6b7169203331", TraceID: runTrace,
			SpanID: mustSpan("b7ad6b7169203331"), Start: t0, End: t0.Add(time.Minute), Duration: time.Minute,
			Status: telemetry.StatusOK, HasExitCode: true,
			Spans: []store.SpanStats{{Name: "generate", Count: 1, P50: 100 * time.Millisecond, P90: 100 * time.Millisecond,
				P95: 100 * time.Millisecond, P99: 100 * time.Millisecond, Max: 100 * time.Millisecond,
				Histogram: [store.HistogramBuckets]int{7: 1}, SelfTime: 100 * time.Millisecond}},
			Traces: []store.Trace{
				{TraceID: runTrace, Spans: []store.SpanNode{
					span("00000000000000a1", "b7ad6b7169203331", "handle", time.Second, 300*time.Millisecond, 0),
					span("00000000000000a2", "00000000000000a1", "generate", 1100*time.Millisecond, 100*time.Millisecond, 1),
				}},
				{TraceID: sdkTrace, Spans: []store.SpanNode{
					span("00000000000000a3", "", "sdk.root", 2*time.Second, 500*time.Millisecond, 0), failed, open,
				}},
			},
		}},
		Errors: []store.ErrorRecord{{Time: t0.Add(2300 * time.Millisecond), Kind: "span", Name: "llm",
			Message: "RateLimit: slow down\nretry later", TraceID: sdkTrace, SpanID: mustSpan("00000000000000a4")}},
		ErrorGroups: []store.ErrorGroup{
			{Kind: "span", Type: "RateLimit", Message: "slow down\nretry later", Count: 1,
				First: t0.Add(2300 * time.Millisecond), Last: t0.Add(2300 * time.Millisecond)},
			{Kind: "log", Type: "error", Message: "cache miss", Count: 2, First: t0.Add(1200 * time.Millisecond),
				Last: t0.Add(2500 * time.Millisecond)},
		},
		LogLines: []store.LogLine{
			{Time: t0.Add(2500 * time.Millisecond), Kind: "log", Level: "error", Message: "cache miss"},
			{Time: t0.Add(2300 * time.Millisecond), Kind: "exception", Type: "RateLimit", Message: "slow down\nretry later",
				SpanName: "llm", TraceID: sdkTrace, SpanID: mustSpan("00000000000000a4")},
			{Time: t0.Add(1200 * time.Millisecond), Kind: "log", Level: "error", Message: "cache miss",
				SpanName: "generate", TraceID: runTrace, SpanID: mustSpan("00000000000000a2")},
		},
		MoreLogLines: 40,
	}
}

func TestGoldenRecords(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts Options
	}{
		{"show_records.txt", Options{Location: time.UTC}},
		{"show_records.json", Options{Format: JSON}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Show(&b, fixtureRecords(), tt.opts); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, b.Bytes())
		})
	}
}

// TestTextPlurals: counts of one read as one, in every sentence the text
// builds from a count.
func TestTextPlurals(t *testing.T) {
	d := fixtureRecords()
	d.Runs[0].Traces = d.Runs[0].Traces[:1]
	d.Runs[0].Traces[0].Spans = d.Runs[0].Traces[0].Spans[:1]
	d.Runs[0].SpansOmitted = 1
	d.Runs[0].StderrTail = "a\nb\n"
	var b bytes.Buffer
	if err := Show(&b, d, Options{Location: time.UTC, StderrLines: 1}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"(the run's trace), 1 span\n", "... 1 more span (see --json)",
		"Stderr (last 1 line of 2 lines)"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"1 spans", "1 lines"} {
		if strings.Contains(out, bad) {
			t.Errorf("text says %q:\n%s", bad, out)
		}
	}
	if got := Plural(1, "span") + "|" + Plural(0, "span") + "|" + Plural(2, "run"); got != "1 span|0 spans|2 runs" {
		t.Errorf("Plural = %q", got)
	}
}

// TestSessionsEmptySelection: an empty list that was filtered says so.
func TestSessionsEmptySelection(t *testing.T) {
	var b bytes.Buffer
	if err := Sessions(&b, nil, Options{Selection: "active within 1s (3 older: --since 0 lists them)"}); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "No sessions active within 1s (3 older: --since 0 lists them).\n"; got != want {
		t.Errorf("Sessions(none, filtered) = %q, want %q", got, want)
	}
}
