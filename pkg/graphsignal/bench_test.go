package graphsignal

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
)

// discard listens on a Unix socket and throws away what it reads, to
// measure the client alone.
func discard(b *testing.B) string {
	path := filepath.Join(b.TempDir(), "d.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { _, _ = io.Copy(io.Discard, c); _ = c.Close() })
		}
	})
	b.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	return path
}

// BenchmarkSpan is the cost of one span with 5 tags and a usage counter,
// written to a socket that discards it: the caller's work plus, on the
// other core, the writer goroutine's encoding and write.
func BenchmarkSpan(b *testing.B) {
	c := NewClient(discard(b), WithBufferSize(1<<16))
	defer closeClient(b, c)
	ctx := context.Background()
	tags := map[string]string{"model_type": "chat", "user_id": "u-1", "model": "gpt-x", "feature": "search", "tier": "free"}
	b.ReportAllocs()
	for b.Loop() {
		s := c.Trace(ctx, "generate", tags)
		s.SetUsage("token_count", 12)
		s.End()
	}
	b.StopTimer()
	if err := c.Flush(ctxT(b)); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(c.Dropped())/float64(b.N), "dropped/op")
}

// BenchmarkSpanWithPayload adds a JSON payload with token usage, the
// common case of a traced LLM call.
func BenchmarkSpanWithPayload(b *testing.B) {
	c := NewClient(discard(b), WithBufferSize(1<<16))
	defer closeClient(b, c)
	ctx := context.Background()
	input := map[string]any{"messages": []map[string]string{{"role": "user", "content": "hello"}}}
	b.ReportAllocs()
	for b.Loop() {
		s := c.Trace(ctx, "generate", map[string]string{"model_type": "chat"})
		s.SetPayload("input", input, map[string]float64{"token_count": 12})
		s.End()
	}
}
