// Package chromiumtest loads pages in a real browser for tests: Debian's
// headless chromium, which .ci/run installs. Tests call Bin first, which
// skips them where chromium is not installed, then Browse or Screenshot a
// page's URL (file:// or http://).
//
// Every function runs chromium to its end before returning; none leaves a
// process or goroutine behind.
package chromiumtest

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

// Bin is the chromium executable, or a skip of t.
func Bin(t testing.TB) string {
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

// Browse runs headless chromium on url with args and returns its stdout,
// the page's console messages, and how long it ran. A chromium killed by
// a signal (it crashes now and then at start in containers) is run once
// more; any other failure, or a run past a minute, fails t.
func Browse(t testing.TB, bin, url string, args ...string) ([]byte, []string, time.Duration) {
	t.Helper()
	args = append([]string{"--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"},
		args...)
	var stdout, stderr bytes.Buffer
	var took time.Duration
	for try := 1; ; try++ {
		stdout.Reset()
		stderr.Reset()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, bin, append(args, "--user-data-dir="+t.TempDir(), url)...)
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

// Screenshot renders the page at url 1200 px wide and returns the image.
// With GRAPHSIGNAL_HTML_SCREENSHOTS=DIR set it also keeps the image in DIR,
// named after the test.
func Screenshot(t testing.TB, bin, url string, args ...string) image.Image {
	t.Helper()
	shot := filepath.Join(t.TempDir(), "page.png")
	Browse(t, bin, url, append([]string{"--screenshot=" + shot, "--window-size=1200,2000",
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

// Inked is the share of the image's pixels that differ from its top-left
// pixel (the page's background) by more than a faint tint, and the
// background's luminance from 0 (black) to 1 (white).
func Inked(img image.Image) (share, background float64) {
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
