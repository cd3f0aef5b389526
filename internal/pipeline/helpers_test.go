package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is an exporter that keeps every batch it receives.
type recorder struct {
	name string
	mu   sync.Mutex
	got  []telemetry.Batch
	fail error // returned by every Export when set
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Export(_ context.Context, b telemetry.Batch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, b)
	return nil
}

func (r *recorder) batches() []telemetry.Batch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]telemetry.Batch(nil), r.got...)
}

// names returns every record's name (metrics, spans, scores and logs by message) in arrival order.
func (r *recorder) names() []string {
	var out []string
	for _, b := range r.batches() {
		for _, s := range b.Spans {
			out = append(out, s.Name)
		}
		for _, m := range b.Metrics {
			out = append(out, m.Name)
		}
		for _, s := range b.Scores {
			out = append(out, s.Name)
		}
		for _, l := range b.Logs {
			out = append(out, l.Message)
		}
		for _, u := range b.SDKUploads {
			out = append(out, "upload "+string(u.Body))
		}
	}
	return out
}

// blocker blocks every Export until release is closed, or ctx ends when
// honourCtx is set.
type blocker struct {
	honourCtx bool
	release   chan struct{}
	calls     chan struct{} // one send per Export started, buffered
	closed    atomic.Bool
}

func newBlocker(honourCtx bool) *blocker {
	return &blocker{honourCtx: honourCtx, release: make(chan struct{}), calls: make(chan struct{}, 1000)}
}

func (b *blocker) Name() string { return "blocker" }

func (b *blocker) Export(ctx context.Context, _ telemetry.Batch) error {
	b.calls <- struct{}{}
	if b.honourCtx {
		select {
		case <-b.release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	<-b.release
	return errors.New("released")
}

func (b *blocker) Close() error { b.closed.Store(true); return nil }

func metrics(prefix string, n int) telemetry.Batch {
	var b telemetry.Batch
	for i := range n {
		b.Metrics = append(b.Metrics, telemetry.Metric{Name: fmt.Sprintf("%s%d", prefix, i), Kind: telemetry.Gauge})
	}
	return b
}

func span(name string, run bool) telemetry.Span {
	s := telemetry.Span{Name: name}
	if run {
		s.Attributes = map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun}
	}
	return s
}

// errorLog collects OnError calls.
type errorLog struct {
	mu    sync.Mutex
	calls []string
}

func (e *errorLog) on(name string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, name+": "+err.Error())
}

func (e *errorLog) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.calls...)
}
