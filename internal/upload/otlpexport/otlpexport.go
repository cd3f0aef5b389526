// Package otlpexport sends what runs record (spans, metrics, logs, scores)
// to any OpenTelemetry backend over OTLP: http/protobuf, http/json or grpc.
// The mapping from the telemetry model to OTLP, and how the standard
// OTEL_EXPORTER_OTLP_* variables configure it, is documented in
// docs/upload.md (section "OTLP").
//
// A Sender is an upload.Sender. It starts no goroutines of its own (those
// of net/http's idle connections end with CloseIdleConnections); Send may
// be called from several goroutines, and calls are serialised.
// Errors are classified with the types of package upload and never contain
// header values or URL credentials.
package otlpexport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/graphsignal/graphsignal/internal/gzipbody"
	"github.com/graphsignal/graphsignal/internal/telemetry"
	"github.com/graphsignal/graphsignal/internal/upload"
	"github.com/graphsignal/graphsignal/internal/upload/predial"
)

// Protocols a Signal may use.
const (
	ProtocolHTTPProtobuf = "http/protobuf"
	ProtocolHTTPJSON     = "http/json"
	ProtocolGRPC         = "grpc"
)

// Compressions a Signal may use.
const (
	CompressionGzip = "gzip"
	CompressionNone = "none"
)

// Config says where each signal goes and what describes the data's source.
type Config struct {
	Traces, Metrics, Logs Signal
	// ServiceName is the service.name of every resource; when empty, each
	// run's records get the run's deployment (its run span's deployment
	// tag, else the record's own), so that a journal sent later, or by
	// another run, keeps its own.
	ServiceName string
	// Resource holds the attributes of OTEL_RESOURCE_ATTRIBUTES, added to
	// every resource.
	Resource map[string]string
	// Version is graphsignal's version, sent in the User-Agent
	// ("graphsignal/<version>"; "graphsignal" when empty).
	Version string
	// Now is the clock used to read HTTP-date Retry-After values; nil means
	// time.Now.
	Now func() time.Time
}

// Signal is the destination of one kind of data. A Signal with an empty
// URL is not exported.
type Signal struct {
	// URL is the full request URL for the HTTP protocols
	// (http://collector:4318/v1/traces), and scheme://host:port for grpc.
	URL string
	// Protocol is one of the Protocol constants.
	Protocol string
	// Headers are sent with every request (and as gRPC metadata). Their
	// values are secrets.
	Headers map[string]string
	// Timeout bounds each request; 0 means only the caller's context does.
	Timeout time.Duration
	// Compression is CompressionGzip or CompressionNone ("" is none).
	Compression string
	// TLS configures https and grpc over TLS (custom CA, client
	// certificate); nil means the system roots.
	TLS *tls.Config
	// Insecure makes grpc use cleartext HTTP/2 for a URL without scheme
	// (FromEnv turns such URLs into http:// ones).
	Insecure bool
}

// Describe says where each configured signal goes and how, a line each
// ("traces http://c:4318/v1/traces · http/protobuf · gzip · timeout 10s ·
// headers: authorization"), for --debug: header names, never their
// values; the caller redacts Secrets from the URLs.
func (c Config) Describe() []string {
	var out []string
	for _, p := range []struct {
		name string
		sig  Signal
	}{{"traces", c.Traces}, {"metrics", c.Metrics}, {"logs", c.Logs}} {
		if p.sig.URL == "" {
			continue
		}
		compression := p.sig.Compression
		if compression == "" {
			compression = CompressionNone
		}
		line := fmt.Sprintf("%s %s · %s · %s", p.name, p.sig.URL, p.sig.Protocol, compression)
		if p.sig.Timeout > 0 {
			line += fmt.Sprintf(" · timeout %v", p.sig.Timeout)
		}
		if len(p.sig.Headers) > 0 {
			line += " · headers: " + strings.Join(slices.Sorted(maps.Keys(p.sig.Headers)), ", ")
		}
		if p.sig.TLS != nil {
			line += " · TLS files"
		}
		out = append(out, line)
	}
	if c.ServiceName != "" {
		out = append(out, "service.name "+c.ServiceName)
	}
	return out
}

// Enabled reports whether any signal has a destination.
func (c Config) Enabled() bool {
	return c.Traces.URL != "" || c.Metrics.URL != "" || c.Logs.URL != ""
}

// Secrets returns the values that must never be shown: every header value
// and any password or query parameter value in the URLs. Callers pass them
// to redact.String for logs and debug output.
func (c Config) Secrets() []string {
	var out []string
	for _, s := range []Signal{c.Traces, c.Metrics, c.Logs} {
		for _, v := range s.Headers {
			if v != "" {
				out = append(out, v)
			}
		}
		u, err := url.Parse(s.URL)
		if err != nil {
			continue
		}
		if p, ok := u.User.Password(); ok && p != "" {
			out = append(out, p)
		}
		for _, vs := range u.Query() {
			for _, v := range vs {
				if v != "" {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// Sender exports batches to the destinations of a Config.
type Sender struct {
	name    string
	secrets []string
	now     func() time.Time
	conv    converter

	traces, metrics, logs *endpoint

	mu sync.Mutex
	// acked holds the digests of requests a destination accepted during a
	// Send that then failed on another signal: when the delivery loop
	// resends the batch, those requests are not sent twice.
	acked []digest
}

var (
	_ upload.Sender     = (*Sender)(nil)
	_ upload.Primer     = (*Sender)(nil)
	_ upload.PartKeeper = (*Sender)(nil)
)

// New checks cfg and prepares its transports; it opens no connection.
func New(cfg Config) (*Sender, error) {
	if !cfg.Enabled() {
		return nil, errors.New("otlp: no endpoint configured")
	}
	s := &Sender{
		secrets: cfg.Secrets(),
		now:     cfg.Now,
		conv:    newConverter(cfg.ServiceName, cfg.Resource),
	}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	pool := make(map[transportKey]http.RoundTripper)
	pres := make(map[transportKey]*predial.Dialer)
	gz, gzMu := &gzipbody.Writer{}, &sync.Mutex{} // one for all endpoints, one request at a time
	var named []namedEndpoint
	var eps []*endpoint
	for _, p := range []struct {
		dst  **endpoint
		sig  Signal
		kind signalKind
	}{{&s.traces, cfg.Traces, tracesKind}, {&s.metrics, cfg.Metrics, metricsKind}, {&s.logs, cfg.Logs, logsKind}} {
		if p.sig.URL == "" {
			continue
		}
		if *p.dst, err = newEndpoint(p.sig, p.kind, userAgent(cfg.Version), pool, pres, gz, gzMu); err != nil {
			return nil, err
		}
		named = append(named, namedEndpoint{(*p.dst).display, p.kind, p.sig.Protocol})
		eps = append(eps, *p.dst)
	}
	s.name = senderName(named)
	_, common := commonBase(named)
	for i, ep := range eps {
		ep.dest = s.name
		if !common {
			ep.dest = senderName(named[i : i+1])
		}
	}
	return s, nil
}

type namedEndpoint struct {
	display  string // endpoint.display
	kind     signalKind
	protocol string
}

// senderName names the destination; the name is also its identity in the
// spool, so any change of an endpoint (path included) or of a protocol makes
// a new destination, and what was pending for the old one stays pending
// there. When all three signals go to one place the way
// OTEL_EXPORTER_OTLP_ENDPOINT sends them (base/v1/traces, base/v1/metrics,
// base/v1/logs over HTTP; one target over gRPC) the name is "OTLP base";
// otherwise each signal is named with its URL: "OTLP traces
// https://a:4318/v1/traces, metrics https://b:4317 (grpc)". A protocol
// other than http/protobuf follows in parentheses. SettingFor reads it back.
func senderName(eps []namedEndpoint) string {
	if base, ok := commonBase(eps); ok {
		return "OTLP " + base + protocolSuffix(eps[0].protocol)
	}
	parts := make([]string, len(eps))
	for i, e := range eps {
		parts[i] = e.kind.String() + " " + e.display + protocolSuffix(e.protocol)
	}
	return "OTLP " + strings.Join(parts, ", ")
}

// commonBase reports the base URL that OTEL_EXPORTER_OTLP_ENDPOINT would
// give eps, if they are all three signals as it would send them.
func commonBase(eps []namedEndpoint) (string, bool) {
	if len(eps) != 3 {
		return "", false
	}
	var base string
	for i, e := range eps {
		if e.protocol != eps[0].protocol {
			return "", false
		}
		b := e.display
		if e.protocol != ProtocolGRPC {
			var ok bool
			if b, ok = strings.CutSuffix(b, "/v1/"+e.kind.String()); !ok {
				return "", false
			}
		}
		if i > 0 && b != base {
			return "", false
		}
		base = b
	}
	return base, true
}

func protocolSuffix(protocol string) string {
	if protocol == "" || protocol == ProtocolHTTPProtobuf {
		return ""
	}
	return " (" + protocol + ")"
}

// SettingFor says which settings would send again what is pending for the
// destination a Sender named name (senderName), for a user who no longer
// has them; ok is false when name is not such a name.
func SettingFor(name string) (setting string, ok bool) {
	rest, ok := strings.CutPrefix(name, "OTLP ")
	if !ok || rest == "" {
		return "", false
	}
	split := func(s string) (url, protocol string) {
		if i := strings.LastIndex(s, " ("); i >= 0 && strings.HasSuffix(s, ")") {
			return s[:i], s[i+2 : len(s)-1]
		}
		return s, ""
	}
	var sets []string
	for _, part := range strings.Split(rest, ", ") {
		kind, url, perSignal := strings.Cut(part, " ")
		if !perSignal || (kind != "traces" && kind != "metrics" && kind != "logs") {
			if len(sets) > 0 {
				return "", false
			}
			url, protocol := split(part)
			s := "set OTEL_EXPORTER_OTLP_ENDPOINT (or --otlp-endpoint) to " + url
			if protocol != "" {
				s += " and OTEL_EXPORTER_OTLP_PROTOCOL to " + protocol
			}
			return s, true
		}
		url, protocol := split(url)
		v := "OTEL_EXPORTER_OTLP_" + strings.ToUpper(kind)
		sets = append(sets, v+"_ENDPOINT to "+url)
		if protocol != "" {
			sets = append(sets, v+"_PROTOCOL to "+protocol)
		}
	}
	return "set " + strings.Join(sets, ", "), true
}

func userAgent(version string) string {
	if version == "" {
		return "graphsignal"
	}
	return "graphsignal/" + version
}

// Name is the destination's name (senderName): endpoints as
// scheme://host, without credentials, path or query.
func (s *Sender) Name() string { return s.name }

// Prime implements upload.Primer: it learns, without exporting anything,
// the resources and start times of the runs whose run spans b holds, so
// that the records of a journal resumed by another process past its run
// span get the run's whole resource and counters their start time.
func (s *Sender) Prime(b telemetry.Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conv.runs.Learn(b.Spans)
}

// Send exports b: its spans as traces; its metrics as metrics; its logs and
// standalone scores as logs. SDKUploads are skipped (they are for the
// Graphsignal API); records with InSDKUpload are exported like the others.
// It returns once every request was accepted, with the bytes sent and the
// records the destination rejected (partial success); otherwise the first
// error (see upload.Sender). A request refused as invalid
// (upload.PermanentError with Request) rejects that signal's records only:
// they are counted in Rejected, with the refusal in Refused and Message,
// and the other signals are still sent. Requests already accepted by a destination
// are remembered, so that resending the same batch after a failure does not
// send them again.
func (s *Sender) Send(ctx context.Context, b telemetry.Batch) (upload.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reqs := s.conv.convert(b, s.traces != nil, s.metrics != nil, s.logs != nil)
	if len(reqs) == 0 {
		return upload.Result{NoRequest: true}, nil
	}
	// Encoded in turn, then sent at once, one request per signal, each to
	// its endpoint: the batch costs one round trip, not one per signal.
	type call struct {
		r    request
		ep   *endpoint
		body []byte
		out  outcome
		err  error
	}
	calls := make([]call, 0, len(reqs))
	for _, r := range reqs {
		ep := s.endpointFor(r.kind)
		body, err := ep.marshal(r)
		if err != nil {
			return upload.Result{}, fmt.Errorf("otlp: encode %s: %w", r.kind, err)
		}
		if len(s.acked) > 0 && s.wasAcked(digestOf(r.kind, body)) {
			continue
		}
		calls = append(calls, call{r: r, ep: ep, body: body})
	}
	// The first request goes from this goroutine, whose stack has grown
	// already (a new goroutine's stack grows by copying, several times
	// over for a request), the others each from one of their own.
	var wg sync.WaitGroup
	for i := 1; i < len(calls); i++ {
		c := &calls[i]
		wg.Go(func() { c.out, c.err = c.ep.send(ctx, c.body, s) })
	}
	if len(calls) > 0 {
		calls[0].out, calls[0].err = calls[0].ep.send(ctx, calls[0].body, s)
	}
	wg.Wait()
	res := upload.Result{Skipped: b.Len()}
	for _, r := range reqs {
		res.Skipped -= r.records()
	}
	res.Skipped = max(res.Skipped, 0)
	var sent []call
	var failed error
	for _, c := range calls {
		out, err := c.out, c.err
		var perm *upload.PermanentError
		if errors.As(err, &perm) && perm.Request {
			out = outcome{bytes: out.bytes, rejected: c.r.records(), message: perm.Error()}
			res.Refused = perm
		} else if err != nil {
			if failed == nil {
				failed = err
			}
			continue
		}
		sent = append(sent, c)
		res.Bytes += out.bytes
		res.Rejected += out.rejected
		if out.message != "" && !slices.Contains(strings.Split(res.Message, "; "), out.message) {
			if res.Message != "" {
				res.Message += "; "
			}
			res.Message += out.message
		}
	}
	if failed != nil {
		// What was accepted is not sent again when the batch is: its
		// digest is kept (made only now: a batch wholly accepted needs
		// none).
		ds := make([]digest, 0, len(sent))
		for _, c := range sent {
			ds = append(ds, digestOf(c.r.kind, c.body))
		}
		s.remember(ds)
		return res, failed
	}
	s.acked = s.acked[:0]
	return res, nil
}

func (s *Sender) endpointFor(k signalKind) *endpoint {
	switch k {
	case tracesKind:
		return s.traces
	case metricsKind:
		return s.metrics
	}
	return s.logs
}

// CloseIdleConnections closes the connections the Sender keeps open
// between Sends, and ends the dials ahead that Warm started (a connection
// that no request took is closed; later Warms open nothing ahead). The
// Sender stays usable.
func (s *Sender) CloseIdleConnections() {
	for _, ep := range []*endpoint{s.traces, s.metrics, s.logs} {
		if ep == nil {
			continue
		}
		if ep.pre != nil {
			ep.pre.Close()
		}
		if ep.client != nil {
			ep.client.CloseIdleConnections()
		}
		if c, ok := ep.rt.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections()
		}
	}
}
