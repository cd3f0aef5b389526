package sdkconfig

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const key = "gs-secret-key-123"

// cloud is a stand-in for the Graphsignal API's sdk_config route: it checks
// the key, records the tags query, and answers with answer (or status).
type cloud struct {
	srv    *httptest.Server
	hits   atomic.Int32
	mu     sync.Mutex
	answer string
	status int
	tags   []string
	block  chan struct{} // when set, requests wait on it (or their end)
}

func newCloud(t *testing.T, answer string) *cloud {
	t.Helper()
	c := &cloud{answer: answer, status: http.StatusOK}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		c.mu.Lock()
		answer, status, block := c.answer, c.status, c.block
		c.tags = append(c.tags, r.URL.Query().Get("tags"))
		c.mu.Unlock()
		if block != nil {
			select {
			case <-block:
			case <-r.Context().Done():
				return
			}
		}
		if r.URL.Path != "/api/v1/sdk_config/" || r.Header.Get("X-API-Key") != key {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *cloud) set(answer string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answer, c.status = answer, status
}

// downURL is an http URL where nothing listens.
func downURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

func start(t *testing.T, cfg Config) *Fetcher {
	t.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = key
	}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	f.Start()
	return f
}

// TestNotStarted: before Start nothing is fetched and Options waits only
// as long as its context; Close without Start returns, and Start after
// Close does nothing.
func TestNotStarted(t *testing.T) {
	c := newCloud(t, answer1)
	f, err := New(Config{APIBase: c.srv.URL, APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if got := options(f, 50*time.Millisecond); got != "" {
		t.Errorf("Options before Start = %q, want none", got)
	}
	f.Close()
	f.Start()
	f.Close()
	if got := options(f, time.Second); got != "" || c.hits.Load() != 0 {
		t.Errorf("after Close: Options = %q, %d requests; want none", got, c.hits.Load())
	}
}

func options(f *Fetcher, wait time.Duration) string {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return string(f.Options(ctx))
}

const answer1 = `{"options":[{"name":"traces_per_sec","value":"7"},{"name":"debug_mode","value":"1"}]}`

// TestRelay: the API's answer is what Options returns, asked with the key
// in the header and the tags in the query; it is cached in a 0600 file
// without the key, and the next Fetcher answers from that cache at once
// while the API is down.
func TestRelay(t *testing.T) {
	c := newCloud(t, answer1)
	dir := t.TempDir()
	f := start(t, Config{APIBase: c.srv.URL + "/", Tags: map[string]string{"session_id": "s1", "deployment": "ci"}, CacheDir: dir})
	if got := options(f, 5*time.Second); got != answer1 || !f.FromAPI() {
		t.Fatalf("Options = %q (from API %v), want %q", got, f.FromAPI(), answer1)
	}
	c.mu.Lock()
	tags := c.tags[0]
	c.mu.Unlock()
	if tags != "deployment:ci;session_id:s1" {
		t.Errorf("tags query = %q, want deployment:ci;session_id:s1", tags)
	}
	f.Close()
	path := filepath.Join(dir, CacheFile)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("cache mode %v, want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), key) {
		t.Errorf("cache holds the key: %s", b)
	}

	// Next run: the API is down; the cache answers without waiting.
	down := downURL(t)
	if err := writeFile(dir, cache{APIBase: down, Key: keyFingerprint(key), Answer: []byte(answer1)}); err != nil {
		t.Fatal(err)
	}
	g := start(t, Config{APIBase: down, CacheDir: dir})
	if got := options(g, 5*time.Second); got != answer1 || g.FromAPI() {
		t.Fatalf("Options with the API down = %q (from API %v), want the cached %q", got, g.FromAPI(), answer1)
	}
	// A cache written for another API base is not used.
	h := start(t, Config{APIBase: down + "/other", CacheDir: dir})
	if got := options(h, 5*time.Second); got != "" {
		t.Errorf("Options with another API base's cache = %q, want none", got)
	}
	// Nor one written for another key (another project).
	k := start(t, Config{APIBase: down, APIKey: "other-key-0123456789", CacheDir: dir})
	if got := options(k, 5*time.Second); got != "" {
		t.Errorf("Options with another key's cache = %q, want none", got)
	}
}

// TestNoAnswer: with the API refusing, answering badly or down and no
// cache, Options returns nil (the caller's default) once the first fetch
// failed, and the error, reported to OnError, never holds the key.
func TestNoAnswer(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		status int
		want   error
	}{
		{"not json", "<html>", http.StatusOK, ErrAnswer},
		{"no options", `{"x":1}`, http.StatusOK, ErrAnswer},
		{"options not a list", `{"options":3}`, http.StatusOK, ErrAnswer},
		{"too long", `{"options":[],"pad":"` + strings.Repeat("x", maxAnswer) + `"}`, http.StatusOK, ErrAnswer},
		{"server error", answer1, http.StatusInternalServerError, nil},
		{"redirect", answer1, http.StatusFound, nil},
		{"down", "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := downURL(t)
			if tt.status != 0 {
				c := newCloud(t, tt.answer)
				c.set(tt.answer, tt.status)
				base = c.srv.URL
			}
			errs := make(chan error, 1)
			dir := t.TempDir()
			f := start(t, Config{APIBase: base, CacheDir: dir, OnError: func(err error) {
				select {
				case errs <- err:
				default:
				}
			}})
			if got := options(f, 5*time.Second); got != "" {
				t.Fatalf("Options = %q, want none", got)
			}
			err := <-errs
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("error holds the key: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, CacheFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("cache written after a failure: %v", err)
			}
		})
	}
}

// TestSlowAPI: an API that does not answer delays Options only as long as
// the caller's context allows, and Close cancels the fetch in flight.
func TestSlowAPI(t *testing.T) {
	c := newCloud(t, answer1)
	c.block = make(chan struct{})
	defer close(c.block)
	f := start(t, Config{APIBase: c.srv.URL})
	began := time.Now()
	if got := options(f, 100*time.Millisecond); got != "" {
		t.Fatalf("Options = %q, want none", got)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("Options took %v with a 100ms context", d)
	}
	began = time.Now()
	f.Close()
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("Close took %v with a fetch in flight", d)
	}
}

// TestRefresh: a later answer of the API replaces the first; a failure in
// between keeps the last good one.
func TestRefresh(t *testing.T) {
	c := newCloud(t, answer1)
	f := start(t, Config{APIBase: c.srv.URL, Refresh: 5 * time.Millisecond, Retry: 5 * time.Millisecond})
	if got := options(f, 5*time.Second); got != answer1 {
		t.Fatalf("Options = %q, want %q", got, answer1)
	}
	c.set("", http.StatusServiceUnavailable)
	n := c.hits.Load()
	waitFor(t, func() bool { return c.hits.Load() >= n+2 }, "two failed refreshes")
	if got := options(f, time.Second); got != answer1 {
		t.Fatalf("Options after a failed refresh = %q, want the last good %q", got, answer1)
	}
	const answer2 = `{"options":[{"name":"traces_per_sec","value":"0.5"}]}`
	c.set(answer2, http.StatusOK)
	waitFor(t, func() bool { return options(f, time.Second) == answer2 }, "the refreshed answer")
}

// waitFor polls cond until it holds, failing after 10 s.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never saw %s", what)
		}
	}
}

func TestNewRejects(t *testing.T) {
	for _, cfg := range []Config{
		{APIBase: "https://api.graphsignal.com"},
		{APIBase: "api.graphsignal.com", APIKey: key},
		{APIBase: "ftp://x", APIKey: key},
		{APIBase: "https://", APIKey: key},
		{APIBase: "ftp://user:" + key + "@host", APIKey: "k"},
		{APIBase: "http://user:" + key + "@[::1", APIKey: "k"},
		{APIBase: "https://" + key + "@api.graphsignal.com", APIKey: "k"},
		{APIBase: "user:" + key + "@api.graphsignal.com", APIKey: "k"},
		{APIBase: "https://u:p@api.graphsignal.com", APIKey: key},
		{APIBase: "https://api.graphsignal.com/?token=" + key, APIKey: "k"},
		{APIBase: "https://api.graphsignal.com/#" + key, APIKey: "k"},
		{APIBase: "https://api.graphsignal.com:99999", APIKey: key},
	} {
		if f, err := New(cfg); err == nil {
			f.Close()
			t.Errorf("New(%+v) = nil error", cfg)
		} else if strings.Contains(err.Error(), key) {
			t.Errorf("New error holds the key: %v", err)
		}
	}
}

// TestFirstFetchWaitsForDemand: a started Fetcher that nobody asks sends
// no request until FirstAfter has passed (a short run whose program never
// asks costs no request); the first Options call fetches at once.
func TestFirstFetchWaitsForDemand(t *testing.T) {
	c := newCloud(t, answer1)
	f := start(t, Config{APIBase: c.srv.URL, FirstAfter: time.Hour})
	time.Sleep(50 * time.Millisecond) // what the Fetcher would do unasked, it would have begun by now
	if n := c.hits.Load(); n != 0 {
		t.Fatalf("%d requests before anyone asked, want 0", n)
	}
	if got := options(f, 5*time.Second); got != answer1 {
		t.Fatalf("Options = %q, want %q", got, answer1)
	}
	if n := c.hits.Load(); n != 1 {
		t.Errorf("%d requests after the first Options, want 1", n)
	}

	unasked := newCloud(t, answer1)
	start(t, Config{APIBase: unasked.srv.URL, FirstAfter: 20 * time.Millisecond})
	waitFor(t, func() bool { return unasked.hits.Load() == 1 }, "the first fetch after FirstAfter, unasked")
}

// TestNoClientBeforeTheFirstFetch: a Fetcher closed before its first
// fetch (a short run whose program never asked) made no client: setting
// up and closing a Transport would cost the run for nothing.
func TestNoClientBeforeTheFirstFetch(t *testing.T) {
	c := newCloud(t, answer1)
	f := start(t, Config{APIBase: c.srv.URL, FirstAfter: time.Hour})
	f.Close()
	if f.client != nil || f.ownsTr != nil {
		t.Errorf("client %v, transport %v after Close before any fetch; want none", f.client, f.ownsTr)
	}
	asked := start(t, Config{APIBase: c.srv.URL, FirstAfter: time.Hour})
	if got := options(asked, 5*time.Second); got != answer1 {
		t.Fatalf("Options = %q, want %q", got, answer1)
	}
	asked.Close()
	if asked.ownsTr == nil {
		t.Error("no Transport of its own after a fetch without Config.Client")
	}
}
