package otlpexport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/graphsignal/graphsignal/internal/redact"
	"github.com/graphsignal/graphsignal/internal/telemetry"
	"github.com/graphsignal/graphsignal/internal/upload"
)

// secretHeader is a header value that must never appear in an error.
const secretHeader = "Bearer tok-123"

func TestSendStatus(t *testing.T) {
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	type want struct {
		permanent, retryable, tooLarge bool
		request                        bool // the refusal is of the request, not the sender
		status                         int
		retryAfter                     time.Duration
		reason                         string
	}
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   want
	}{
		{"bad request with status message", 400, map[string]string{"Content-Type": "application/x-protobuf"},
			"\x08\x03\x12\x0cbad span ids", want{permanent: true, request: true, status: 400, reason: "bad request: bad span ids"}},
		{"unauthorized", 401, nil, "", want{permanent: true, status: 401, reason: "unauthorized"}},
		{"forbidden, JSON status echoing the key", 403, map[string]string{"Content-Type": "application/json"},
			`{"code":7,"message":"key Bearer tok-123 is not allowed"}`, want{permanent: true, status: 403, reason: "forbidden: key " + redact.Redacted + " is not allowed"}},
		{"not found", 404, nil, "", want{permanent: true, status: 404, reason: "not found"}},
		{"too large", 413, nil, "", want{tooLarge: true}},
		{"timeout", 408, nil, "", want{retryable: true, status: 408, reason: "request timeout"}},
		{"429 with seconds", 429, map[string]string{"Retry-After": "7"}, "", want{retryable: true, status: 429, retryAfter: 7 * time.Second, reason: "too many requests"}},
		{"503 with a date", 503, map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, "",
			want{retryable: true, status: 503, retryAfter: 90 * time.Second, reason: "service unavailable"}},
		{"502", 502, nil, "", want{retryable: true, status: 502, reason: "bad gateway"}},
		{"504 with garbage Retry-After", 504, map[string]string{"Retry-After": "soon"}, "", want{retryable: true, status: 504, reason: "gateway timeout"}},
		{"500", 500, nil, "", want{retryable: true, status: 500, reason: "internal server error"}},
		{"redirect is not followed", 307, map[string]string{"Location": "http://u:p@elsewhere.invalid/x?k=v"}, "",
			want{permanent: true, status: 307, reason: "redirected to http://elsewhere.invalid, not followed (check the endpoint)"}},
		{"other 4xx", 422, nil, "", want{permanent: true, status: 422, reason: "unprocessable entity"}},
		{"method not allowed", 405, nil, "", want{permanent: true, status: 405, reason: "method not allowed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t)
			r.setAnswer(func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			cfg := r.config(ProtocolHTTPProtobuf)
			cfg.Now = func() time.Time { return now }
			s := newSender(t, cfg)
			res, err := s.Send(context.Background(), testBatch())
			if tt.want.request {
				// Refused as invalid: the signal's records are rejected,
				// the other signals sent (TestOneSignalRefused).
				if err != nil || res.Rejected == 0 || !strings.Contains(res.Message, tt.want.reason) ||
					!strings.Contains(res.Message, fmt.Sprintf("(%d)", tt.want.status)) || strings.Contains(res.Message, "tok-123") {
					t.Errorf("Send = %+v, %v; want records rejected with %q (%d)", res, err, tt.want.reason, tt.want.status)
				}
				return
			}
			if err == nil {
				t.Fatal("Send = nil error")
			}
			if strings.Contains(err.Error(), secretHeader) || strings.Contains(err.Error(), "tok-123") {
				t.Errorf("error quotes the header value: %v", err)
			}
			var perm *upload.PermanentError
			var retry *upload.RetryableError
			switch {
			case tt.want.tooLarge:
				if !errors.Is(err, upload.ErrTooLarge) {
					t.Errorf("err = %v, want ErrTooLarge", err)
				}
			case tt.want.permanent:
				if !errors.As(err, &perm) || perm.Status != tt.want.status || perm.Reason != tt.want.reason ||
					perm.Destination != "OTLP "+r.srv.URL || perm.Request != tt.want.request {
					t.Errorf("err = %#v, want PermanentError %d %q Request %v", err, tt.want.status, tt.want.reason, tt.want.request)
				}
			case tt.want.retryable:
				if !errors.As(err, &retry) || retry.Status != tt.want.status || retry.RetryAfter != tt.want.retryAfter ||
					retry.Reason != tt.want.reason {
					t.Errorf("err = %#v, want RetryableError %d %v %q", err, tt.want.status, tt.want.retryAfter, tt.want.reason)
				}
			}
			if n := len(r.requests()); n != 3 {
				t.Errorf("%d requests, want 3 (a batch's signals are sent at once; the error is the first signal's)", n)
			}
		})
	}
}

func TestSendTransportErrors(t *testing.T) {
	// A port with nothing listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://user:pw-secret@" + ln.Addr().String() + "/v1/traces?key=q-secret"
	_ = ln.Close()

	// A server that accepts and never answers.
	stop := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	}))
	defer silent.Close()
	defer close(stop)

	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsSrv.Close()

	tests := []struct {
		name      string
		sig       Signal
		permanent bool
	}{
		{"connection refused", Signal{URL: closed, Headers: map[string]string{"X-Key": "h-secret"}}, false},
		{"silent server hits the timeout", Signal{URL: silent.URL + "/v1/traces", Timeout: 100 * time.Millisecond, Headers: map[string]string{"X-Key": "h-secret"}}, false},
		{"untrusted certificate", Signal{URL: tlsSrv.URL + "/v1/traces", Headers: map[string]string{"X-Key": "h-secret"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.sig.Protocol = ProtocolHTTPProtobuf
			s := newSender(t, Config{Traces: tt.sig})
			start := time.Now()
			_, err := s.Send(context.Background(), testBatch())
			if err == nil {
				t.Fatal("Send = nil error")
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Send took %v", d)
			}
			for _, sec := range []string{"pw-secret", "q-secret", "h-secret"} {
				if strings.Contains(err.Error(), sec) {
					t.Errorf("error %q contains %q", err, sec)
				}
			}
			var perm *upload.PermanentError
			if errors.As(err, &perm) != tt.permanent {
				t.Errorf("err = %v: permanent %v, want %v", err, !tt.permanent, tt.permanent)
			}
		})
	}
	if name := newSender(t, Config{Traces: Signal{URL: closed}}).Name(); strings.Contains(name, "secret") || strings.Contains(name, "?") {
		t.Errorf("Name() = %q, want no credentials or query", name)
	}
}

func TestSendPartialSuccess(t *testing.T) {
	for _, proto := range []string{ProtocolHTTPProtobuf, ProtocolHTTPJSON} {
		t.Run(proto, func(t *testing.T) {
			r := newReceiver(t)
			r.setAnswer(func(w http.ResponseWriter, req *http.Request) {
				var body []byte
				var err error
				switch {
				case strings.HasSuffix(req.URL.Path, "traces"):
					resp := ptraceotlp.NewExportResponse()
					resp.PartialSuccess().SetRejectedSpans(2)
					resp.PartialSuccess().SetErrorMessage("spans too old")
					body, err = marshalResp(proto, &resp)
				case strings.HasSuffix(req.URL.Path, "metrics"):
					resp := pmetricotlp.NewExportResponse()
					resp.PartialSuccess().SetRejectedDataPoints(3)
					resp.PartialSuccess().SetErrorMessage("bad unit")
					body, err = marshalResp(proto, &resp)
				default:
					resp := plogotlp.NewExportResponse()
					resp.PartialSuccess().SetRejectedLogRecords(1)
					body, err = marshalResp(proto, &resp)
				}
				if err != nil {
					t.Error(err)
				}
				w.Header().Set("Content-Type", req.Header.Get("Content-Type"))
				_, _ = w.Write(body)
			})
			s := newSender(t, r.config(proto))
			res, err := s.Send(context.Background(), testBatch())
			if err != nil {
				t.Fatal(err)
			}
			if res.Rejected != 6 || res.Message != "spans too old; bad unit" {
				t.Errorf("Result = %+v, want Rejected 6, Message %q", res, "spans too old; bad unit")
			}
		})
	}
}

func marshalResp(proto string, m interface {
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}) ([]byte, error) {
	if proto == ProtocolHTTPJSON {
		return m.MarshalJSON()
	}
	return m.MarshalProto()
}

func TestSendTLS(t *testing.T) {
	pki := newTestPKI(t)
	r := &receiver{t: t}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{pki.server},
		ClientCAs:    pki.pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	env := []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + srv.URL,
		"OTEL_EXPORTER_OTLP_CERTIFICATE=" + writeFile(t, dir, "ca.pem", pki.caPEM),
	}
	withClient := append(env[:2:2],
		"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="+writeFile(t, dir, "c.pem", pki.clientCertPEM),
		"OTEL_EXPORTER_OTLP_CLIENT_KEY="+writeFile(t, dir, "k.pem", pki.clientKeyPEM))

	cfg, err := FromEnv(withClient, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newSender(t, cfg).Send(context.Background(), testBatch()); err != nil {
		t.Fatalf("Send with CA and client certificate: %v", err)
	}
	reqs := r.requests()
	if len(reqs) != 3 || reqs[0].traces.SpanCount() != 3 {
		t.Fatalf("got %d requests", len(reqs))
	}

	// Without the client certificate the server refuses the handshake.
	cfg, err = FromEnv(env, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newSender(t, cfg).Send(context.Background(), testBatch()); err == nil {
		t.Error("Send without a client certificate succeeded")
	}
	// Without the CA the server's certificate is not trusted: permanent.
	cfg, err = FromEnv(env[:1], "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = newSender(t, cfg).Send(context.Background(), testBatch())
	var perm *upload.PermanentError
	if !errors.As(err, &perm) || !strings.Contains(perm.Reason, "TLS") {
		t.Errorf("Send without the CA: %v, want a permanent TLS error", err)
	}
}

func TestSendSkipsAndResend(t *testing.T) {
	r := newReceiver(t)
	s := newSender(t, r.config(ProtocolHTTPProtobuf))

	// The run span as written at the start, and SDK uploads: nothing to
	// send, but the run's resource is learned.
	started := testRun()
	started.End = time.Time{}
	res, err := s.Send(context.Background(), telemetry.Batch{Spans: []telemetry.Span{started}, SDKUploads: []telemetry.SDKUpload{{Body: []byte{1}}}})
	if err != nil || res.Bytes != 0 || len(r.requests()) != 0 {
		t.Fatalf("Send(in-progress run) = %+v, %v, %d requests; want nothing sent", res, err, len(r.requests()))
	}
	b := testBatch()
	b.Spans = b.Spans[1:] // program spans only: the resource comes from the run learned above
	if _, err := s.Send(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	got := r.requests()[0].traces.ResourceSpans().At(0).Resource().Attributes().AsRaw()
	if got["host.name"] != "builder-7" || got["process.pid"] != int64(4242) {
		t.Errorf("resource of a later batch = %v, want the run's host and process", got)
	}

	// Metrics refused after traces were accepted: the resend skips traces.
	r = newReceiver(t)
	var fail atomic.Bool
	fail.Store(true)
	r.setAnswer(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.URL.Path, "metrics") && fail.Load() {
			w.WriteHeader(503)
			return
		}
		w.WriteHeader(200)
	})
	s = newSender(t, r.config(ProtocolHTTPProtobuf))
	if _, err := s.Send(context.Background(), testBatch()); err == nil {
		t.Fatal("first Send succeeded")
	}
	fail.Store(false)
	if _, err := s.Send(context.Background(), testBatch()); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, q := range r.requests() {
		paths = append(paths, q.path)
	}
	want := "/v1/traces /v1/metrics /v1/metrics /v1/logs"
	if strings.Join(paths, " ") != want {
		t.Errorf("requests %q, want %q", strings.Join(paths, " "), want)
	}
}
