// Package gsapi is the Graphsignal API destination of the uploader: a
// upload.Sender that posts each batch to {api_base}/api/v1/signals/ as one
// gzip-compressed protobuf UploadRequest, the request the Graphsignal SDK
// sends. docs/upload.md ("Graphsignal API mapping") is the contract of how
// the model maps onto the request.
//
// The API key travels only in the X-API-Key header: it is never part of a
// URL, an error or a log line, and redirects are never followed (a redirect
// would carry the header to wherever it points).
package gsapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/graphsignal/graphsignal/internal/apibase"
	"github.com/graphsignal/graphsignal/internal/gzipbody"
	"github.com/graphsignal/graphsignal/internal/redact"
	"github.com/graphsignal/graphsignal/internal/signalspb"
	"github.com/graphsignal/graphsignal/internal/telemetry"
	"github.com/graphsignal/graphsignal/internal/upload"
	"github.com/graphsignal/graphsignal/internal/upload/predial"
)

// SignalsPath is the API path, appended to the API base.
const SignalsPath = "/api/v1/signals/"

// Config configures a Sender. APIBase and APIKey are required.
type Config struct {
	// APIBase is the API's base URL ("https://api.graphsignal.com"), as
	// apibase.Parse accepts it: http or https, a host, optionally a path
	// prefix; no credentials, query or fragment.
	APIBase string
	// APIKey is sent as X-API-Key.
	APIKey string
	// Client sends the requests; nil means a client with verified TLS,
	// proxies from the environment (HTTPS_PROXY, NO_PROXY, ...), connect
	// and response-header timeouts and connection reuse. Whatever the
	// client, redirects are not followed.
	Client *http.Client
	// Now is the clock for upload_ts and Retry-After dates (nil: time.Now).
	Now func() time.Time
	// Version is graphsignal's version for the User-Agent ("" means the
	// module version from the build information, if any).
	Version string
	// NumCPU is the number of logical CPUs of the host the runs were on,
	// used to scale process.cpu.usage (100 = one core in the model) to the
	// SDK's percent of all cores (0 means runtime.NumCPU()).
	NumCPU int
}

// Default timeouts of the default client. The caller's context bounds each
// Send as a whole.
const (
	dialTimeout           = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 30 * time.Second
	idleConnTimeout       = 90 * time.Second
)

// maxSeries bounds the counter and histogram state kept to send deltas.
const maxSeries = 20000

// Sender posts batches to the Graphsignal API. Send may be called from one
// goroutine at a time (upload.Sender's contract); the other methods are safe
// for concurrent use. A Sender owns no goroutine; the default client's idle
// connections are closed by CloseIdleConnections.
type Sender struct {
	endpoint  string // the signals URL, without credentials
	name      string
	insecure  bool
	key       string
	ua        string
	client    *http.Client
	pre       *predial.Dialer // the default client's dialer (nil with Config.Client)
	now       func() time.Time
	cpuFactor float64

	mu   sync.Mutex // guards everything below (Send is serialised anyway)
	sent seriesState
	runs upload.RunIndex
	zw   gzipbody.Writer
	raw  []byte
}

var (
	_ upload.Sender = (*Sender)(nil)
	_ upload.Primer = (*Sender)(nil)
)

// CheckKey reports what makes key unusable as an API key: empty, or holding
// a character that an HTTP header value cannot carry as sent (a space, a
// control or a non-ASCII character). The error never quotes the key.
func CheckKey(key string) error {
	if key == "" {
		return errors.New("no API key")
	}
	if strings.IndexFunc(key, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0 {
		return errors.New("the API key contains a space, a control or a non-ASCII character")
	}
	return nil
}

// New checks cfg and returns a Sender. An unusable APIBase gives an error
// naming it (without credentials); the key is never in an error.
func New(cfg Config) (*Sender, error) {
	base, err := apibase.Parse(cfg.APIBase)
	if err != nil {
		return nil, fmt.Errorf("api base %w", err)
	}
	if err := CheckKey(cfg.APIKey); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NumCPU <= 0 {
		cfg.NumCPU = runtime.NumCPU()
	}
	var pre *predial.Dialer
	var client *http.Client
	if cfg.Client != nil {
		c := *cfg.Client
		client = &c
	} else {
		// Verified TLS with the system roots, HTTP/2 offered as the
		// Transport speaks it over TLS.
		pre = predial.New((&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			&tls.Config{NextProtos: []string{"h2", "http/1.1"}}, cfg.Now)
		client = defaultClient(pre, base.Scheme == "https")
	}
	client.CheckRedirect = noRedirects
	shown := strings.TrimRight(base.String(), "/")
	return &Sender{
		endpoint:  shown + SignalsPath,
		name:      "Graphsignal API " + shown,
		insecure:  base.Scheme == "http" && !isLoopback(base.Hostname()),
		key:       cfg.APIKey,
		ua:        userAgent(cfg.Version),
		client:    client,
		pre:       pre,
		now:       cfg.Now,
		cpuFactor: 1 / float64(cfg.NumCPU),
		sent:      newSeriesState(),
	}, nil
}

func isLoopback(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, ".")) // names are case-insensitive; "localhost." is absolute
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// defaultClient is the client used without Config.Client; it dials, and
// makes its TLS handshakes, through pre, so that Warm can open its first
// connection ahead (through a proxy, the Transport makes the handshake
// with the API itself). It speaks HTTP/2 only to an https:// base
// (predial.Protocols).
func defaultClient(pre *predial.Dialer, overTLS bool) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           pre.DialContext,
		DialTLSContext:        pre.DialTLSContext,
		Protocols:             predial.Protocols(overTLS),
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          4,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       idleConnTimeout,
	}}
}

func userAgent(version string) string {
	if version == "" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
	}
	if version == "" {
		return "graphsignal"
	}
	return "graphsignal/" + strings.TrimPrefix(version, "v")
}

// Name is the destination as shown to users: "Graphsignal API " and the
// API base, without credentials.
func (s *Sender) Name() string { return s.name }

// InsecureKey reports whether the key travels over plain HTTP to a host
// that is not loopback (the caller warns once).
func (s *Sender) InsecureKey() bool { return s.insecure }

// CloseIdleConnections closes the client's idle connections, and ends the
// dial ahead that Warm started (a connection that no request took is
// closed); later Warms open nothing ahead.
func (s *Sender) CloseIdleConnections() {
	if s.pre != nil {
		s.pre.Close()
	}
	s.client.CloseIdleConnections()
}

// Send maps b (docs/upload.md), appends b's SDKUploads as they are, and
// posts the gzip-compressed request. ctx bounds the whole call. It returns
// nil once the API answered 2xx. Otherwise, for upload's delivery loop:
// *upload.PermanentError for 400 (with Request set: this request is
// refused, not the sender), 401, 403, 404, other refusals and a server
// certificate that does not verify; upload.ErrTooLarge (wrapped) for
// 413; *upload.RetryableError for 408, 429 and 5xx; a wrapped transport
// error (URL without credentials) for anything else. Result.Bytes is the
// compressed body size, also on failure.
func (s *Sender) Send(ctx context.Context, b telemetry.Batch) (upload.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs.Learn(b.Spans)
	m := newMapper(s.now(), s.cpuFactor, s.sent, &s.runs)
	req := m.request(&b)
	body := s.encode(req, b.SDKUploads)
	res := upload.Result{Bytes: len(body)}
	if err := s.post(ctx, body); err != nil {
		return res, err
	}
	m.commit(s.sent, maxSeries)
	return res, nil
}

// Prime implements upload.Primer: it records b's counter and histogram
// points as accepted by the API, without sending anything, so that the
// points that follow them in a journal resumed by another process are sent
// as increases over them rather than whole (which the API would add to
// what it already counted).
func (s *Sender) Prime(b telemetry.Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs.Learn(b.Spans)
	newMapper(s.now(), s.cpuFactor, s.sent, &s.runs).prime(&b, s.sent, maxSeries)
}

// encode serializes req, appends each SDK body (concatenated messages merge,
// so their repeated fields join the request's) and compresses the result.
func (s *Sender) encode(req *signalspb.UploadRequest, sdk []telemetry.SDKUpload) []byte {
	s.raw = req.AppendMarshal(s.raw[:0])
	for _, u := range sdk {
		s.raw = append(s.raw, u.Body...)
	}
	var out bytes.Buffer
	out.Grow(len(s.raw)/4 + 64)
	s.zw.Compress(&out, s.raw)
	if cap(s.raw) > 8<<20 {
		s.raw = nil // do not hold a huge buffer between calls
	}
	return out.Bytes()
}

func (s *Sender) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("graphsignal api request: %w", redactErr(err))
	}
	req.Header.Set("X-API-Key", s.key)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("User-Agent", s.ua)
	resp, err := s.client.Do(req)
	if err != nil {
		var cert *tls.CertificateVerificationError
		if errors.As(err, &cert) {
			// Sending again would meet the same certificate.
			return &upload.PermanentError{Destination: s.name,
				Reason: "TLS certificate not trusted: " + cert.Err.Error()}
		}
		return fmt.Errorf("upload to %s: %w", s.name, redactErr(err))
	}
	defer resp.Body.Close()
	excerpt := readExcerpt(resp.Body)
	// Drain what is left (bounded) so that the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	return s.statusErr(resp, excerpt)
}

const (
	maxExcerpt = 200     // bytes of a 400's body quoted in its error
	maxDrain   = 1 << 20 // bytes of a body read before closing
)

// statusErr classifies the response status (nil for 2xx).
func (s *Sender) statusErr(resp *http.Response, excerpt []byte) error {
	code := resp.StatusCode
	perm := func(reason string) error {
		return &upload.PermanentError{Destination: s.name, Status: code, Reason: reason}
	}
	switch {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusUnauthorized:
		return perm("invalid API key")
	case code == http.StatusForbidden:
		return perm("the API key is not allowed to send")
	case code == http.StatusNotFound:
		return perm("no such API endpoint (check --api-base)")
	case code == http.StatusBadRequest:
		reason := "request refused"
		if e := s.sanitize(excerpt); e != "" {
			reason += ": " + e
		}
		// The API refused this request's content, not the sender: the
		// records are dropped and delivery goes on (docs/upload.md).
		return &upload.PermanentError{Destination: s.name, Status: code, Reason: reason, Request: true}
	case code == http.StatusRequestEntityTooLarge:
		return fmt.Errorf("upload to %s: %w (413)", s.name, upload.ErrTooLarge)
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		reason := "server error"
		switch code {
		case http.StatusTooManyRequests:
			reason = "rate limited"
		case http.StatusRequestTimeout:
			reason = "request timeout"
		case http.StatusServiceUnavailable:
			reason = "service unavailable"
		}
		return &upload.RetryableError{Destination: s.name, Status: code, Reason: reason,
			RetryAfter: upload.ParseRetryAfter(resp.Header.Get("Retry-After"), s.now())}
	case code >= 300 && code < 400:
		return perm("redirected, not followed (check --api-base)")
	default:
		return perm("request refused")
	}
}

// readExcerpt reads the start of a response body.
func readExcerpt(r io.Reader) []byte {
	b, _ := io.ReadAll(io.LimitReader(r, maxExcerpt))
	return b
}

// sanitize makes a body excerpt fit for one line of an error: valid UTF-8,
// printable, spaces collapsed, the key cut out should the server echo it.
func (s *Sender) sanitize(b []byte) string {
	t := strings.ToValidUTF8(string(b), "")
	t = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, t)
	t = strings.Join(strings.Fields(t), " ")
	t = redact.String(t, s.key)
	if len(b) == maxExcerpt && t != "" {
		t += "…"
	}
	return t
}

// redactErr shows the URL of a *url.Error as redact.Endpoint does (never
// with credentials or a query).
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		c := *ue
		c.URL = redact.Endpoint(ue.URL)
		return &c
	}
	return err
}
