package gsapi

import (
	"bytes"
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	gen "github.com/graphsignal/graphsignal/internal/signalspb/signalspbgen"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testKey = "gs-secret-key-0123456789abcdef"

var (
	t0        = time.Unix(1_764_000_000, 0).UTC()
	fixedNow  = t0.Add(time.Minute)
	testTrace = telemetry.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	runSpanID = telemetry.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
	runTags   = telemetry.Tags{"session_id": "s-1", "run_id": "r-1", "deployment": "test"}
)

// received is one request as the test server saw it.
type received struct {
	header http.Header
	path   string
	gz     []byte // the body on the wire
	raw    []byte // the body after gunzip
	req    *gen.UploadRequest
	err    error // decoding error
}

// apiServer is an httptest server on 127.0.0.1 that decodes every request
// with the protoc-generated code and answers with status (200 by default).
type apiServer struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	status int
	header http.Header
	body   string
	conns  atomic.Int32 // connections opened
	closed atomic.Int32 // connections closed
}

func newAPIServer(t testing.TB) *apiServer {
	t.Helper()
	s := &apiServer{status: http.StatusOK}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.conns.Add(1)
		case http.StateClosed:
			s.closed.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *apiServer) serve(w http.ResponseWriter, r *http.Request) {
	rec := received{header: r.Header.Clone(), path: r.URL.Path}
	rec.gz, rec.err = io.ReadAll(r.Body)
	if rec.err == nil {
		var zr *gzip.Reader
		if zr, rec.err = gzip.NewReader(bytes.NewReader(rec.gz)); rec.err == nil {
			rec.raw, rec.err = io.ReadAll(zr)
		}
	}
	if rec.err == nil {
		rec.req = &gen.UploadRequest{}
		rec.err = proto.Unmarshal(rec.raw, rec.req)
	}
	s.mu.Lock()
	s.got = append(s.got, rec)
	status, hdr, body := s.status, s.header, s.body
	s.mu.Unlock()
	for k, v := range hdr {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (s *apiServer) answer(status int, hdr http.Header, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.header, s.body = status, hdr, body
}

func (s *apiServer) last(t testing.TB) received {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.got) == 0 {
		t.Fatal("the server received no request")
	}
	r := s.got[len(s.got)-1]
	if r.err != nil {
		t.Fatalf("decode request: %v", r.err)
	}
	return r
}

// newSender returns a Sender for base with the test key and clock, whose
// idle connections are closed at the end of the test.
func newSender(t testing.TB, base string, mod func(*Config)) *Sender {
	t.Helper()
	cfg := Config{APIBase: base, APIKey: testKey, Now: func() time.Time { return fixedNow }, Version: "v1.2.3", NumCPU: 4}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(s.CloseIdleConnections)
	return s
}

func ns(d time.Duration) int64 { return t0.Add(d).UnixNano() }
