package ui

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/graphsignal/graphsignal/internal/report"
	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newHandler(t testing.TB, cfg Config) http.Handler {
	t.Helper()
	h, err := NewHandler(cfg)
	if err != nil {
		t.Fatalf("NewHandler = %v", err)
	}
	return h
}

// newRequest is a request as a browser on 127.0.0.1 sends it, unless
// host says otherwise, without the access token.
func newRequest(method, target, host string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Host = "127.0.0.1:8123"
	if host != "" {
		r.Host = host
	}
	return r
}

func record(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// serve runs one request through h, as a browser that opened the address
// with testToken sends it (newRequest, with the token's cookie).
func serve(h http.Handler, method, target, host string) *httptest.ResponseRecorder {
	r := newRequest(method, target, host)
	r.AddCookie(&http.Cookie{Name: tokenCookie(r.Host), Value: testToken})
	return record(h, r)
}

// sessionLinks are the sessions a list page links to, in order.
var sessionLinks = regexp.MustCompile(`<td class="id mono"><a href="/sessions/([^"]+)">`)

func linkedSessions(page string) []string {
	var out []string
	for _, m := range sessionLinks.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestList(t *testing.T) {
	h := newHandler(t, fixtureConfig(writeFixture(t)))
	tests := []struct {
		query string
		// want are the sessions listed, in order (the first ones when
		// there are more); count the "Showing" line.
		want  []string
		count string
		also  []string
	}{
		{query: "", want: []string{"ok-1", "chat-42", "batch-7", "a%2Fb%20c", "bulk-00"},
			count: "Showing 1–50 of 64 sessions", also: []string{`<a href="/?page=2" rel="next">`}},
		{query: "page=2", want: []string{"bulk-46", "bulk-47"}, count: "Showing 51–64 of 64 sessions",
			also: []string{`<a href="/" rel="prev">`}},
		{query: "page=9", want: []string{"bulk-46"}, count: "Showing 51–64 of 64 sessions"},
		{query: "deployment=prod", want: []string{"ok-1", "chat-42", "a%2Fb%20c"}, count: "Showing 1–3 of 3 sessions",
			also: []string{`<input name="deployment" value="prod" list="deployments">`, `<a href="/">Clear filters</a>`}},
		{query: "user=alice", want: []string{"chat-42"}, count: "Showing 1–1 of 1 sessions"},
		{query: "status=failed", want: []string{"chat-42", "batch-7"}, count: "Showing 1–2 of 2 sessions",
			also: []string{`<option value="failed" selected>failed</option>`}},
		{query: "status=ok&deployment=prod", want: []string{"ok-1", "a%2Fb%20c"}, count: "Showing 1–2 of 2 sessions"},
		{query: "q=CHAT", want: []string{"chat-42"}, count: "Showing 1–1 of 1 sessions"},
		{query: "q=stag", want: []string{"batch-7"}, count: "Showing 1–1 of 1 sessions"},
		{query: "q=bob", want: []string{"ok-1"}, count: "Showing 1–1 of 1 sessions"},
		{query: "q=Train", want: []string{"batch-7"}, count: "Showing 1–1 of 1 sessions"},
		{query: "q=python", want: []string{"ok-1", "chat-42", "a%2Fb%20c"}, count: "Showing 1–50 of 63 sessions"},
		{query: "since=15m", want: []string{"ok-1"}, count: "Showing 1–1 of 1 sessions",
			also: []string{`<option value="15m" selected>the last 15m</option>`}},
		{query: "since=24h&deployment=bulk&page=2", want: []string{"bulk-50"}, count: "Showing 51–60 of 60 sessions",
			also: []string{`<a href="/?deployment=bulk&amp;since=24h" rel="prev">`,
				`<option value="24h" selected>the last day</option>`}},
		{query: "q=nosuch", count: "No session matches these filters."},
	}
	for _, tt := range tests {
		w := serve(h, http.MethodGet, "/?"+tt.query, "")
		page := w.Body.String()
		if w.Code != http.StatusOK {
			t.Errorf("GET /?%s = %d, want 200", tt.query, w.Code)
			continue
		}
		got := linkedSessions(page)
		if len(got) < len(tt.want) || strings.Join(got[:len(tt.want)], " ") != strings.Join(tt.want, " ") {
			t.Errorf("GET /?%s lists %q, want %q first", tt.query, got, tt.want)
		}
		for _, want := range append([]string{tt.count}, tt.also...) {
			if !strings.Contains(page, want) {
				t.Errorf("GET /?%s: page lacks %q", tt.query, want)
			}
		}
	}
}

func TestListRows(t *testing.T) {
	h := newHandler(t, fixtureConfig(writeFixture(t)))
	page := serve(h, http.MethodGet, "/?deployment=staging", "").Body.String()
	want := `<tr><td class="id mono"><a href="/sessions/batch-7">batch-7</a></td><td class="mono">2026-11-20 10:05:00 UTC</td>` +
		`<td class="mono">train.py</td><td><span class="status failed">failed</span></td>` +
		`<td class="num">1</td><td class="num">1</td><td class="num">0</td>` +
		`<td class="num">1m00s</td><td><a href="/?deployment=staging">staging</a></td><td>-</td></tr>`
	if !strings.Contains(page, want) {
		t.Errorf("page lacks the row\n%s\nin\n%s", want, page)
	}
}

func TestBadQuery(t *testing.T) {
	h := newHandler(t, fixtureConfig(writeFixture(t)))
	for _, q := range []string{"status=broken", "page=0", "page=x", "since=soon", "since=-1h"} {
		w := serve(h, http.MethodGet, "/?"+q, "")
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "<h1>Bad filter</h1>") {
			t.Errorf("GET /?%s = %d %.200q, want 400 and a Bad filter page", q, w.Code, w.Body.String())
		}
	}
}

// TestSessionPage checks that a session's page is report.ShowHTML's, its
// traces linked, and that every link resolves.
func TestSessionPage(t *testing.T) {
	dir := writeFixture(t)
	h := newHandler(t, fixtureConfig(dir))
	for _, id := range []string{"chat-42", "a/b c"} {
		w := serve(h, http.MethodGet, sessionURL(id), "")
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s = %d %s", sessionURL(id), w.Code, w.Body.String())
		}
		want := showHTML(t, dir, id)
		if !bytes.Equal(w.Body.Bytes(), want) {
			t.Errorf("GET %s is not ShowHTML's page (%d bytes, want %d)", sessionURL(id), w.Body.Len(), len(want))
		}
	}
	page := serve(h, http.MethodGet, "/sessions/chat-42", "").Body.String()
	// A trace may be linked from several sections (waterfall, errors).
	linked := map[string]bool{}
	traceLink := regexp.MustCompile(`<a href="(/sessions/chat-42/traces/[0-9a-f]{32})">`)
	for _, l := range traceLink.FindAllStringSubmatch(page, -1) {
		linked[l[1]] = true
	}
	want := map[string]bool{traceURL("chat-42", mustTrace(t, chatRunTrace)): true,
		traceURL("chat-42", mustTrace(t, chatSDKTrace)): true}
	if !maps.Equal(linked, want) {
		t.Fatalf("session page links traces %v, want %v", slices.Sorted(maps.Keys(linked)), slices.Sorted(maps.Keys(want)))
	}
	for l := range linked {
		if w := serve(h, http.MethodGet, l, ""); w.Code != http.StatusOK {
			t.Errorf("GET %s (linked from the session page) = %d", l, w.Code)
		}
	}
}

func showHTML(t *testing.T, dir, id string) []byte {
	t.Helper()
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := st.Session(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	opts := report.Options{Location: time.UTC,
		TraceURL: func(trace telemetry.TraceID) string { return traceURL(id, trace) }}
	if err := report.ShowHTML(&b, d, opts); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestTracePage(t *testing.T) {
	h := newHandler(t, fixtureConfig(writeFixture(t)))
	w := serve(h, http.MethodGet, "/sessions/chat-42/traces/"+chatRunTrace, "")
	page := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("GET trace = %d %s", w.Code, page)
	}
	for _, want := range []string{
		"<title>Trace " + chatRunTrace + " · graphsignal</title>",
		`<dt>Session</dt><dd><a href="/sessions/chat-42"><code>chat-42</code></a></dd>`,
		`<a href="#s-`,
		`<td class="note">RateLimit: slow down</td>`,
		"llm &lt;b&gt;",
		`<p class="note mono">RateLimit: slow down</p>`,
		"<pre>Traceback:\n  File &#34;app.py&#34;, line 7\nboom</pre>",
		"<dt>Usage</dt><dd>input.token_count=12</dd>",
		"<td>relevance</td>",
		"Payload <code>input</code> · 48 B, application/json",
		`<td class="mono">model</td><td class="mono val">gpt-4o</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("trace page lacks %q", want)
		}
	}
}

func TestRedirectsAndNotFound(t *testing.T) {
	h := newHandler(t, fixtureConfig(writeFixture(t)))
	tests := []struct {
		path     string
		code     int
		location string
		// want is in the page of a 404.
		want []string
	}{
		{path: "/sessions/chat", code: http.StatusFound, location: "/sessions/chat-42"},
		{path: "/sessions/last", code: http.StatusFound, location: "/sessions/ok-1"},
		{path: "/sessions/chat/traces/slowest", code: http.StatusFound, location: "/sessions/chat-42/traces/slowest"},
		{path: "/sessions/chat-42/traces/failed", code: http.StatusFound, location: "/sessions/chat-42/traces/" + chatRunTrace},
		{path: "/sessions/chat-42/traces/5BF9", code: http.StatusFound, location: "/sessions/chat-42/traces/" + chatSDKTrace},
		{path: "/sessions/bulk-0", code: http.StatusNotFound, want: []string{"<h1>Session not found</h1>",
			"Several sessions start with &#34;bulk-0&#34;", `<a href="/sessions/bulk-00">bulk-00</a>`}},
		{path: "/sessions/nosuch", code: http.StatusNotFound,
			want: []string{"No session &#34;nosuch&#34; is recorded in the local store."}},
		{path: "/sessions/chat-42/traces/ffff", code: http.StatusNotFound, want: []string{"<h1>Trace not found</h1>",
			`<a href="/sessions/chat-42/traces/` + chatSDKTrace + `">` + chatSDKTrace + `  3s, 1 span</a>`,
			`<a href="/sessions/chat-42">Session chat-42</a>`}},
		{path: "/sessions/batch-7/traces/slowest", code: http.StatusNotFound,
			want: []string{"session &#34;batch-7&#34; has no trace"}},
		{path: "/nosuch", code: http.StatusNotFound, want: []string{"<h1>Not found</h1>", `<a href="/">All sessions</a>`}},
		{path: "/sessions/", code: http.StatusNotFound, want: []string{"<h1>Not found</h1>"}},
	}
	for _, tt := range tests {
		w := serve(h, http.MethodGet, tt.path, "")
		if w.Code != tt.code {
			t.Errorf("GET %s = %d, want %d", tt.path, w.Code, tt.code)
			continue
		}
		if got := w.Header().Get("Location"); got != tt.location {
			t.Errorf("GET %s: Location %q, want %q", tt.path, got, tt.location)
		}
		for _, want := range tt.want {
			if !strings.Contains(w.Body.String(), want) {
				t.Errorf("GET %s: page lacks %q", tt.path, want)
			}
		}
	}
}

func TestGuard(t *testing.T) {
	h := newHandler(t, fixtureConfig(writeFixture(t)))
	tests := []struct {
		method, path, host string
		code               int
	}{
		{http.MethodGet, "/", "127.0.0.1:8123", http.StatusOK},
		{http.MethodGet, "/", "localhost:8123", http.StatusOK},
		{http.MethodGet, "/", "localhost", http.StatusOK},
		{http.MethodHead, "/sessions/chat-42", "127.0.0.1:8123", http.StatusOK},
		{http.MethodGet, "/", "evil.example:8123", http.StatusForbidden},
		{http.MethodGet, "/sessions/chat-42", "127.0.0.1.evil.example", http.StatusForbidden},
		{http.MethodGet, "/", "[::1]:8123", http.StatusForbidden},
		{http.MethodPost, "/", "127.0.0.1:8123", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/sessions/chat-42", "127.0.0.1:8123", http.StatusMethodNotAllowed},
		{http.MethodPut, "/nosuch", "127.0.0.1:8123", http.StatusMethodNotAllowed},
		{http.MethodOptions, "/", "127.0.0.1:8123", http.StatusMethodNotAllowed},
		{http.MethodGet, "/nosuch", "127.0.0.1:8123", http.StatusNotFound},
	}
	for _, tt := range tests {
		w := serve(h, tt.method, tt.path, tt.host)
		if w.Code != tt.code {
			t.Errorf("%s %s (Host %s) = %d, want %d", tt.method, tt.path, tt.host, w.Code, tt.code)
		}
		for k, v := range securityHeaders {
			if got := w.Header().Get(k); got != v {
				t.Errorf("%s %s (Host %s): %s = %q, want %q", tt.method, tt.path, tt.host, k, got, v)
			}
		}
		if tt.code == http.StatusMethodNotAllowed && w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: Allow = %q, want GET, HEAD", tt.method, tt.path, w.Header().Get("Allow"))
		}
	}
}

// TestToken checks the access token's gate: the right token in the query
// sets the cookie and redirects to the address without it; the cookie
// then lets requests in; anything else gets 403.
func TestToken(t *testing.T) {
	h := newHandler(t, fixtureConfig(writeFixture(t)))
	right := &http.Cookie{Name: "graphsignal-ui-8123", Value: testToken}
	tests := []struct {
		name, method, target string
		cookie               *http.Cookie
		code                 int
		// location is the redirect's; a 302 must also set the cookie.
		location string
	}{
		{name: "no token", target: "/", code: http.StatusForbidden},
		{name: "no token, session page", target: "/sessions/chat-42", code: http.StatusForbidden},
		{name: "wrong token", target: "/?token=wrong-token-0123456789", code: http.StatusForbidden},
		{name: "token's prefix", target: "/?token=" + testToken[:20], code: http.StatusForbidden},
		{name: "empty token", target: "/?token=", code: http.StatusForbidden},
		{name: "wrong cookie", target: "/", code: http.StatusForbidden,
			cookie: &http.Cookie{Name: right.Name, Value: "wrong-token-0123456789"}},
		{name: "another port's cookie", target: "/", code: http.StatusForbidden,
			cookie: &http.Cookie{Name: "graphsignal-ui-9999", Value: testToken}},
		{name: "wrong token, right cookie", target: "/?token=wrong", cookie: right, code: http.StatusForbidden},
		{name: "right token", target: "/?token=" + testToken, code: http.StatusFound, location: "/"},
		{name: "right token, HEAD", method: http.MethodHead, target: "/?token=" + testToken, code: http.StatusFound,
			location: "/"},
		{name: "right token, other params kept", target: "/?deployment=prod&token=" + testToken + "&q=a+b%26c&page=2",
			code: http.StatusFound, location: "/?deployment=prod&q=a+b%26c&page=2"},
		{name: "right token, escaped key", target: "/sessions/a%2Fb%20c?tok%65n=" + testToken, code: http.StatusFound,
			location: "/sessions/a%2Fb%20c"},
		{name: "right token, wrong cookie", target: "/sessions/chat-42?token=" + testToken, code: http.StatusFound,
			cookie: &http.Cookie{Name: right.Name, Value: "stale"}, location: "/sessions/chat-42"},
		{name: "right token, path of another host", target: "//evil.example/?token=" + testToken, code: http.StatusFound,
			location: "/"},
		{name: "cookie", target: "/", cookie: right, code: http.StatusOK},
		{name: "cookie, session page", target: "/sessions/chat-42", cookie: right, code: http.StatusOK},
	}
	for _, tt := range tests {
		method := cmp.Or(tt.method, http.MethodGet)
		r := newRequest(method, tt.target, "")
		if tt.cookie != nil {
			r.AddCookie(tt.cookie)
		}
		w := record(h, r)
		if w.Code != tt.code {
			t.Errorf("%s: %s %s = %d, want %d", tt.name, method, tt.target, w.Code, tt.code)
			continue
		}
		if got := w.Header().Get("Location"); got != tt.location {
			t.Errorf("%s: %s %s: Location %q, want %q", tt.name, method, tt.target, got, tt.location)
		}
		cookies := w.Result().Cookies()
		switch {
		case tt.code != http.StatusFound && len(cookies) > 0:
			t.Errorf("%s: %s %s sets cookies %v, want none", tt.name, method, tt.target, cookies)
		case tt.code == http.StatusFound:
			if len(cookies) != 1 {
				t.Fatalf("%s: %s %s sets %d cookies, want 1", tt.name, method, tt.target, len(cookies))
			}
			c := cookies[0]
			if c.Name != right.Name || c.Value != testToken || c.Path != "/" || !c.HttpOnly ||
				c.SameSite != http.SameSiteStrictMode {
				t.Errorf("%s: cookie %s, want %s=token; Path=/; HttpOnly; SameSite=Strict", tt.name, c, right.Name)
			}
		}
		if strings.Contains(w.Body.String(), testToken) {
			t.Errorf("%s: %s %s: the page holds the token", tt.name, method, tt.target)
		}
		if tt.code == http.StatusForbidden && method == http.MethodGet {
			page := w.Body.String()
			if !strings.Contains(page, "<h1>Access token needed</h1>") ||
				!strings.Contains(page, "Open the address that graphsignal ui printed") ||
				strings.Contains(page, `<a href="/">`) {
				t.Errorf("%s: 403 page %q, want the access token page without links", tt.name, page)
			}
		}
	}
}

func TestNewHandlerToken(t *testing.T) {
	a, b := NewToken(), NewToken()
	if a == b {
		t.Errorf("NewToken() = %q twice", a)
	}
	if len(a) < 26 || url.QueryEscape(a) != a {
		t.Errorf("NewToken() = %q, want 26 or more characters that a URL holds verbatim", a)
	}
	tests := []struct {
		token string
		ok    bool
	}{
		{a, true},
		{testToken, true},
		{"", false},
		{"short-token", false},
		{"0123456789abcdef;x", false},
		{"0123456789abcdef x", false},
		{"0123456789abcdef%2F", false},
		{"0123456789abcdefé", false},
	}
	for _, tt := range tests {
		cfg := fixtureConfig(t.TempDir())
		cfg.Token = tt.token
		_, err := NewHandler(cfg)
		if (err == nil) != tt.ok {
			t.Errorf("NewHandler(Token %q) = %v, want ok %v", tt.token, err, tt.ok)
		}
		if err != nil && tt.token != "" && strings.Contains(err.Error(), tt.token) {
			t.Errorf("NewHandler(Token %q) = %v: the error holds the token", tt.token, err)
		}
	}
}

func TestStoreUnavailable(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		path     string
		code     int
		wantText string
	}{
		{"nothing recorded: list", ErrNothingRecorded, "/", http.StatusOK, "Nothing has been recorded yet."},
		{"nothing recorded, filtered", ErrNothingRecorded, "/?user=bob", http.StatusOK, "Nothing has been recorded yet."},
		{"nothing recorded: session", ErrNothingRecorded, "/sessions/x", http.StatusNotFound, "Nothing has been recorded yet."},
		{"nothing recorded: trace", ErrNothingRecorded, "/sessions/x/traces/slowest", http.StatusNotFound,
			"Nothing has been recorded yet."},
		{"broken store: list", store.ErrCorrupt, "/", http.StatusInternalServerError, "store database is corrupt"},
		{"broken store: session", store.ErrCorrupt, "/sessions/x", http.StatusInternalServerError,
			"store database is corrupt"},
	}
	for _, tt := range tests {
		cfg := Config{Token: testToken, Open: func(context.Context) (*store.Store, error) { return nil, tt.err }}
		w := serve(newHandler(t, cfg), http.MethodGet, tt.path, "")
		if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.wantText) {
			t.Errorf("%s: GET %s = %d %.300q, want %d with %q", tt.name, tt.path, w.Code, w.Body.String(), tt.code,
				tt.wantText)
		}
	}
}

func TestParseListQuery(t *testing.T) {
	tests := []struct {
		raw     string
		want    listQuery
		wantURL string
		wantErr bool
	}{
		{raw: "", want: listQuery{Page: 1}, wantURL: "/"},
		{raw: "q=+chat+&status=ok&page=3", want: listQuery{Q: "chat", Status: "ok", Page: 3},
			wantURL: "/?page=3&q=chat&status=ok"},
		{raw: "deployment=a%26b&user=x+y&since=90m", want: listQuery{Deployment: "a&b", User: "x y",
			Since: 90 * time.Minute, Page: 1}, wantURL: "/?deployment=a%26b&since=1h30m&user=x+y"},
		{raw: "status=failed&since=168h", want: listQuery{Status: "failed", Since: 168 * time.Hour, Page: 1},
			wantURL: "/?since=168h&status=failed"},
		{raw: "status=FAILED", wantErr: true},
		{raw: "page=-1", wantErr: true},
		{raw: "since=1d", wantErr: true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/?"+tt.raw, nil)
		got, err := parseListQuery(r.URL.Query())
		if (err != nil) != tt.wantErr {
			t.Errorf("parseListQuery(%q) error = %v, want error %v", tt.raw, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		if got != tt.want {
			t.Errorf("parseListQuery(%q) = %+v, want %+v", tt.raw, got, tt.want)
		}
		if u := got.url(got.Page); u != tt.wantURL {
			t.Errorf("parseListQuery(%q).url() = %q, want %q", tt.raw, u, tt.wantURL)
		}
	}
}

// TestServe serves on a real loopback socket, then stops when the
// context is cancelled: Serve returns nil, the port is closed, and no
// goroutine is left (TestMain's goleak).
func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, newHandler(t, fixtureConfig(writeFixture(t)))) }()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: tr, Jar: jar, Timeout: 30 * time.Second}
	base := "http://" + ln.Addr().String()
	// The address with the token, as graphsignal ui prints it, then a
	// page without it: the cookie that the first set lets it in.
	for _, path := range []string{"/sessions/chat-42?token=" + testToken, "/?deployment=prod"} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s = %d, X-Frame-Options %q; want 200, DENY", path, resp.StatusCode,
				resp.Header.Get("X-Frame-Options"))
		}
		if strings.Contains(resp.Request.URL.String(), testToken) {
			t.Errorf("GET %s ends at %s, which holds the token", path, resp.Request.URL)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel = %v, want nil", err)
		}
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatal("Serve did not return after its context was cancelled")
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("the port still accepts connections after Serve returned")
	}
	var opErr *net.OpError
	if err := Serve(context.Background(), ln, http.NotFoundHandler()); !errors.As(err, &opErr) {
		t.Errorf("Serve on a closed listener = %v, want its *net.OpError", err)
	}
}
