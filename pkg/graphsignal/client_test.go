package graphsignal

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/graphsignal/graphsignal/internal/ipc"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var runTrace = telemetry.TraceID{0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
var runSpan = telemetry.SpanID{0xbb, 1, 2, 3, 4, 5, 6, 7}

type collector struct {
	mu sync.Mutex
	b  telemetry.Batch
}

func (c *collector) Consume(b telemetry.Batch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.b.Spans = append(c.b.Spans, b.Spans...)
	c.b.Scores = append(c.b.Scores, b.Scores...)
}

func (c *collector) get() telemetry.Batch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b
}

// intake starts the real socket intake of internal/ipc.
func intake(t testing.TB, recordPayloads bool) (*ipc.Server, *collector) {
	t.Helper()
	col := &collector{}
	srv, err := ipc.Bind(context.Background(), ipc.Config{
		TraceID: runTrace, SpanID: runSpan, Tags: telemetry.Tags{"session_id": "s"},
		RecordPayloads: recordPayloads, Consumer: col,
	})
	if err != nil {
		t.Fatalf("ipc.Bind: %v", err)
	}
	srv.Serve()
	t.Cleanup(func() { _ = srv.Close() })
	return srv, col
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func closeClient(t testing.TB, c *Client) {
	t.Helper()
	if err := c.Close(ctxT(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func settle(t testing.TB, srv *ipc.Server) {
	t.Helper()
	if err := srv.Shutdown(ctxT(t)); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestEndToEnd(t *testing.T) {
	srv, col := intake(t, true)
	c := NewClient(srv.Addr())
	ctx := context.Background()

	parent := c.Trace(ctx, "agent", map[string]string{"user_id": "u1"})
	child := c.Trace(ContextWithSpan(ctx, parent), "generate", nil)
	child.SetTag("model_type", "chat")
	child.SetAttribute("temperature", 0.5)
	child.SetAttribute("stop", []string{"\n"})
	child.SetAttribute("meta", map[string]int{"k": 1})
	child.SetPayload("input", map[string]any{"messages": []string{"hi \"there\"\x01"}}, map[string]float64{"token_count": 12})
	child.SetPayload("output", "héllo \xff", map[string]float64{"token_count": 3, "cost": 0.5})
	child.SetUsage("requests", 1)
	child.AddException(errors.New("rate limited"))
	child.Score("relevance", 0.9, WithComment("good"), WithSeverity(1))
	child.End()
	child.End()
	child.SetTag("ignored", "after end")
	child.Score("late", 1)
	c.SetContextTag("experiment", "e1")
	parent.End()
	c.Score("user_feedback", 1, WithSpanID(parent.SpanID()), WithScoreTags(map[string]string{"run_id": "r"}))
	closeClient(t, c)
	settle(t, srv)

	b := col.get()
	if len(b.Spans) != 2 || len(b.Scores) != 2 {
		t.Fatalf("got %d spans, %d scores; want 2 and 2 (stats %+v)", len(b.Spans), len(b.Scores), srv.Stats())
	}
	g, a := b.Spans[0], b.Spans[1]
	if g.Name != "generate" || a.Name != "agent" {
		t.Fatalf("span order %q %q", g.Name, a.Name)
	}
	if a.TraceID != runTrace || a.ParentSpanID != runSpan || g.ParentSpanID != a.SpanID || g.SpanID.String() != child.SpanID() {
		t.Errorf("ids: agent %v<-%v, generate %v<-%v", a.SpanID, a.ParentSpanID, g.SpanID, g.ParentSpanID)
	}
	if g.Tags["model_type"] != "chat" || g.Tags["session_id"] != "s" || g.Tags["ignored"] != "" {
		t.Errorf("generate tags = %v", g.Tags)
	}
	if a.Tags["user_id"] != "u1" || a.Tags["experiment"] != "e1" {
		t.Errorf("agent tags = %v, want user_id and the context tag", a.Tags)
	}
	if g.Attributes["temperature"] != 0.5 || fmt.Sprint(g.Attributes["stop"]) != "[\n]" || g.Attributes["meta"] != `{"k":1}` {
		t.Errorf("attributes = %#v", g.Attributes)
	}
	wantPayloads := []string{`input application/json {"messages":["hi \"there\"\u0001"]}`, "output text/plain héllo \uFFFD"}
	for i, p := range g.Payloads {
		if got := p.Name + " " + p.ContentType + " " + string(p.Data); i >= len(wantPayloads) || got != wantPayloads[i] {
			t.Errorf("payload %d = %q", i, got)
		}
	}
	if fmt.Sprint(g.Usage) != "[{input token_count 12} {output cost 0.5} {output token_count 3} { requests 1}]" {
		t.Errorf("usage = %v", g.Usage)
	}
	if len(g.Exceptions) != 1 || g.Exceptions[0].Message != "rate limited" || g.Status != telemetry.StatusError {
		t.Errorf("exceptions = %+v status %v", g.Exceptions, g.Status)
	}
	if len(g.Scores) != 1 || g.Scores[0].Name != "relevance" || g.Scores[0].Comment != "good" || g.Scores[0].Severity != 1 {
		t.Errorf("span scores = %+v", g.Scores)
	}
	late, fb := b.Scores[0], b.Scores[1]
	if late.Name != "late" || late.SpanID != g.SpanID {
		t.Errorf("late score = %+v, want tied to generate", late)
	}
	if fb.Name != "user_feedback" || fb.SpanID != a.SpanID || fb.Tags["run_id"] != "r" || fb.Tags["experiment"] != "e1" {
		t.Errorf("feedback score = %+v", fb)
	}
}

func TestOversizePayload(t *testing.T) {
	srv, col := intake(t, true)
	c := NewClient(srv.Addr())
	s := c.Trace(context.Background(), "big", nil)
	s.SetPayload("input", strings.Repeat("x", 2*MaxLineBytes), map[string]float64{"token_count": 7})
	s.End()
	closeClient(t, c)
	settle(t, srv)
	b := col.get()
	if len(b.Spans) != 1 || len(b.Spans[0].Payloads) != 0 || len(b.Spans[0].Usage) != 1 {
		t.Fatalf("oversize span: %+v; want it without payloads, usage kept", b.Spans)
	}
	if c.Dropped() != 0 {
		t.Errorf("Dropped = %d, want 0", c.Dropped())
	}
}

func TestNoop(t *testing.T) {
	for _, c := range []*Client{nil, NewClient(""), clientFromEnv(func(string) string { return "" })} {
		if c.Enabled() {
			t.Fatalf("client without socket is enabled")
		}
		s := c.Trace(context.Background(), "x", map[string]string{"a": "b"})
		if s != nil {
			t.Fatalf("Trace on a no-op client = %v, want nil", s)
		}
		s.SetTag("a", "b")
		s.SetAttribute("a", 1)
		s.SetPayload("p", "d", map[string]float64{"n": 1})
		s.SetUsage("n", 1)
		s.AddException(errors.New("e"))
		s.Score("s", 1)
		s.End()
		c.Score("s", 1)
		c.SetContextTag("k", "v")
		c.RemoveContextTag("k")
		err := c.Func(context.Background(), "f", func(context.Context) error { return errors.New("kept") })
		if err == nil || err.Error() != "kept" {
			t.Errorf("Func on a no-op client = %v, want fn's error", err)
		}
		if c.Flush(context.Background()) != nil || c.Close(context.Background()) != nil || c.Dropped() != 0 {
			t.Errorf("Flush/Close/Dropped on a no-op client not nil/nil/0")
		}
	}
}

func TestFromEnv(t *testing.T) {
	srv, col := intake(t, true)
	const trace, parent = "4BF92F3577B34DA6A3CE929D0E0E4736", "00f067aa0ba902b7"
	env := map[string]string{EnvSocket: srv.Addr(), EnvTraceID: trace, EnvParentSpanID: parent}
	c := clientFromEnv(func(k string) string { return env[k] })
	c.Trace(context.Background(), "x", nil).End()
	closeClient(t, c)
	settle(t, srv)
	b := col.get()
	if len(b.Spans) != 1 || b.Spans[0].TraceID.String() != strings.ToLower(trace) || b.Spans[0].ParentSpanID.String() != parent {
		t.Errorf("span from env client = %+v", b.Spans)
	}
}

func TestFunc(t *testing.T) {
	srv, col := intake(t, true)
	c := NewClient(srv.Addr())
	ctx := context.Background()
	errBoom := errors.New("boom")
	err := c.Func(ctx, "outer", func(ctx context.Context) error {
		if SpanFromContext(ctx) == nil {
			t.Errorf("Func: no span in fn's context")
		}
		return c.Func(ctx, "inner", func(context.Context) error { return errBoom })
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("Func = %v, want %v", err, errBoom)
	}
	func() {
		defer func() {
			if r := recover(); r != "bad" {
				t.Errorf("recovered %v, want the re-raised panic", r)
			}
		}()
		_ = c.Func(ctx, "panics", func(context.Context) error { panic("bad") })
	}()
	closeClient(t, c)
	settle(t, srv)
	b := col.get()
	if len(b.Spans) != 3 {
		t.Fatalf("got %d spans, want 3", len(b.Spans))
	}
	inner, outer, p := b.Spans[0], b.Spans[1], b.Spans[2]
	if inner.ParentSpanID != outer.SpanID || len(inner.Exceptions) != 1 || len(outer.Exceptions) != 1 {
		t.Errorf("inner %+v outer %+v", inner, outer)
	}
	if len(p.Exceptions) != 1 || p.Exceptions[0].Message != "bad" {
		t.Errorf("panic span exceptions = %+v", p.Exceptions)
	}
}

func TestNeverBlocksAndCountsDrops(t *testing.T) {
	// Nothing listens: every message is dropped, none blocks.
	c := NewClient(filepath.Join(t.TempDir(), "absent.sock"), WithBufferSize(16))
	const n = 10000
	for range n {
		c.Trace(context.Background(), "x", nil).End()
	}
	closeClient(t, c)
	if c.Dropped() != n {
		t.Errorf("Dropped = %d, want %d", c.Dropped(), n)
	}
	if err := c.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v, want ErrClosed", err)
	}
	c.Trace(context.Background(), "after close", nil).End() // ignored, no panic
}

func TestConcurrentUse(t *testing.T) {
	srv, col := intake(t, true)
	c := NewClient(srv.Addr(), WithBufferSize(16384))
	const workers, each = 8, 500
	var wg sync.WaitGroup
	shared := c.Trace(context.Background(), "shared", nil)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				s := c.Trace(ContextWithSpan(context.Background(), shared), "w", nil)
				s.SetTag("worker", fmt.Sprint(w))
				shared.SetTag(fmt.Sprint(w), fmt.Sprint(i))
				shared.SetUsage("n", 1)
				s.End()
			}
		})
	}
	wg.Wait()
	shared.End()
	closeClient(t, c)
	settle(t, srv)
	got := uint64(len(col.get().Spans)) + c.Dropped()
	if got != workers*each+1 {
		t.Errorf("received %d + dropped %d, want %d", len(col.get().Spans), c.Dropped(), workers*each+1)
	}
}

// TestReconnect uses a listener that hangs up after every line: the client
// redials, and what it sends after the error arrives.
func TestReconnect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			if l, err := bufio.NewReader(conn).ReadString('\n'); err == nil {
				lines <- l
			}
			_ = conn.Close()
		}
	})
	defer wg.Wait()
	defer ln.Close()
	c := NewClient(path)
	defer closeClient(t, c)
	seen := map[string]bool{}
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; len(seen) < 3 && time.Now().Before(deadline); i++ {
		c.Score(fmt.Sprint("s", i), 1)
		if err := c.Flush(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		select {
		case l := <-lines:
			var m struct{ Name string }
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			seen[m.Name] = true
		case <-time.After(20 * time.Millisecond):
		}
	}
	if len(seen) < 3 {
		t.Errorf("received %v over reconnects, want 3 distinct scores", seen)
	}
}
