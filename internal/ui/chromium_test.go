package ui

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/graphsignal/graphsignal/internal/chromiumtest"
)

// TestPagesInChromium loads the served pages in headless chromium, each
// from its address with the access token as graphsignal ui prints it (so
// through the redirect that sets the token's cookie), and one without it:
// their DOM holds the store's data, links to the next page, and nothing
// that runs; their console is empty (no load refused by the Content-
// Security-Policy headers); they are drawn in the light and dark schemes.
// Set GRAPHSIGNAL_HTML_SCREENSHOTS=DIR to keep the screenshots.
func TestPagesInChromium(t *testing.T) {
	bin := chromiumtest.Bin(t)
	srv := httptest.NewServer(newHandler(t, fixtureConfig(writeFixture(t))))
	t.Cleanup(srv.Close) // after the parallel subtests
	tests := []struct {
		name, path string
		// minInk is the share of the screenshot's pixels that must be
		// inked.
		minInk float64
		want   []string
		// bare loads path without the token.
		bare bool
	}{
		{"list", "/?deployment=prod", 0.01, []string{
			"Showing 1–3 of 3 sessions, newest first",
			`<a href="/sessions/chat-42">chat-42</a>`,
			`<input name="deployment" value="prod" list="deployments">`,
		}, false},
		{"session", "/sessions/chat-42", 0.02, []string{
			"<h1>Session <code>chat-42</code></h1>",
			`<a href="/sessions/chat-42/traces/` + chatRunTrace + `">` + chatRunTrace + ` (the run's trace)</a>`,
			`<td class="note">RateLimit: slow down</td>`,
		}, false},
		{"trace", "/sessions/chat-42/traces/" + chatRunTrace, 0.02, []string{
			"<h1>Trace <code>" + chatRunTrace + "</code></h1>",
			`<a href="/sessions/chat-42"><code>chat-42</code></a>`,
			"llm &lt;b&gt;",
			"Traceback:\n  File \"app.py\", line 7\nboom",
		}, false},
		{"not found", "/sessions/nosuch", 0.001, []string{"<h1>Session not found</h1>"}, false},
		{"no token", "/sessions/chat-42", 0.001, []string{"<h1>Access token needed</h1>"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := srv.URL + withToken(tt.path)
			if tt.bare {
				url = srv.URL + tt.path
			}
			dom, console, _ := chromiumtest.Browse(t, bin, url, "--dump-dom")
			if len(console) > 0 {
				t.Errorf("console messages: %q", console)
			}
			for _, want := range tt.want {
				if !bytes.Contains(dom, []byte(want)) {
					t.Errorf("DOM lacks %q", want)
				}
			}
			if bytes.Contains(dom, []byte("<script")) {
				t.Error("DOM holds a script element")
			}
			for _, scheme := range []struct {
				name  string
				args  []string
				light bool
			}{
				{"light", nil, true},
				{"dark", []string{"--blink-settings=preferredColorScheme=0"}, false},
			} {
				t.Run(scheme.name, func(t *testing.T) {
					share, bg := chromiumtest.Inked(chromiumtest.Screenshot(t, bin, url, scheme.args...))
					if share < tt.minInk {
						t.Errorf("%.4f of the pixels inked, want at least %.3f", share, tt.minInk)
					}
					if light := bg > 0.5; light != scheme.light {
						t.Errorf("background luminance %.2f, want light %v", bg, scheme.light)
					}
				})
			}
		})
	}
}

// withToken is path with testToken's query parameter added.
func withToken(path string) string {
	if strings.Contains(path, "?") {
		return path + "&token=" + testToken
	}
	return path + "?token=" + testToken
}
