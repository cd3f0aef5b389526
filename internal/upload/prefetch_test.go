package upload

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// serialSender acknowledges what it is sent, after a short latency during
// which the Shipper reads the next chunk ahead. fail decides the attempts
// that hold the record marked: attempt counts them (from 1). It records
// how many Sends were ever in flight at once, and closes all once total
// records were acknowledged.
type serialSender struct {
	marked string
	fail   func(attempt int, b telemetry.Batch) error
	total  int
	all    chan struct{}

	inflight, maxInflight atomic.Int32

	mu       sync.Mutex
	attempts int
	acked    []string
}

func (s *serialSender) Name() string { return testDest }

func (s *serialSender) Send(ctx context.Context, b telemetry.Batch) (Result, error) {
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	for {
		m := s.maxInflight.Load()
		if n <= m || s.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	// Network latency: the chunk read ahead is decoded meanwhile.
	select {
	case <-time.After(2 * time.Millisecond):
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	got := names(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(got, s.marked) {
		s.attempts++
		if err := s.fail(s.attempts, b); err != nil {
			return Result{}, err
		}
	}
	s.acked = append(s.acked, got...)
	if len(s.acked) == s.total {
		close(s.all)
	}
	return Result{Bytes: 10 * b.Len()}, nil
}

func (s *serialSender) result() (acked []string, attempts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.acked...), s.attempts
}

// TestReadAheadKeepsOrder checks that the chunk read ahead while a request
// is in flight is sent only after that request was acknowledged, and that
// a request that fails (retried within deliver, given up and resent by a
// later pass, or split by a 413) is resent from its own offset rather than
// passed over for the chunk already read after it: every record is
// acknowledged once, in journal order, with never two requests at once.
func TestReadAheadKeepsOrder(t *testing.T) {
	// Lines of 5 records, requests of at most 10: the request holding
	// j-12 (the second or third) fails.
	const name, total, marked = "j", 40, "j-12"
	retryable := &RetryableError{Destination: testDest, Status: 503, Reason: "unavailable"}
	failTwice := func(attempt int, _ telemetry.Batch) error {
		if attempt <= 2 {
			return retryable
		}
		return nil
	}
	tooLarge := func(_ int, b telemetry.Batch) error {
		if b.Len() > 1 {
			return fmt.Errorf("send: %w", ErrTooLarge)
		}
		return nil
	}
	cases := []struct {
		name     string
		live     bool          // streamed by a started Shipper, else Drain
		maxRetry time.Duration // 1ns: each failure gives the request up
		fail     func(int, telemetry.Batch) error
		attempts int // at least, of requests holding the marked record
	}{
		{"drain, retried within the request", false, 0, failTwice, 3},
		{"drain, split by a 413", false, 0, tooLarge, 3},
		{"live, retried within the request", true, 0, failTwice, 3},
		{"live, given up and resent by a later pass", true, time.Nanosecond, failTwice, 3},
		{"live, split by a 413", true, 0, tooLarge, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := spool.Open(t.TempDir())
			writeJournal(t, d, name, total, 5, false)
			snd := &serialSender{marked: marked, fail: tc.fail, total: total, all: make(chan struct{})}
			cfg := Config{
				Sender: snd, Spool: d, MaxRecords: 10, MaxRetryTime: tc.maxRetry,
				InitialInterval: time.Millisecond, MaxInterval: 2 * time.Millisecond,
				StreamInterval: 5 * time.Millisecond,
			}
			if tc.live {
				cfg.Live = name
			}
			s := newShipper(t, cfg)
			if tc.live {
				s.LiveClosed()
				s.Start(t.Context())
				defer s.Stop()
				// Streamed, failures included, before Flush.
				select {
				case <-snd.all:
				case <-time.After(10 * time.Second):
					acked, _ := snd.result()
					t.Fatalf("the live journal was not acknowledged in full while streaming: (-want +got):\n%s", cmp.Diff(want(name, total), acked))
				}
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				defer cancel()
				if err := s.Flush(ctx); err != nil {
					t.Fatalf("Flush() = %v", err)
				}
				s.Stop()
			} else if err := s.Drain(t.Context(), nil); err != nil {
				t.Fatalf("Drain() = %v", err)
			}
			acked, attempts := snd.result()
			if diff := cmp.Diff(want(name, total), acked); diff != "" {
				t.Errorf("acknowledged (-want +got):\n%s", diff)
			}
			if attempts < tc.attempts {
				t.Errorf("requests holding %s sent %d times, want %d or more", marked, attempts, tc.attempts)
			}
			if m := snd.maxInflight.Load(); m != 1 {
				t.Errorf("%d requests in flight at once, want 1", m)
			}
			if p := pending(t, d); len(p) != 0 {
				t.Errorf("pending = %v", p)
			}
		})
	}
}
