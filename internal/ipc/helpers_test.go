package ipc

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	testTrace = telemetry.TraceID{0x0a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	testSpan  = telemetry.SpanID{0x0b, 1, 2, 3, 4, 5, 6, 7}
	testNow   = time.Unix(1_700_000_000, 123)
)

func testRC() *RunContext {
	return &RunContext{
		TraceID: testTrace, SpanID: testSpan,
		Tags:           telemetry.Tags{"session_id": "s-1", "deployment": "d"},
		RecordPayloads: true,
	}
}

// collector is a Consumer that keeps everything it is given.
type collector struct {
	mu    sync.Mutex
	batch telemetry.Batch
	calls int
}

func (c *collector) Consume(b telemetry.Batch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	c.batch.Spans = append(c.batch.Spans, b.Spans...)
	c.batch.Scores = append(c.batch.Scores, b.Scores...)
	c.batch.Logs = append(c.batch.Logs, b.Logs...)
	c.batch.Metrics = append(c.batch.Metrics, b.Metrics...)
}

func (c *collector) snapshot() telemetry.Batch {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.batch
	b.Spans = append([]telemetry.Span(nil), b.Spans...)
	b.Scores = append([]telemetry.Score(nil), b.Scores...)
	b.Logs = append([]telemetry.Log(nil), b.Logs...)
	b.Metrics = append([]telemetry.Metric(nil), b.Metrics...)
	return b
}

func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.batch.Len()
}

// startServer listens with cfg (Consumer defaults to a collector, run
// context to the test one, clock to testNow) and closes at cleanup.
func startServer(t testing.TB, cfg Config) (*Server, *collector) {
	t.Helper()
	col := &collector{}
	if cfg.Consumer == nil {
		cfg.Consumer = col
	}
	if cfg.TraceID.IsZero() {
		cfg.TraceID, cfg.SpanID = testTrace, testSpan
		cfg.Tags = telemetry.Tags{"session_id": "s-1", "deployment": "d"}
		cfg.RecordPayloads = true
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
		if len(cfg.Dir) > 80 {
			cfg.Dir = ""
		}
	}
	srv, err := listen(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, col
}

func dial(t testing.TB, srv *Server) *net.UnixConn {
	t.Helper()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: srv.Addr(), Net: "unix"})
	if err != nil {
		t.Fatalf("dial %s: %v", srv.Addr(), err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// send writes s on a fresh connection and closes it.
func send(t testing.TB, srv *Server, s string) {
	t.Helper()
	c := dial(t, srv)
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// waitFor polls cond for up to 10 s, a bound generous enough for a loaded
// 2-core machine; it never decides a result by timing.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// settle waits until every accepted connection has been fully read and its
// batch handed on, by closing the server gracefully.
func settle(t testing.TB, srv *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// listen is Bind followed by Serve, as a run does around its child's start.
func listen(ctx context.Context, cfg Config) (*Server, error) {
	s, err := Bind(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.Serve()
	return s, nil
}
