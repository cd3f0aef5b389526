package otlpexport

import (
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// received is what a receiver decoded from one request.
type received struct {
	path    string
	header  http.Header
	wire    int // body bytes as received
	traces  ptrace.Traces
	metrics pmetric.Metrics
	logs    plog.Logs
}

// receiver is an OTLP/HTTP receiver on 127.0.0.1 that decodes every
// request with pdata's own request types.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	answer http.HandlerFunc // nil: 200 with an empty response
	conns  atomic.Int32     // connections accepted
	closed atomic.Int32     // connections closed
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	r.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			r.conns.Add(1)
		case http.StateClosed:
			r.closed.Add(1)
		}
	}
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		r.t.Errorf("read body: %v", err)
		return
	}
	body := raw
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(strings.NewReader(string(raw)))
		if err != nil {
			r.t.Errorf("gzip: %v", err)
			w.WriteHeader(400)
			return
		}
		if body, err = io.ReadAll(zr); err != nil {
			r.t.Errorf("gunzip: %v", err)
		}
	}
	rec := received{path: req.URL.Path, header: req.Header.Clone(), wire: len(raw)}
	isJSON := req.Header.Get("Content-Type") == "application/json"
	unmarshal := func(u interface {
		UnmarshalProto([]byte) error
		UnmarshalJSON([]byte) error
	}) {
		var err error
		if isJSON {
			err = u.UnmarshalJSON(body)
		} else {
			err = u.UnmarshalProto(body)
		}
		if err != nil {
			r.t.Errorf("decode %s (%s): %v", req.URL.Path, req.Header.Get("Content-Type"), err)
		}
	}
	switch {
	case strings.HasSuffix(req.URL.Path, "/v1/traces"):
		er := ptraceotlp.NewExportRequest()
		unmarshal(&er)
		rec.traces = er.Traces()
	case strings.HasSuffix(req.URL.Path, "/v1/metrics"):
		er := pmetricotlp.NewExportRequest()
		unmarshal(&er)
		rec.metrics = er.Metrics()
	case strings.HasSuffix(req.URL.Path, "/v1/logs"):
		er := plogotlp.NewExportRequest()
		unmarshal(&er)
		rec.logs = er.Logs()
	}
	r.mu.Lock()
	r.got = append(r.got, rec)
	answer := r.answer
	r.mu.Unlock()
	if answer != nil {
		answer(w, req)
		return
	}
	w.Header().Set("Content-Type", req.Header.Get("Content-Type"))
	w.WriteHeader(http.StatusOK)
}

// requests returns the requests received so far, traces first, then
// metrics, then logs (a batch's signals are sent at once), each kind in
// the order received.
func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]received(nil), r.got...)
	rank := func(path string) int {
		switch {
		case strings.HasSuffix(path, "/traces") || strings.Contains(path, "TraceService"):
			return 0
		case strings.HasSuffix(path, "/metrics") || strings.Contains(path, "MetricsService"):
			return 1
		}
		return 2
	}
	slices.SortStableFunc(out, func(a, b received) int { return rank(a.path) - rank(b.path) })
	return out
}

func (r *receiver) setAnswer(h http.HandlerFunc) {
	r.mu.Lock()
	r.answer = h
	r.mu.Unlock()
}

// httpConfig sends the three signals to r with protocol.
func (r *receiver) config(protocol string) Config {
	sig := func(path string) Signal {
		return Signal{URL: r.srv.URL + path, Protocol: protocol, Compression: CompressionGzip,
			Headers: map[string]string{"Authorization": "Bearer tok-123"}, Timeout: DefaultTimeout}
	}
	return Config{
		Traces: sig("/v1/traces"), Metrics: sig("/v1/metrics"), Logs: sig("/v1/logs"),
		ServiceName: "train", Resource: map[string]string{"deployment.environment.name": "ci"},
	}
}

func newSender(t *testing.T, cfg Config) *Sender {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(s.CloseIdleConnections)
	return s
}
