package report

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func traceHTMLString(t *testing.T, opts TraceHTMLOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := TraceHTML(&b, fixtureTrace(), opts); err != nil {
		t.Fatalf("TraceHTML = %v", err)
	}
	return b.String()
}

func TestTraceHTML(t *testing.T) {
	page := traceHTMLString(t, TraceHTMLOptions{Options: Options{Location: time.UTC}, SessionURL: "/sessions/chat-42"})
	tests := []struct{ name, want string }{
		{"title", "<title>Trace 5bf92f3577b34da6a3ce929d0e0e4736 · graphsignal</title>"},
		{"shared css", ":root{--bg:#fff;"},
		{"csp", `content="default-src 'none'; style-src 'unsafe-inline'"`},
		{"session link", `<dt>Session</dt><dd><a href="/sessions/chat-42"><code>chat-42</code></a></dd>`},
		{"spans fact", "<dt>Spans</dt><dd>5 (1 error), the first 3 by start listed</dd>"},
		{"tree row linked to its details", `<td class="name mono" style="padding-left:1em"><a href="#s-00000000000000a4">llm</a></td><td class="num">300ms</td>`},
		{"error note", `<td class="note">RateLimit: slow down</td>`},
		{"open span, escape removed", `<tr class="open" title="tool�[2J: &#43;450ms, open">`},
		{"omitted spans", "2 more spans not drawn (see show --trace --json)"},
		{"trace score", "<td>feedback</td><td class=\"num\">1</td>"},
		{"details anchor", `<section class="span" id="s-00000000000000a4">`},
		{"failed status", `<span class="status failed">error</span>`},
		{"parent link", `<dt>Parent</dt><dd class="mono"><a href="#s-00000000000000a3">00000000000000a3</a></dd>`},
		{"message", "<dt>Message</dt><dd>rate limited</dd>"},
		{"usage", "<dt>Usage</dt><dd>input.token_count=12 cost=NaN</dd>"},
		{"tags", "<dt>Tags</dt><dd>session_id=chat-42 user_id=alice</dd>"},
		{"attribute list as JSON", `<td class="mono">stop</td><td class="mono val">[&#34;a&#34;,&#34;b&#34;]</td>`},
		{"long attribute whole", strings.Repeat("p", 1200) + "</td>"},
		{"exception", `<p class="note mono">RateLimit: slow down</p>`},
		{"stack trace with its tab", "<pre>Traceback (most recent call last):\n  File &#34;a.py&#34;, line 1\n\tretry()</pre>"},
		{"span score", "<td>toxicity</td><td class=\"num\">2 p</td><td class=\"num\">3</td>"},
		{"json payload indented", "<pre>{\n  &#34;messages&#34;: [\n    {\n"},
		{"text payload without escapes", "<pre>fine red</pre>"},
		{"binary payload", "<summary>Payload <code>image</code> · 6 B, image/png · binary, not shown</summary>"},
	}
	for _, tt := range tests {
		if !strings.Contains(page, tt.want) {
			t.Errorf("%s: page lacks %q", tt.name, tt.want)
		}
	}
	for _, bad := range []string{"\x1b", "<script", "not detailed"} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds %q", bad)
		}
	}
	if plain := traceHTMLString(t, TraceHTMLOptions{}); !strings.Contains(plain, "<dt>Session</dt><dd><code>chat-42</code></dd>") {
		t.Error("without SessionURL the session is not shown as plain text")
	}
}

// TestTraceHTMLBounds checks the page's bounds on a trace of
// store.MaxTraceSpans spans, and on values past maxHTMLValue and the
// page's byte budget.
func TestTraceHTMLBounds(t *testing.T) {
	d := bigTraceDetail()
	var b bytes.Buffer
	if err := TraceHTML(&b, d, TraceHTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if got := strings.Count(page, `<td class="track">`); got != maxHTMLSpanRows {
		t.Errorf("%d waterfall rows, want %d", got, maxHTMLSpanRows)
	}
	if got := strings.Count(page, `<section class="span"`); got != MaxSpanDetails {
		t.Errorf("%d spans detailed, want %d", got, MaxSpanDetails)
	}
	for _, want := range []string{"8000 more spans not drawn", "9800 more spans not detailed"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	t.Logf("%d spans: page %d bytes", len(d.Spans), b.Len())

	tests := []struct {
		name      string
		value     string
		left      int
		wantLen   int
		wantCut   int
		wantAfter int
	}{
		{"short", "abc", 100, 3, 0, 97},
		{"past the value bound", strings.Repeat("x", maxHTMLValue+5), maxHTMLDetailBytes, maxHTMLValue, 5,
			maxHTMLDetailBytes - maxHTMLValue},
		{"past the page budget", "abcdef", 4, 4, 2, 0},
		{"budget spent", "abc", 0, 0, 3, 0},
		{"at a character boundary", "aé", 2, 1, 2, 1},
	}
	for _, tt := range tests {
		left := tt.left
		got, cut := cutTo(tt.value, &left)
		if len(got) != tt.wantLen || cut != tt.wantCut || left != tt.wantAfter {
			t.Errorf("%s: cutTo = %d bytes, %d cut, %d left; want %d, %d, %d", tt.name, len(got), cut, left,
				tt.wantLen, tt.wantCut, tt.wantAfter)
		}
	}
}

func TestTraceHTMLErrors(t *testing.T) {
	if err := TraceHTML(&failWriter{}, fixtureTrace(), TraceHTMLOptions{}); !errors.Is(err, errWrite) {
		t.Errorf("TraceHTML to a failing writer = %v, want %v", err, errWrite)
	}
	if err := TraceHTML(io.Discard, nil, TraceHTMLOptions{}); err == nil {
		t.Error("TraceHTML(nil) = nil, want an error")
	}
}

// TestShowHTMLTraceURL checks the link hook: with Options.TraceURL each
// waterfall's trace id links to its page; without it nothing is linked.
func TestShowHTMLTraceURL(t *testing.T) {
	d := fixtureHTMLDetail()
	id := d.Runs[0].TraceID
	tests := []struct {
		name string
		link func(telemetry.TraceID) string
		want string
	}{
		{"served", func(id telemetry.TraceID) string { return "/sessions/s-42/traces/" + id.String() },
			`<summary><code><a href="/sessions/s-42/traces/` + id.String() + `">` + id.String() + ` (the run&#39;s trace)</a></code>`},
		{"file", nil, `<summary><code>` + id.String() + ` (the run&#39;s trace)</code>`},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := ShowHTML(&b, d, Options{Location: time.UTC, TraceURL: tt.link}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("%s: page lacks %q", tt.name, tt.want)
		}
		if tt.link == nil && strings.Contains(b.String(), "<a ") {
			t.Errorf("%s: page holds a link", tt.name)
		}
	}
}

func TestHTMLStyle(t *testing.T) {
	css, err := HTMLStyle()
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := ShowHTML(&page, fixtureHTMLDetail(), Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(css), "\n:root{") || !strings.Contains(page.String(), "<style>"+string(css)+"</style>") {
		t.Errorf("HTMLStyle() = %.80q…, not the show page's style sheet", css)
	}
}
