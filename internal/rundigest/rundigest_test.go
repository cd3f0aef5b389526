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

// TestDigestAnomalies: spans slow against their name's latency and bursts
// of errors are found by the anomaly rules over what the Digest kept,
// whatever the order the records came in.
func TestDigestAnomalies(t *testing.T) {
	slow := span("llm", 4*time.Second, false)
	slow.Tags = telemetry.Tags{telemetry.TagRunID: "r1"}
	spans := []telemetry.Span{span("llm", time.Second, false), span("llm", time.Second, false), slow,
		span("llm", time.Second, false), span("llm", time.Second, false), span("db", time.Hour, false)}
	var logs []telemetry.Log
	for i := range 5 { // out of order, 1s apart
		logs = append(logs, telemetry.Log{Level: "error", Message: "boom", Time: t0.Add(time.Duration(4-i) * time.Second)})
	}
	tests := []struct {
		name    string
		batches []telemetry.Batch
		want    []string
	}{
		{"slow span and burst", []telemetry.Batch{{Spans: spans[:3]}, {Logs: logs}, {Spans: spans[3:]}},
			[]string{"slow_span llm 4s/1s r1", "error_burst 4s"}},
		{"too few spans of a name", []telemetry.Batch{{Spans: spans[1:4]}}, nil},
		{"too few errors", []telemetry.Batch{{Logs: logs[:4]}}, nil},
	}
	for _, tt := range tests {
		d := New()
		for _, b := range tt.batches {
			_ = d.Export(context.Background(), b)
		}
		var got []string
		for _, a := range d.Summary().Anomalies {
			switch a.Kind {
			case "slow_span":
				got = append(got, a.Kind+" "+a.Subject+" "+a.Took.String()+"/"+a.Typical.String()+" "+a.RunID)
			default:
				got = append(got, a.Kind+" "+a.Last.Sub(a.First).String())
			}
		}
		if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
			t.Errorf("%s: anomalies = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestDigestLatencyBounds: the names kept, the durations kept per name,
// and the error times kept are bounded; past the sample the median is an
// estimate that stays within the durations seen.
func TestDigestLatencyBounds(t *testing.T) {
	d := New()
	var b telemetry.Batch
	for i := range maxNames + 10 {
		b.Spans = append(b.Spans, span(strings.Repeat("n", i+1), time.Second, false))
	}
	for i := range 10 * latencySample {
		b.Spans = append(b.Spans, span("many", time.Duration(1+i%3)*time.Millisecond, false))
	}
	for i := range 3 * maxErrorTimes {
		b.Logs = append(b.Logs, telemetry.Log{Level: "error", Time: t0.Add(time.Duration(3*maxErrorTimes-i) * time.Minute)})
	}
	_ = d.Export(context.Background(), b)
	if len(d.names) != maxNames {
		t.Errorf("%d names kept, want %d", len(d.names), maxNames)
	}
	if d.names["many"] != nil {
		t.Errorf("a name past the bound was kept")
	}
	d2 := New()
	var many telemetry.Batch
	for i := range 10 * latencySample {
		many.Spans = append(many.Spans, span("many", time.Duration(1+i%3)*time.Millisecond, false))
	}
	_ = d2.Export(context.Background(), many)
	l := d2.names["many"]
	if l.count != 10*latencySample || len(l.sample) != latencySample || len(l.slowest) != 5 {
		t.Errorf("count %d, sample %d, slowest %d; want %d, %d, 5", l.count, len(l.sample), len(l.slowest), 10*latencySample, latencySample)
	}
	if len(d.errTimes) != maxErrorTimes || !d.errTimes[0].Equal(t0.Add(time.Minute)) ||
		!d.errTimes[maxErrorTimes-1].Equal(t0.Add(maxErrorTimes*time.Minute)) {
		t.Errorf("error times kept: %d from %v to %v; want the %d earliest", len(d.errTimes), d.errTimes[0], d.errTimes[len(d.errTimes)-1], maxErrorTimes)
	}
}

// TestDigestModels: tokens per model, counters winning over the GenAI
// attributes kind by kind, as the store counts them.
func TestDigestModels(t *testing.T) {
	d := New()
	both := span("chat", time.Second, false)
	both.Attributes = map[string]any{"gen_ai.response.model": "gpt-4o", "gen_ai.request.model": "gpt-4",
		"gen_ai.usage.input_tokens": int64(999), "gen_ai.usage.output_tokens": float64(30)}
	both.Usage = []telemetry.Usage{{Name: "prompt_tokens", Value: 100}}
	attrs := span("chat", time.Second, false)
	attrs.Attributes = map[string]any{"gen_ai.request.model": "gpt-4o", "gen_ai.usage.prompt_tokens": int64(50),
		"gen_ai.usage.cache_read.input_tokens": int64(10)}
	tagged := span("chat", time.Second, false)
	tagged.Tags = telemetry.Tags{"model": "claude-3-5-sonnet"}
	tagged.Usage = []telemetry.Usage{{Name: "output_tokens", Value: 7}}
	none := span("plain", time.Second, false)
	_ = d.Export(context.Background(), telemetry.Batch{Spans: []telemetry.Span{both, attrs, tagged, none}})
	s := d.Summary()
	want := []ModelTokens{{Model: "gpt-4o", Spans: 2, Input: 150, Output: 30, CacheRead: 10},
		{Model: "claude-3-5-sonnet", Spans: 1, Output: 7}}
	if len(s.Models) != len(want) {
		t.Fatalf("models = %+v, want %+v", s.Models, want)
	}
	for i := range want {
		if s.Models[i] != want[i] {
			t.Errorf("models[%d] = %+v, want %+v", i, s.Models[i], want[i])
		}
	}
	if s.Tokens[telemetry.TokensInput] != 150 || s.Tokens[telemetry.TokensOutput] != 37 {
		t.Errorf("tokens = %v, want 150 input and 37 output", s.Tokens)
	}
}
