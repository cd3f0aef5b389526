package upload

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testDest = "fake https://backend.test"

// fakeSender records what it acknowledged; reply decides each attempt's
// outcome (nil: acknowledge).
type fakeSender struct {
	reply func(call int, b telemetry.Batch) (Result, error)
	// hangAfter > 0: calls after that many wait for their context.
	hangAfter int

	mu    sync.Mutex
	calls int
	times []time.Time
	acked []string // record names acknowledged, in order
}

func (f *fakeSender) Name() string { return testDest }

func (f *fakeSender) Send(ctx context.Context, b telemetry.Batch) (Result, error) {
	f.mu.Lock()
	f.calls++
	call := f.calls
	f.times = append(f.times, time.Now())
	f.mu.Unlock()
	if f.hangAfter > 0 && call > f.hangAfter {
		<-ctx.Done()
		return Result{}, ctx.Err()
	}
	res, err := Result{Bytes: 10 * b.Len()}, error(nil)
	if f.reply != nil {
		res, err = f.reply(call, b)
	}
	if err != nil {
		return Result{}, err
	}
	if res.Bytes == 0 {
		res.Bytes = 10 * b.Len()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acked = append(f.acked, names(b)...)
	return res, nil
}

func (f *fakeSender) ackedNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.acked...)
}

func (f *fakeSender) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func names(b telemetry.Batch) []string {
	var out []string
	for _, m := range b.Metrics {
		out = append(out, m.Name)
	}
	return out
}

// metrics returns a batch of n metric points named prefix-0 ...
func metrics(prefix string, n int) telemetry.Batch {
	var b telemetry.Batch
	for i := range n {
		b.Metrics = append(b.Metrics, telemetry.Metric{
			Name: fmt.Sprintf("%s-%d", prefix, i), Kind: telemetry.Gauge,
			Time: time.Unix(1700000000, 0), Value: float64(i),
		})
	}
	return b
}

// writeJournal expects name for testDest and writes batches of perLine
// records (total records in all) to it; it returns the open writer when
// live, else closes it.
func writeJournal(t *testing.T, d *spool.Dir, name string, total, perLine int, live bool) *journal.Writer {
	t.Helper()
	if err := d.Expect(testDest, name); err != nil {
		t.Fatal(err)
	}
	w, err := journal.Create(d.JournalDir(), name, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < total; i += perLine {
		b := metrics(name, min(perLine, total-i))
		for j := range b.Metrics {
			b.Metrics[j].Name = fmt.Sprintf("%s-%d", name, i+j)
		}
		if err := w.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	if !live {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return nil
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// want returns the names writeJournal gives name's records.
func want(name string, total int) []string {
	out := make([]string, total)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", name, i)
	}
	return out
}

func newShipper(t *testing.T, cfg Config) *Shipper {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pending(t *testing.T, d *spool.Dir) []string {
	t.Helper()
	p, err := d.Pending(testDest)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// syncBuffer is a bytes.Buffer safe for the Shipper's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
