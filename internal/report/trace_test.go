package report

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// fixtureTrace is a 500ms trace: a root, an llm child that failed with
// payloads (JSON over the limit, text with a control character, binary),
// usage, a score and an exception with a stack trace, and an open span.
func fixtureTrace() *store.TraceDetail {
	trace := mustTrace("5bf92f3577b34da6a3ce929d0e0e4736")
	root, llm, tool := mustSpan("00000000000000a3"), mustSpan("00000000000000a4"), mustSpan("00000000000000a5")
	node := func(id, parent telemetry.SpanID, name string, start, d time.Duration, depth int) store.SpanNode {
		n := store.SpanNode{SpanID: id, ParentSpanID: parent, Name: name, Start: t0.Add(start), Status: telemetry.StatusOK,
			SessionID: "chat-42", Depth: depth}
		if d > 0 {
			n.End, n.Duration = n.Start.Add(d), d
		}
		return n
	}
	failed := node(llm, root, "llm", 100*time.Millisecond, 300*time.Millisecond, 1)
	failed.Status, failed.StatusMessage, failed.Error = telemetry.StatusError, "rate limited", "RateLimit: slow down"
	open := node(tool, root, "tool\x1b[2J", 450*time.Millisecond, 0, 1)
	open.Status = telemetry.StatusUnset
	return &store.TraceDetail{
		SessionID: "chat-42", TraceID: trace, Start: t0, End: t0.Add(500 * time.Millisecond), Duration: 500 * time.Millisecond,
		Spans: []store.TraceSpan{
			{SpanNode: node(root, telemetry.SpanID{}, "sdk.root", 0, 500*time.Millisecond, 0),
				Tags: telemetry.Tags{"session_id": "chat-42", "user_id": "alice"},
				Attributes: map[string]any{"model": "gpt-4o", "temperature": 0.2, "n": int64(3), "stop": []string{"a", "b"},
					"prompt": strings.Repeat("p", 1200)}},
			{SpanNode: failed, RunID: "r1",
				Usage: []telemetry.Usage{{PayloadName: "input", Name: "token_count", Value: 12}, {Name: "cost", Value: math.NaN()}},
				Exceptions: []telemetry.Exception{{Type: "RateLimit", Message: "slow down",
					StackTrace: "Traceback (most recent call last):\n  File \"a.py\", line 1\n\tretry()\n", Time: t0.Add(400 * time.Millisecond)}},
				Scores: []store.Score{{Name: "relevance", Value: 0.25, Comment: "off topic", TraceID: trace, SpanID: llm,
					Time: t0.Add(time.Second)}, {Name: "toxicity", Value: 2, Unit: "p", Severity: 3, TraceID: trace, SpanID: llm}},
				Payloads: []telemetry.Payload{
					{Name: "input", ContentType: "application/json",
						Data: []byte(`{"messages":[{"role":"user","content":"` + strings.Repeat("é", 600) + `"}]}`)},
					{Name: "output", ContentType: "text/plain", Data: []byte("fine\x1b[31m red\n")},
					{Name: "image", ContentType: "image/png", Data: []byte{0x89, 'P', 'N', 'G', 0, 0xff}},
				}},
			{SpanNode: open},
		},
		SpansOmitted: 2,
		Scores:       []store.Score{{Name: "feedback", Value: 1, TraceID: trace, Time: t0.Add(2 * time.Second)}},
	}
}

func TestTraceGolden(t *testing.T) {
	text := TraceOptions{Options: Options{Location: time.UTC}}
	tests := []struct {
		name string
		opts TraceOptions
	}{
		{"trace.txt", text},
		{"trace_full.txt", TraceOptions{Options: Options{Location: time.UTC}, Full: true}},
		{"trace_terminal.txt", TraceOptions{Options: Options{Location: time.UTC, Terminal: true}}},
		{"trace.json", TraceOptions{Options: Options{Format: JSON}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Trace(&b, fixtureTrace(), tt.opts); err != nil {
				t.Fatalf("Trace = %v", err)
			}
			if tt.opts.Format == Text && strings.ContainsFunc(b.String(), func(r rune) bool { return r != '\n' && isControl(r) }) {
				t.Errorf("text output holds a control character")
			}
			golden(t, tt.name, b.Bytes())
		})
	}
}

func TestBar(t *testing.T) {
	d := &store.TraceDetail{Start: t0, End: t0.Add(400 * time.Millisecond), Duration: 400 * time.Millisecond}
	tests := []struct {
		start, dur time.Duration // dur 0: open
		want       string
	}{
		{0, 400 * time.Millisecond, strings.Repeat("#", 40)},
		{100 * time.Millisecond, 200 * time.Millisecond, strings.Repeat(".", 10) + strings.Repeat("#", 20) + strings.Repeat(".", 10)},
		{0, time.Nanosecond, "#" + strings.Repeat(".", 39)},
		{400 * time.Millisecond, 0, strings.Repeat(".", 39) + "#"},
		{390 * time.Millisecond, 0, strings.Repeat(".", 39) + "#"},
		{200 * time.Millisecond, 0, strings.Repeat(".", 20) + strings.Repeat("#", 20)},
	}
	for _, tt := range tests {
		sp := store.SpanNode{Start: t0.Add(tt.start)}
		if tt.dur > 0 {
			sp.End = sp.Start.Add(tt.dur)
		}
		if got := bar(d, &sp, '#', '.'); got != tt.want {
			t.Errorf("bar(start +%v, %v) = %q, want %q", tt.start, tt.dur, got, tt.want)
		}
	}
}

func TestTraceErrors(t *testing.T) {
	for _, opts := range []TraceOptions{{}, {Options: Options{Format: JSON}}} {
		if err := Trace(&failWriter{}, fixtureTrace(), opts); !errors.Is(err, errWrite) {
			t.Errorf("Trace(format %d) to a failing writer = %v, want %v", opts.Format, err, errWrite)
		}
	}
	if err := Trace(io.Discard, nil, TraceOptions{}); err == nil {
		t.Error("Trace(nil) = nil, want an error")
	}
}

// bigTraceDetail is a trace of store.MaxTraceSpans spans under one root,
// each with tags, attributes, usage and a JSON payload, as
// store.BenchmarkTrace reads them.
func bigTraceDetail() *store.TraceDetail {
	trace := mustTrace("5bf92f3577b34da6a3ce929d0e0e4736")
	d := &store.TraceDetail{SessionID: "big", TraceID: trace, Start: t0, End: t0.Add(time.Hour), Duration: time.Hour}
	for i := range store.MaxTraceSpans {
		var id telemetry.SpanID
		id[6], id[7] = byte(i>>8)+1, byte(i)
		n := store.SpanNode{SpanID: id, Name: "step", Start: t0.Add(time.Duration(i) * time.Millisecond),
			Status: telemetry.StatusOK, SessionID: "big", Depth: min(i, 1)}
		n.End, n.Duration = n.Start.Add(time.Millisecond), time.Millisecond
		if i > 0 {
			n.ParentSpanID = d.Spans[0].SpanID
		}
		d.Spans = append(d.Spans, store.TraceSpan{SpanNode: n, RunID: "r1",
			Tags:       telemetry.Tags{"session_id": "big"},
			Attributes: map[string]any{"model": "gpt-4o", "temperature": 0.2, "i": int64(i)},
			Usage:      []telemetry.Usage{{PayloadName: "input", Name: "token_count", Value: 120}},
			Payloads: []telemetry.Payload{{Name: "input", ContentType: "application/json",
				Data: []byte(`{"messages":[{"role":"user","content":"what is the weather like today?"}]}`)}}})
	}
	return d
}

// BenchmarkTraceText measures the text of a trace of store.MaxTraceSpans
// spans.
func BenchmarkTraceText(b *testing.B) {
	d := bigTraceDetail()
	opts := TraceOptions{Options: Options{Location: time.UTC}}
	for b.Loop() {
		if err := Trace(io.Discard, d, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTraceDetailCap checks that text details only the first
// MaxSpanDetails spans and says how many it leaves to --json.
func TestTraceDetailCap(t *testing.T) {
	tests := []struct {
		spans    int
		wantMore string
	}{
		{MaxSpanDetails, ""},
		{MaxSpanDetails + 1, "1 more span not detailed: --json details every span"},
		{store.MaxTraceSpans, "9800 more spans not detailed: --json details every span"},
	}
	for _, tt := range tests {
		d := bigTraceDetail()
		d.Spans = d.Spans[:tt.spans]
		var b bytes.Buffer
		if err := Trace(&b, d, TraceOptions{Options: Options{Location: time.UTC}}); err != nil {
			t.Fatalf("Trace = %v", err)
		}
		out := b.String()
		if got := strings.Count(out, "  Payload input"); got != MaxSpanDetails {
			t.Errorf("%d spans: %d detailed, want %d", tt.spans, got, MaxSpanDetails)
		}
		if got := strings.Count(out, "    step "); got != tt.spans-1 {
			t.Errorf("%d spans: waterfall lists %d children, want %d", tt.spans, got, tt.spans-1)
		}
		more := strings.Contains(out, "not detailed")
		if tt.wantMore == "" && more || tt.wantMore != "" && !strings.HasSuffix(out, "\n"+tt.wantMore+"\n") {
			t.Errorf("%d spans: output ends %q, want the line %q", tt.spans, out[max(len(out)-80, 0):], tt.wantMore)
		}
	}
}
