package otlpexport

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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/graphsignal/graphsignal/internal/gzipbody"
	"github.com/graphsignal/graphsignal/internal/redact"
	"github.com/graphsignal/graphsignal/internal/upload"
	"github.com/graphsignal/graphsignal/internal/upload/predial"
)

// maxResponse bounds how much of a response body is read.
const maxResponse = 64 << 10

// endpoint is where one signal goes, with its transport.
type endpoint struct {
	sig     Signal
	kind    signalKind
	url     string            // request URL (http) or target (grpc)
	display string            // the URL without credentials or query (grpc: scheme://host), for Name
	dest    string            // the destination as errors name it (senderName)
	client  *http.Client      // http protocols
	pre     *predial.Dialer   // client's dialer (shared by the endpoints of a transport)
	rt      http.RoundTripper // grpc
	md      http.Header       // grpc metadata
	ua      string
	json    bool
	gzip    bool
	gz      *gzipbody.Writer // the Sender's, for all its endpoints
	gzMu    *sync.Mutex      // gz's: the signals' requests go at once
	buf     bytes.Buffer
}

// transportKey identifies a connection pool. Over HTTP each signal has its
// own, as an OpenTelemetry SDK's exporters do, so that a batch's traces,
// metrics and logs go at once, each on its connection (HTTP/1.1 carries one
// request at a time); gRPC signals with the same TLS settings share one
// (HTTP/2 carries them at once).
type transportKey struct {
	tls  *tls.Config
	grpc bool
	kind signalKind // HTTP only
}

// newEndpoint prepares one signal's destination, with a transport from
// pool (transportKey).
func newEndpoint(sig Signal, kind signalKind, ua string, pool map[transportKey]http.RoundTripper, pres map[transportKey]*predial.Dialer, gz *gzipbody.Writer, gzMu *sync.Mutex) (*endpoint, error) {
	u, err := url.Parse(sig.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("otlp %s: endpoint is not an http or https URL", kind)
	}
	ep := &endpoint{
		sig:     sig,
		kind:    kind,
		url:     sig.URL,
		display: redact.Endpoint(sig.URL),
		gzip:    sig.Compression == CompressionGzip,
		gz:      gz,
		gzMu:    gzMu,
		ua:      ua,
	}
	switch sig.Protocol {
	case ProtocolHTTPProtobuf, "":
	case ProtocolHTTPJSON:
		ep.json = true
	case ProtocolGRPC:
		return newGRPCEndpoint(ep, pool)
	default:
		return nil, fmt.Errorf("otlp %s: protocol %q: want http/protobuf, http/json or grpc", kind, sig.Protocol)
	}
	for k := range sig.Headers {
		if !validHeaderName(k) {
			return nil, fmt.Errorf("otlp %s: invalid header name", kind)
		}
	}
	key := transportKey{tls: sig.TLS, kind: kind}
	tr, ok := pool[key]
	if !ok {
		// http.DefaultTransport's settings (not a Clone: that sets
		// HTTP/2 up in DefaultTransport), HTTP/2 over TLS only.
		t := &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			Protocols:             predial.Protocols(u.Scheme == "https"),
		}
		if sig.TLS != nil {
			t.TLSClientConfig = sig.TLS.Clone()
		}
		// Dialled (and TLS handshakes made) through pre, so that Warm can
		// open a connection ahead; TLSClientConfig stays for the handshake
		// through a proxy.
		tc := &tls.Config{}
		if sig.TLS != nil {
			tc = sig.TLS.Clone()
		}
		if len(tc.NextProtos) == 0 {
			tc.NextProtos = []string{"h2", "http/1.1"} // the Transport speaks both over TLS
		}
		pre := predial.New((&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext, tc, nil)
		t.DialContext = pre.DialContext
		t.DialTLSContext = pre.DialTLSContext
		tr = t
		pool[key] = tr
		pres[key] = pre
	}
	ep.pre = pres[key]
	ep.client = &http.Client{
		Transport: tr,
		// A redirect would resend the headers to another place.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return ep, nil
}

func (ep *endpoint) marshal(r request) ([]byte, error) {
	if ep.json {
		return marshalJSON(r)
	}
	return marshalProto(r)
}

// outcome is what a destination said about an accepted request.
type outcome struct {
	bytes    int
	rejected int
	message  string
}

// send delivers one encoded request.
func (ep *endpoint) send(ctx context.Context, body []byte, s *Sender) (outcome, error) {
	if ep.sig.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ep.sig.Timeout)
		defer cancel()
	}
	if ep.sig.Protocol == ProtocolGRPC {
		return ep.sendGRPC(ctx, body, s)
	}
	return ep.sendHTTP(ctx, body, s)
}

func (ep *endpoint) sendHTTP(ctx context.Context, body []byte, s *Sender) (outcome, error) {
	if ep.gzip {
		body = ep.compress(body)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.url, bytes.NewReader(body))
	if err != nil {
		return outcome{}, fmt.Errorf("otlp %s: new request for %s", ep.kind, ep.display)
	}
	for k, v := range ep.sig.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", ep.ua)
	if ep.json {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "application/x-protobuf")
	}
	if ep.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := ep.client.Do(req)
	if err != nil {
		return outcome{}, s.transportError(ep, err)
	}
	defer func() {
		// Drain what is left (bounded), so the connection is reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
	}()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil && resp.StatusCode/100 != 2 {
		data = nil
	}
	if resp.StatusCode/100 == 2 {
		out := outcome{bytes: len(body)}
		ps, perr := ep.decodePartial(data, resp.Header.Get("Content-Type"))
		if perr == nil {
			out.rejected, out.message = ps.rejected, s.clean(ps.message)
		}
		return out, nil
	}
	return outcome{}, s.statusError(ep, resp.StatusCode, resp.Header, data)
}

// decodePartial reads the partial_success of a response body; an empty or
// unreadable body, or one of another media type (a proxy's "OK"), means
// none.
func (ep *endpoint) decodePartial(data []byte, contentType string) (partialSuccess, error) {
	switch {
	case len(data) == 0:
		return partialSuccess{}, nil
	case strings.Contains(contentType, "json") || (contentType == "" && ep.json):
		return parsePartialSuccessJSON(data, ep.kind)
	case strings.Contains(contentType, "protobuf") || (contentType == "" && !ep.json):
		return parsePartialSuccess(data)
	}
	return partialSuccess{}, nil
}

// statusError classifies a refused HTTP request.
func (s *Sender) statusError(ep *endpoint, code int, h http.Header, body []byte) error {
	reason := http.StatusText(code)
	if reason == "" {
		reason = "status " + strconv.Itoa(code)
	}
	reason = strings.ToLower(reason)
	var msg string
	if strings.Contains(h.Get("Content-Type"), "json") {
		msg = parseStatusMessageJSON(body)
	} else if strings.Contains(h.Get("Content-Type"), "protobuf") {
		msg = parseStatusMessage(body)
	}
	if msg = s.clean(msg); msg != "" {
		reason += ": " + msg
	}
	dest := ep.dest
	switch {
	case code == http.StatusRequestEntityTooLarge:
		return fmt.Errorf("otlp %s: %s (413): %w", ep.kind, dest, upload.ErrTooLarge)
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return &upload.RetryableError{Destination: dest, Status: code, Reason: reason, RetryAfter: upload.ParseRetryAfter(h.Get("Retry-After"), s.now())}
	case code >= 300 && code < 400:
		// Following it would send the headers to another place.
		to := redact.Origin(h.Get("Location"))
		if to == "" {
			to = "another URL"
		}
		reason = "redirected to " + to + ", not followed (check the endpoint)"
	}
	// A 400 refuses this request's data, which the OTLP specification
	// says is dropped; any other 4xx refuses the sender (docs/upload.md).
	return &upload.PermanentError{Destination: dest, Status: code, Reason: reason,
		Request: code == http.StatusBadRequest}
}

// transportError describes a request that got no HTTP answer, without the
// URL that net/http quotes (it may hold credentials). A certificate the
// client does not trust is permanent: retrying cannot fix it.
func (s *Sender) transportError(ep *endpoint, err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	dest := ep.dest
	var cverr *tls.CertificateVerificationError
	if errors.As(err, &cverr) {
		return &upload.PermanentError{Destination: dest, Reason: "TLS: " + s.clean(cverr.Err.Error())}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("otlp %s to %s: %w", ep.kind, dest, err)
	}
	var nerr net.Error
	if errors.As(err, &nerr) {
		return fmt.Errorf("otlp %s to %s: %s", ep.kind, dest, s.clean(nerr.Error()))
	}
	return fmt.Errorf("otlp %s to %s: %s", ep.kind, dest, s.clean(err.Error()))
}

// clean removes secrets from text that came from elsewhere (a server's
// message, a network error) and bounds its length.
func (s *Sender) clean(msg string) string {
	msg = strings.TrimSpace(redact.String(msg, s.secrets...))
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

// compress gzips b into the endpoint's buffer, valid until the next call.
func (ep *endpoint) compress(b []byte) []byte {
	ep.gzMu.Lock()
	defer ep.gzMu.Unlock()
	ep.buf.Reset()
	ep.gz.Compress(&ep.buf, b)
	return ep.buf.Bytes()
}
