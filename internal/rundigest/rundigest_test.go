package rundigest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

var t0 = time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC)

func span(name string, d time.Duration, failed bool, ex ...telemetry.Exception) telemetry.Span {
	s := telemetry.Span{TraceID: telemetry.TraceID{1}, SpanID: telemetry.NewSpanID(), Name: name, Start: t0, End: t0.Add(d), Exceptions: ex}
	if failed {
		s.Status = telemetry.StatusError
	}
	return s
}

func TestDigest(t *testing.T) {
	d := New()
	run := span("python", time.Hour, false)
	run.Attributes = map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun}
	open := span("open", 0, false)
	open.End = time.Time{}
	llm := span("llm", 2*time.Second, false)
	llm.Usage = []telemetry.Usage{{PayloadName: "input", Name: "token_count", Value: 100}, {Name: "completion_tokens", Value: 20},
		{Name: "total_tokens", Value: 120}, {Name: "cost_usd", Value: 0.5}}
	rate := telemetry.Exception{Type: "RateLimitError", Message: "429 Too Many Requests"}
	batches := []telemetry.Batch{
		{Spans: []telemetry.Span{run, open, llm, span("db", 300*time.Millisecond, false)}},
		{Spans: []telemetry.Span{span("llm", 5*time.Second, true, rate), span("llm", time.Second, true, rate),
			span("parse", time.Millisecond, true), span("a", time.Millisecond, false), span("b", 2*time.Millisecond, false),
			span("c", 3*time.Millisecond, false)}},
		{Logs: []telemetry.Log{{Level: "ERROR", Message: "disk full"}, {Level: "info", Message: "fine"},
			{Level: "Fatal", Message: "boom", Exception: "ValueError: bad\n  at x"}}},
	}
	for _, b := range batches {
		if err := d.Export(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	s := d.Summary()
	if s.Spans != 8 || s.ErrorSpans != 3 {
		t.Errorf("spans %d, errors %d; want 8 and 3 (run spans and unfinished spans not counted)", s.Spans, s.ErrorSpans)
	}
	var names []string
	for _, sp := range s.Slowest {
		names = append(names, sp.Name+"="+sp.Duration.String())
	}
	if got := strings.Join(names, " "); got != "llm=5s llm=2s llm=1s db=300ms c=3ms" {
		t.Errorf("slowest = %s", got)
	}
	if !s.Slowest[0].Error || s.Slowest[1].Error {
		t.Errorf("error marks: %+v", s.Slowest[:2])
	}
	if len(s.Errors) != 4 || s.Errors[0] != (Error{Type: "RateLimitError", Message: "429 Too Many Requests", Count: 2}) {
		t.Fatalf("errors = %+v", s.Errors)
	}
	for _, want := range []Error{{"exception", "ValueError: bad: boom", 1}, {"log", "disk full", 1}, {"span parse", "", 1}} {
		found := false
		for _, e := range s.Errors {
			found = found || e == want
		}
		if !found {
			t.Errorf("missing error %+v in %+v", want, s.Errors)
		}
	}
	want := map[string]float64{telemetry.TokensInput: 100, telemetry.TokensOutput: 20, telemetry.TokensOther: 120}
	if len(s.Tokens) != len(want) {
		t.Errorf("tokens = %v, want %v", s.Tokens, want)
	}
	for k, v := range want {
		if s.Tokens[k] != v {
			t.Errorf("tokens[%s] = %v, want %v", k, s.Tokens[k], v)
		}
	}
}

// TestDigestBounds: error kinds beyond the bound are counted, not kept;
// long messages are cut.
func TestDigestBounds(t *testing.T) {
	d := New()
	var logs []telemetry.Log
	for i := range maxErrorKinds + 10 {
		logs = append(logs, telemetry.Log{Level: "error", Message: strings.Repeat("x", i+1) + strings.Repeat("y", 300)})
	}
	_ = d.Export(context.Background(), telemetry.Batch{Logs: logs})
	s := d.Summary()
	if len(s.Errors) != maxErrorKinds || s.OtherErrors != 10 {
		t.Errorf("%d kinds, %d others; want %d and 10", len(s.Errors), s.OtherErrors, maxErrorKinds)
	}
	if n := len([]rune(s.Errors[0].Message)); n != maxMessage {
		t.Errorf("message of %d runes, want %d", n, maxMessage)
	}
}
