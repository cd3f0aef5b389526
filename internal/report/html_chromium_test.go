package report

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The HTML report is checked in a real browser: Debian's chromium, which
// .ci/run installs. Without it these tests skip.

// chromiumBin is the chromium executable, or a skip.
func chromiumBin(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (apt-get install chromium; .ci/run installs it)")
	return ""
}

// consoleLine matches what chromium logs on stderr, with --enable-logging=stderr,
// for each message of the page's console, whatever its level:
// `[pid:tid:time:INFO:CONSOLE:1] "Uncaught ReferenceError: …", source: file:///… (1)`.
// Blocked loads (the page's Content-Security-Policy) are console messages too.
var consoleLine = regexp.MustCompile(`:CONSOLE[:(]\d+\)?\] (.*)`)

// browse runs headless chromium on the file at path with args and returns
// its stdout, the page's console messages, and how long it ran. A chromium
// killed by a signal (it crashes now and then at start in containers) is
// run once more.
func browse(t *testing.T, bin, path string, args ...string) ([]byte, []string, time.Duration) {
	t.Helper()
	args = append([]string{"--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"},
		args...)
	var stdout, stderr bytes.Buffer
	var took time.Duration
	for try := 1; ; try++ {
		stdout.Reset()
		stderr.Reset()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, bin, append(args, "--user-data-dir="+t.TempDir(), "file://"+path)...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		took = time.Since(start)
		cancel()
		var exit *exec.ExitError
		if errors.As(err, &exit) && !exit.Exited() && ctx.Err() == nil && try == 1 {
			t.Logf("chromium %s: %v; running it again", strings.Join(args, " "), err)
			continue
		}
		if err != nil {
			t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
		}
		break
	}
	var console []string
	for _, m := range consoleLine.FindAllSubmatch(stderr.Bytes(), -1) {
		console = append(console, string(m[1]))
	}
	return stdout.Bytes(), console, took
}

// screenshot renders the page at path 1200 px wide and returns the image.
func screenshot(t *testing.T, bin, path string, args ...string) image.Image {
	t.Helper()
	shot := filepath.Join(t.TempDir(), "page.png")
	browse(t, bin, path, append([]string{"--screenshot=" + shot, "--window-size=1200,2000",
		"--hide-scrollbars"}, args...)...)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	if dir := os.Getenv("GRAPHSIGNAL_HTML_SCREENSHOTS"); dir != "" {
		b, _ := os.ReadFile(shot)
		_ = os.WriteFile(filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".png"), b, 0o644)
	}
	return img
}

// inked is the share of the image's pixels that differ from its top-left
// pixel (the page's background) by more than a faint tint, and the
// background's luminance from 0 (black) to 1 (white).
func inked(img image.Image) (share, background float64) {
	lum := func(x, y int) float64 {
		r, g, b, _ := img.At(x, y).RGBA()
		return (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)) / 0xffff
	}
	b := img.Bounds()
	bg := lum(b.Min.X, b.Min.Y)
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if d := lum(x, y) - bg; d > 0.03 || d < -0.03 {
				n++
			}
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy()), bg
}

func writePage(t *testing.T, page []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, page, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestChromiumChecks shows that the checks below can fail: a page with a
// script error and a blocked external image has console messages, and an
// empty page is blank.
func TestChromiumChecks(t *testing.T) {
	bin := chromiumBin(t)
	path := writePage(t, []byte(`<!DOCTYPE html><html><head>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'">
</head><body><img src="https://example.com/x.png"><script>nosuch();</script></body></html>`))
	_, console, _ := browse(t, bin, path, "--dump-dom")
	for _, want := range []string{"Uncaught ReferenceError: nosuch is not defined", "violates the following Content Security Policy"} {
		if !strings.Contains(strings.Join(console, "\n"), want) {
			t.Errorf("console = %q, want a message with %q", console, want)
		}
	}
	if share, _ := inked(screenshot(t, bin, path)); share > 0.001 {
		t.Errorf("empty page: %.4f of the pixels inked, want none", share)
	}
}

func TestHTMLInChromium(t *testing.T) {
	bin := chromiumBin(t)
	var page bytes.Buffer
	if err := ShowHTML(&page, fixtureHTMLDetail(), Options{Location: time.UTC}); err != nil {
		t.Fatal(err)
	}
	path := writePage(t, page.Bytes())
	dom, console, _ := browse(t, bin, path, "--dump-dom")
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
			share, bg := inked(screenshot(t, bin, path, tc.args...))
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
	bin := chromiumBin(t)
	var page bytes.Buffer
	big := bigSession{runs: 1, names: 300, spans: 100000, series: 1, points: 10000}
	if err := ShowHTML(&page, big.detail(), Options{}); err != nil {
		t.Fatal(err)
	}
	empty := writePage(t, []byte("<!DOCTYPE html><title>empty</title>"))
	_, _, baseline := browse(t, bin, empty, "--dump-dom")
	dom, console, took := browse(t, bin, writePage(t, page.Bytes()), "--dump-dom")
	if len(console) > 0 {
		t.Errorf("console messages: %q", console)
	}
	if rows := bytes.Count(dom, []byte(`<td class="track">`)); rows != maxHTMLSpanRows {
		t.Errorf("DOM has %d waterfall rows, want %d", rows, maxHTMLSpanRows)
	}
	t.Logf("100000 spans: page %d bytes, chromium --dump-dom %v (empty page %v)", page.Len(),
		took.Round(time.Millisecond), baseline.Round(time.Millisecond))
}
