package httpintake

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// collector is a Consumer that keeps everything it is given.
type collector struct {
	mu      sync.Mutex
	batches []telemetry.Batch
}

func (c *collector) Consume(b telemetry.Batch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches = append(c.batches, b)
}

func (c *collector) all() telemetry.Batch {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out telemetry.Batch
	for _, b := range c.batches {
		out.Spans = append(out.Spans, b.Spans...)
		out.Metrics = append(out.Metrics, b.Metrics...)
		out.Logs = append(out.Logs, b.Logs...)
		out.Scores = append(out.Scores, b.Scores...)
		out.SDKUploads = append(out.SDKUploads, b.SDKUploads...)
	}
	return out
}

const testKey = "local-token-0123456789"

var (
	testTrace   = telemetry.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	testRunSpan = telemetry.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
	testTags    = telemetry.Tags{"session_id": "s-1", "run_id": "r-1", "deployment": "test"}
)

// startIntake starts a server with test defaults, changed by mod, and
// closes it at the end of the test.
func startIntake(t testing.TB, mod func(*Config)) (*Server, *collector) {
	t.Helper()
	s, col := bindIntakeWith(t, mod)
	s.Serve()
	return s, col
}

// bindIntakeWith binds a server with test defaults, changed by mod, and
// closes it at the end of the test; the caller serves it.
func bindIntakeWith(t testing.TB, mod func(*Config)) (*Server, *collector) {
	t.Helper()
	col := &collector{}
	cfg := Config{
		TraceID:        testTrace,
		RunSpanID:      testRunSpan,
		Tags:           testTags,
		APIKey:         testKey,
		RecordPayloads: true,
		Consumer:       col,
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := Bind(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Bind: %v", err)
	}
	closeAtEnd(t, s)
	return s, col
}

// closeAtEnd closes s at the end of the test.
func closeAtEnd(t testing.TB, s *Server) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

// newClient returns an HTTP client whose idle connections are closed at the
// end of the test (so goleak sees no stray goroutines).
func newClient(t testing.TB) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

type response struct {
	code int
	ct   string
	body []byte
}

func do(t testing.TB, c *http.Client, method, url string, hdr map[string]string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return response{code: resp.StatusCode, ct: resp.Header.Get("Content-Type"), body: b}
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// start is Bind followed by Serve, as a run does around its child's start.
func start(ctx context.Context, cfg Config) (*Server, error) {
	s, err := Bind(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.Serve()
	return s, nil
}
