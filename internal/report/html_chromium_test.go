package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/chromiumtest"
	"github.com/graphsignal/graphsignal/internal/pricing"
)

// The HTML report is checked in a real browser: Debian's chromium, which
// .ci/run installs. Without it these tests skip (internal/chromiumtest).

// writePage writes page to a file and returns its file:// URL.
func writePage(t *testing.T, page []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, page, 0o644); err != nil {
		t.Fatal(err)
	}
	return "file://" + path
}

// TestChromiumChecks shows that the checks below can fail: a page with a
// script error and a blocked external image has console messages, and an
// empty page is blank.
func TestChromiumChecks(t *testing.T) {
	bin := chromiumtest.Bin(t)
	url := writePage(t, []byte(`<!DOCTYPE html><html><head>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'">
</head><body><img src="https://example.com/x.png"><script>nosuch();</script></body></html>`))
	_, console, _ := chromiumtest.Browse(t, bin, url, "--dump-dom")
	for _, want := range []string{"Uncaught ReferenceError: nosuch is not defined", "violates the following Content Security Policy"} {
		if !strings.Contains(strings.Join(console, "\n"), want) {
			t.Errorf("console = %q, want a message with %q", console, want)
		}
	}
	if share, _ := chromiumtest.Inked(chromiumtest.Screenshot(t, bin, url)); share > 0.001 {
		t.Errorf("empty page: %.4f of the pixels inked, want none", share)
	}
}

func TestHTMLInChromium(t *testing.T) {
	bin := chromiumtest.Bin(t)
	var page bytes.Buffer
	if err := ShowHTML(&page, fixtureHTMLDetail(), Options{Location: time.UTC, Costs: fixtureCosts("model")}); err != nil {
		t.Fatal(err)
	}
	url := writePage(t, page.Bytes())
	dom, console, _ := chromiumtest.Browse(t, bin, url, "--dump-dom")
	if len(console) > 0 {
		t.Errorf("console messages: %q", console)
	}
	// The serialised DOM escapes <, > and & in text, not quotes.
	for _, want := range []string{
		"<h1>Session <code>s-42</code></h1>",
		`<td class="mono">generate</td><td class="num">101 (1 open)</td>`,
		`<td class="num">1.5s</td>`,
		"RuntimeError: CUDA out of memory",
		`<td class="note">ValueError: prompt too long &lt;b&gt;4097&lt;/b&gt; tokens</td>`,
		`&lt;script&gt;alert("x")&lt;/script&gt;`,
		"<b>GPU 1 utilization</b>",
		`<polyline class="line" points="`,
		`<td class="num">2 GiB of 80 GiB</td>`,
		`<td class="num">90ms</td><td class="num">95ms</td><td class="num">99ms</td><td class="num">1.5s</td><td class="num">4.2s</td>`,
		`title="time to first token of 90 spans: p50 20ms, p90 40ms, p99 60ms, max 70ms">20ms</td>`,
		`<span class="hist" title="≤1ms: 1, ≤2ms: 1, ≤4ms: 2, ≤8ms: 4, ≤16ms: 8, ≤32ms: 16, ≤64ms: 32, ≤128ms: 35, ≤2.05s: 1">0<svg`,
		`<path d="M2 20v-1M7 20v-1M12 20v-1M17 20v-2`,
		"Time by span (self time, of 12.5s)",
		`<td class="mono">(no span)</td><td class="num">8.29s</td><td class="num">66.4%</td>`,
		"run python took 12.5s (12.5× the median 1s of the deployment's last 5 runs)",
		"prices as of " + pricing.AsOf,
		`<td class="num">$0.0512</td><td class="num">59.7%</td>`,
		`<td class="num">$0.0857+</td>`,
		`<td class="num">10</td><td>span</td><td class="mono">ValueError</td>`,
		`<td>retrying &lt;script&gt;alert("x")&lt;/script&gt;</td>`,
		"7 more log lines (see show --json)",
	} {
		if !bytes.Contains(dom, []byte(want)) {
			t.Errorf("DOM lacks %q", want)
		}
	}
	if bytes.Contains(dom, []byte("<script")) {
		t.Error("DOM holds a script element")
	}
	for _, tc := range []struct {
		scheme string
		args   []string
		light  bool
	}{
		{"light", nil, true},
		{"dark", []string{"--blink-settings=preferredColorScheme=0"}, false},
	} {
		t.Run(tc.scheme, func(t *testing.T) {
			share, bg := chromiumtest.Inked(chromiumtest.Screenshot(t, bin, url, tc.args...))
			if share < 0.02 {
				t.Errorf("%.4f of the pixels inked, want at least 2%%", share)
			}
			if light := bg > 0.5; light != tc.light {
				t.Errorf("background luminance %.2f, want light %v", bg, tc.light)
			}
		})
	}
}

// TestHTMLLargeInChromium loads the page of a session of 100,000 spans.
func TestHTMLLargeInChromium(t *testing.T) {
	bin := chromiumtest.Bin(t)
	var page bytes.Buffer
	big := bigSession{runs: 1, names: 300, spans: 100000, series: 1, points: 10000}
	if err := ShowHTML(&page, big.detail(), Options{}); err != nil {
		t.Fatal(err)
	}
	empty := writePage(t, []byte("<!DOCTYPE html><title>empty</title>"))
	_, _, baseline := chromiumtest.Browse(t, bin, empty, "--dump-dom")
	dom, console, took := chromiumtest.Browse(t, bin, writePage(t, page.Bytes()), "--dump-dom")
	if len(console) > 0 {
		t.Errorf("console messages: %q", console)
	}
	if rows := bytes.Count(dom, []byte(`<td class="track">`)); rows != maxHTMLSpanRows {
		t.Errorf("DOM has %d waterfall rows, want %d", rows, maxHTMLSpanRows)
	}
	t.Logf("100000 spans: page %d bytes, chromium --dump-dom %v (empty page %v)", page.Len(),
		took.Round(time.Millisecond), baseline.Round(time.Millisecond))
}
