// Package sdkconfig keeps the official Graphsignal SDK's options
// (sdk_config: sampling rate, debug mode) as the Graphsignal API gives them,
// for the loopback intake to answer the SDK in the program with in cloud
// mode (docs/intake.md).
//
// A Fetcher asks the API, GET {api_base}/api/v1/sdk_config/?tags=k:v;…
// with the header X-API-Key, in the background: first when the options are
// first asked for (Options) or once the run is Config.FirstAfter old,
// whichever comes first, so that a short run whose program never asks
// costs the API (and the run) no request; then every Config.Refresh (every
// Config.Retry after a failure), never on the caller's path. Each answer the API gives is kept in memory and in a cache
// file in Config.CacheDir (mode 0600, holding the answer, the API base and
// a fingerprint of the key, never the key: another key's project may have
// other options), so that the next run has the last known options at once,
// before its own first fetch ends or when the API cannot be reached.
//
// Goroutines: Start starts one, which waits as above, reads the cache file
// and then fetches; Close stops it, cancels a fetch in flight and joins it. New does
// no I/O and starts nothing, so a run can create the Fetcher before its
// program starts and Start it after. Options may be called at any time,
// also before Start and after Close.
package sdkconfig

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/graphsignal/graphsignal/internal/apibase"
)

// Defaults for the zero values of Config.
const (
	DefaultRefresh = 5 * time.Minute
	DefaultRetry   = 30 * time.Second
	DefaultTimeout = 10 * time.Second
	// DefaultFirstAfter is how long a started Fetcher that nobody asks
	// waits before its first fetch: as long as a run waits before it
	// first opens the local store.
	DefaultFirstAfter = time.Second
	// CacheFile is the cache's file name in Config.CacheDir.
	CacheFile = "sdk_config.json"
	// maxAnswer bounds the API's answer; a longer one is refused.
	maxAnswer = 64 << 10
)

// ErrAnswer is wrapped by the error of a fetch whose answer is not the
// sdk_config JSON ({"options":[{"name":…,"value":…},…]}).
var ErrAnswer = errors.New("unexpected sdk_config answer")

// Config configures a Fetcher. APIBase and APIKey are required.
type Config struct {
	// APIBase is the Graphsignal API's base URL, such as
	// https://api.graphsignal.com, as apibase.Parse accepts it.
	APIBase string
	// APIKey is sent as X-API-Key and nowhere else.
	APIKey string
	// Tags are sent as the query's tags (k:v pairs joined by ';', sorted).
	Tags map[string]string
	// CacheDir holds the cache file; "" keeps no cache.
	CacheDir string
	// Client makes the requests. nil means a client with a clone of
	// http.DefaultTransport (TLS verified, proxies from the environment:
	// HTTPS_PROXY, NO_PROXY) that follows no redirect, made before the
	// first fetch (a run that ends before it makes none) and closed by
	// Close.
	Client *http.Client
	// Timeout bounds one fetch (0 means DefaultTimeout).
	Timeout time.Duration
	// Refresh is the time between fetches that succeed (0 means
	// DefaultRefresh); Retry the time after one that fails (0 means
	// DefaultRetry).
	Refresh, Retry time.Duration
	// FirstAfter is how long a started Fetcher waits for a first Options
	// call before it reads the cache and fetches anyway (0 means
	// DefaultFirstAfter).
	FirstAfter time.Duration
	// OnError, when set, is called from the Fetcher's goroutine with each
	// fetch's error (which never holds the key). It must not block.
	OnError func(error)
}

// Fetcher keeps the latest sdk_config answer. Its methods are safe for
// concurrent use.
type Fetcher struct {
	cfg Config
	// url (the request URL, no secret in it) and client are made by
	// the goroutine before its first fetch (prepare); client is
	// cfg.Client or one with a Transport of its own (ownsTr). They belong
	// to the goroutine until done is closed.
	url     string
	client  *http.Client
	ownsTr  *http.Transport
	done    chan struct{} // closed when the goroutine returns, or by Close without Start
	asked   chan struct{} // closed by the first Options call
	askOnce sync.Once
	loaded  chan struct{} // closed once the cache file was read
	settled chan struct{} // closed once the first fetch ended (or Close)

	lifeMu  sync.Mutex
	started bool
	closed  bool
	stop    context.CancelFunc // cancels the goroutine's context; set by Start

	mu     sync.Mutex
	answer []byte // the latest answer: the API's, else the cache's; nil if none
	cloud  bool   // answer came from the API during this Fetcher's life
}

// New checks cfg and returns a Fetcher that is not started. It returns an
// error for a missing key or an APIBase that apibase.Parse refuses.
func New(cfg Config) (*Fetcher, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("sdk config: no API key")
	}
	if _, err := apibase.Parse(cfg.APIBase); err != nil {
		return nil, fmt.Errorf("sdk config: API base %w", err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.FirstAfter <= 0 {
		cfg.FirstAfter = DefaultFirstAfter
	}
	f := &Fetcher{
		cfg:     cfg,
		done:    make(chan struct{}),
		asked:   make(chan struct{}),
		loaded:  make(chan struct{}),
		settled: make(chan struct{}),
	}
	return f, nil
}

// prepare makes the request URL and sets f.client to cfg.Client, or to a
// client of its own. It runs in the goroutine, before its first fetch, so
// that a run that ends before it pays for none of it: cloning
// http.DefaultTransport sets HTTP/2 up, 0.1-0.27 ms the first time in a
// process (bench/h2setup), for a client that would never be used.
func (f *Fetcher) prepare() {
	f.url = strings.TrimRight(f.cfg.APIBase, "/") + "/api/v1/sdk_config/?" + url.Values{"tags": {tagQuery(f.cfg.Tags)}}.Encode()
	if f.cfg.Client != nil {
		f.client = f.cfg.Client
		return
	}
	f.ownsTr = http.DefaultTransport.(*http.Transport).Clone()
	f.client = &http.Client{
		Transport: f.ownsTr,
		// net/http forwards X-API-Key on a redirect to any host; a
		// redirect is answered as the failure it is instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Start starts the goroutine that reads the cache and fetches. It does
// nothing when called again or after Close.
func (f *Fetcher) Start() {
	f.lifeMu.Lock()
	defer f.lifeMu.Unlock()
	if f.started || f.closed {
		return
	}
	f.started = true
	ctx, cancel := context.WithCancel(context.Background())
	f.stop = cancel
	go f.run(ctx)
}

// tagQuery formats tags as the SDK does: k:v pairs joined by ';', sorted.
func tagQuery(tags map[string]string) string {
	pairs := make([]string, 0, len(tags))
	for k, v := range tags {
		pairs = append(pairs, k+":"+v)
	}
	slices.Sort(pairs)
	return strings.Join(pairs, ";")
}

// Options returns the latest answer, the sdk_config JSON as the API gave
// it: this run's latest fetch, else the cache's. When there is none yet it
// waits, until ctx is done, for the cache to be read and then for the
// first fetch to end. It returns nil when no answer is known: the caller
// answers with its local default. The result must not be modified.
func (f *Fetcher) Options(ctx context.Context) []byte {
	f.askOnce.Do(func() { close(f.asked) })
	for _, ch := range []chan struct{}{f.loaded, f.settled} {
		if a := f.latest(); a != nil {
			return a
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return f.latest()
		}
	}
	return f.latest()
}

func (f *Fetcher) latest() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.answer
}

// FromAPI reports whether the API answered during this Fetcher's life.
func (f *Fetcher) FromAPI() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cloud
}

// Close stops the goroutine, cancelling a fetch in flight, and waits for
// it. Calls after the first return at once.
func (f *Fetcher) Close() {
	f.lifeMu.Lock()
	first, started := !f.closed, f.started
	f.closed = true
	f.lifeMu.Unlock()
	switch {
	case first && started:
		f.stop()
	case first:
		close(f.done)
		close(f.loaded)
		close(f.settled)
	}
	<-f.done
	if f.ownsTr != nil {
		f.ownsTr.CloseIdleConnections()
	}
}

func (f *Fetcher) run(ctx context.Context) {
	defer close(f.done)
	settled := false
	defer func() {
		if !settled {
			close(f.settled)
		}
	}()
	first := time.NewTimer(f.cfg.FirstAfter)
	select {
	case <-f.asked:
		first.Stop()
	case <-first.C:
	case <-ctx.Done():
		first.Stop()
		close(f.loaded)
		return
	}
	if a := f.readCache(); a != nil {
		f.mu.Lock()
		f.answer = a
		f.mu.Unlock()
	}
	close(f.loaded)
	f.prepare()
	for {
		wait := f.cfg.Refresh
		a, err := f.fetch(ctx)
		switch {
		case err == nil:
			f.mu.Lock()
			f.answer, f.cloud = a, true
			f.mu.Unlock()
			f.writeCache(a)
		case ctx.Err() != nil:
			return
		default:
			wait = f.cfg.Retry
			if f.cfg.OnError != nil {
				f.cfg.OnError(err)
			}
		}
		if !settled {
			settled = true
			close(f.settled)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// fetch asks the API once. Errors name the host and the status, never the
// key.
func (f *Fetcher) fetch(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return nil, fmt.Errorf("sdk config: %w", err)
	}
	req.Header.Set("X-API-Key", f.cfg.APIKey)
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sdk config from %s: %w", req.URL.Host, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
		return nil, fmt.Errorf("sdk config from %s: %s", req.URL.Host, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("sdk config from %s: %w", req.URL.Host, err)
	}
	if err := check(body); err != nil {
		return nil, fmt.Errorf("sdk config from %s: %w", req.URL.Host, err)
	}
	return body, nil
}

// unwrapURLError drops *url.Error's method and URL (the error is reported
// with the host already), keeping what went wrong.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// check accepts the sdk_config JSON: an object whose "options" is a list
// of {"name": string, "value": string}, at most maxAnswer bytes.
func check(body []byte) error {
	if len(body) > maxAnswer {
		return fmt.Errorf("%w: over %d bytes", ErrAnswer, maxAnswer)
	}
	var v struct {
		Options *[]struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"options"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("%w: %w", ErrAnswer, err)
	}
	if v.Options == nil {
		return fmt.Errorf("%w: no options", ErrAnswer)
	}
	return nil
}

// cache is the cache file's content.
type cache struct {
	APIBase string          `json:"api_base"`
	Key     string          `json:"key"` // keyFingerprint of the key
	Answer  json.RawMessage `json:"answer"`
}

// keyFingerprint tells keys apart without holding one: the first 16 bytes
// of the SHA-256 of a domain-separated key, in hex.
func keyFingerprint(key string) string {
	sum := sha256.Sum256([]byte("graphsignal sdk_config cache\x00" + key))
	return hex.EncodeToString(sum[:16])
}

// readCache returns the cached answer for this API base and key, nil when
// there is none (or it is unreadable: the cache is only a hint).
func (f *Fetcher) readCache() []byte {
	if f.cfg.CacheDir == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(f.cfg.CacheDir, CacheFile))
	if err != nil {
		return nil
	}
	var c cache
	if json.Unmarshal(b, &c) != nil || c.APIBase != f.cfg.APIBase || c.Key != keyFingerprint(f.cfg.APIKey) || check(c.Answer) != nil {
		return nil
	}
	return c.Answer
}

// writeCache replaces the cache file with answer, atomically (a reader sees
// the old file or the new one). Failures are reported to OnError only: the
// cache is an optimisation.
func (f *Fetcher) writeCache(answer []byte) {
	if f.cfg.CacheDir == "" {
		return
	}
	if err := writeFile(f.cfg.CacheDir, cache{APIBase: f.cfg.APIBase, Key: keyFingerprint(f.cfg.APIKey), Answer: answer}); err != nil && f.cfg.OnError != nil {
		f.cfg.OnError(err)
	}
}

func writeFile(dir string, c cache) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("sdk config cache: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("sdk config cache: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+CacheFile+".*")
	if err != nil {
		return fmt.Errorf("sdk config cache: %w", err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("sdk config cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, CacheFile)); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("sdk config cache: %w", err)
	}
	return nil
}
