package upload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestDrainFailures runs Drain over one final journal against a sender
// that fails in each way, and checks what was delivered, how often it was
// sent and what stays pending.
func TestDrainFailures(t *testing.T) {
	refused := fmt.Errorf("dial tcp 127.0.0.1:9: %w", syscall.ECONNREFUSED)
	tests := []struct {
		name  string
		reply func(call int, b telemetry.Batch) (Result, error)
		// want
		err       string
		delivered int // records acknowledged
		calls     int
		pending   bool
		stderr    string
		stats     func(Stats) string // "" when right
		// the journal's status once drained: records refused and why
		// (state refused), unless it stays pending
		refused    int64
		refusedWhy string
	}{
		{
			name: "retry then success",
			reply: func(call int, _ telemetry.Batch) (Result, error) {
				if call <= 3 {
					return Result{}, refused
				}
				return Result{}, nil
			},
			delivered: 10, calls: 4,
			stats: func(s Stats) string {
				if s.Failed != 3 || s.Requests != 1 || s.Records != 10 || !strings.Contains(s.LastError, "connection refused") {
					return fmt.Sprintf("%+v", s)
				}
				return ""
			},
		},
		{
			name: "5xx then success",
			reply: func(call int, _ telemetry.Batch) (Result, error) {
				if call == 1 {
					return Result{}, &RetryableError{Destination: testDest, Status: 503, Reason: "unavailable"}
				}
				return Result{}, nil
			},
			delivered: 10, calls: 2,
		},
		{
			name: "permanent stops with one line",
			reply: func(int, telemetry.Batch) (Result, error) {
				return Result{}, &PermanentError{Destination: testDest, Status: 401, Reason: "invalid API key"}
			},
			err: "invalid API key (401)", calls: 1, pending: true,
			stderr: "graphsignal: upload rejected by " + testDest + ": invalid API key (401); the run is kept locally\n",
			stats: func(s Stats) string {
				if !s.Permanent {
					return fmt.Sprintf("%+v", s)
				}
				return ""
			},
		},
		{
			name: "413 splits in halves",
			reply: func(_ int, b telemetry.Batch) (Result, error) {
				if b.Len() > 3 {
					return Result{}, fmt.Errorf("status 413: %w", ErrTooLarge)
				}
				return Result{}, nil
			},
			// 10 → 5+5 → (2+3)+(2+3): 1 + 2 + 4 calls
			delivered: 10, calls: 7,
		},
		{
			name: "a single record too large is dropped",
			reply: func(_ int, b telemetry.Batch) (Result, error) {
				for _, m := range b.Metrics {
					if m.Name == "j-7" {
						return Result{}, ErrTooLarge
					}
				}
				return Result{}, nil
			},
			delivered: 9,
			stderr:    "graphsignal: " + testDest + ": 1 records refused as too large (413: too large, even alone); they are dropped, delivery goes on\n",
			refused:   1, refusedWhy: "413: too large, even alone",
			stats: func(s Stats) string {
				if s.Dropped != 1 || s.Records != 9 {
					return fmt.Sprintf("%+v", s)
				}
				return ""
			},
		},
		{
			name: "partial success counted, not resent",
			reply: func(int, telemetry.Batch) (Result, error) {
				return Result{Rejected: 2, Message: "2 spans without a name"}, nil
			},
			delivered: 10, calls: 1,
			refused: 2, refusedWhy: "2 spans without a name",
			stats: func(s Stats) string {
				if s.Rejected != 2 || s.Records != 8 {
					return fmt.Sprintf("%+v", s)
				}
				return ""
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				d := spool.Open(t.TempDir())
				writeJournal(t, d, "j", 10, 10, false)
				snd := &fakeSender{reply: tt.reply}
				var stderr syncBuffer
				s := newShipper(t, Config{Sender: snd, Spool: d, Stderr: &stderr})
				err := s.Drain(t.Context(), nil)
				if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
					t.Fatalf("Drain() = %v, want %q", err, tt.err)
				}
				if got := len(snd.ackedNames()); got != tt.delivered {
					t.Errorf("acknowledged %d records, want %d", got, tt.delivered)
				}
				if tt.calls != 0 && snd.callCount() != tt.calls {
					t.Errorf("Send called %d times, want %d", snd.callCount(), tt.calls)
				}
				if got := len(pending(t, d)) > 0; got != tt.pending {
					t.Errorf("pending = %v, want %v", got, tt.pending)
				}
				if stderr.String() != tt.stderr {
					t.Errorf("stderr = %q, want %q", stderr.String(), tt.stderr)
				}
				if tt.stats != nil {
					if bad := tt.stats(s.Stats()); bad != "" {
						t.Errorf("Stats() = %s", bad)
					}
				}
				if !tt.pending {
					st, err := d.Status("j")
					want := spool.Delivered
					if tt.refused > 0 {
						want = spool.Refused
					}
					if err != nil || len(st) != 1 || st[0].State != want || st[0].Refused != tt.refused || st[0].Why != tt.refusedWhy {
						t.Errorf("Status() = %+v, %v; want %s with %d refused (%q)", st, err, want, tt.refused, tt.refusedWhy)
					}
				}
			})
		})
	}
}

// TestRetryAfterHonoured checks that the wait before a retry is the
// destination's Retry-After, and that other waits grow with jitter.
func TestRetryAfterHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := spool.Open(t.TempDir())
		writeJournal(t, d, "j", 3, 3, false)
		snd := &fakeSender{reply: func(call int, _ telemetry.Batch) (Result, error) {
			switch call {
			case 1:
				return Result{}, &RetryableError{Destination: testDest, Status: 429, Reason: "too many requests", RetryAfter: 7 * time.Second}
			case 2, 3, 4:
				return Result{}, errors.New("connection reset")
			}
			return Result{}, nil
		}}
		s := newShipper(t, Config{Sender: snd, Spool: d, InitialInterval: time.Second, MaxInterval: time.Minute})
		if err := s.Drain(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
		if len(snd.times) != 5 {
			t.Fatalf("%d attempts, want 5", len(snd.times))
		}
		if got := snd.times[1].Sub(snd.times[0]); got != 7*time.Second {
			t.Errorf("wait after 429 with Retry-After 7s = %v", got)
		}
		// Backoff after Retry-After restarts at InitialInterval ±50%, then doubles.
		for i, lim := range [][2]time.Duration{{500 * time.Millisecond, 1500 * time.Millisecond}, {time.Second, 3 * time.Second}, {2 * time.Second, 6 * time.Second}} {
			if got := snd.times[i+2].Sub(snd.times[i+1]); got < lim[0] || got > lim[1] {
				t.Errorf("wait before attempt %d = %v, want within %v", i+3, got, lim)
			}
		}
	})
}

// TestRequestsBounded checks that requests hold at most MaxRecords records
// and that a journal is advanced request by request.
func TestRequestsBounded(t *testing.T) {
	d := spool.Open(t.TempDir())
	writeJournal(t, d, "j", 100, 7, false)
	var sizes []int
	snd := &fakeSender{reply: func(_ int, b telemetry.Batch) (Result, error) {
		sizes = append(sizes, b.Len())
		return Result{}, nil
	}}
	s := newShipper(t, Config{Sender: snd, Spool: d, MaxRecords: 20})
	if err := s.Drain(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want("j", 100), snd.ackedNames()); diff != "" {
		t.Errorf("acknowledged (-want +got):\n%s", diff)
	}
	for _, n := range sizes {
		if n > 20 {
			t.Errorf("request of %d records, want at most 20 (sizes %v)", n, sizes)
		}
	}
	if len(sizes) < 5 {
		t.Errorf("%d requests for 100 records of at most 20", len(sizes))
	}
	if p := pending(t, d); len(p) != 0 {
		t.Errorf("pending after Drain = %v", p)
	}
}

// TestNoResendAfterAck stops a Shipper while a request hangs (as a killed
// process would), then drains with a second Shipper on the same data dir:
// every record is acknowledged exactly once across both.
func TestNoResendAfterAck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		d := spool.Open(dir)
		writeJournal(t, d, "a", 30, 5, false)
		writeJournal(t, d, "b", 30, 5, false)
		hang := &fakeSender{hangAfter: 3} // then never answers
		first := newShipper(t, Config{Sender: hang, Spool: d, MaxRecords: 10})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- first.Drain(ctx, nil) }()
		synctest.Wait()
		cancel()
		if err := <-done; err == nil {
			t.Fatal("Drain of a hung destination = nil")
		}
		firstAcked := hang.ackedNames()
		if len(firstAcked) == 0 || len(firstAcked) >= 30 {
			t.Fatalf("first Shipper acknowledged %d records, want some of the first journal", len(firstAcked))
		}

		second := &fakeSender{}
		s := newShipper(t, Config{Sender: second, Spool: spool.Open(dir), MaxRecords: 10})
		if err := s.Drain(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
		all := append(firstAcked, second.ackedNames()...)
		if diff := cmp.Diff(append(want("a", 30), want("b", 30)...), all); diff != "" {
			t.Errorf("acknowledged across both (-want +got):\n%s", diff)
		}
		if p := pending(t, d); len(p) != 0 {
			t.Errorf("pending = %v", p)
		}
	})
}

// TestStreaming checks that the live journal is sent while it is written
// (on Kick past KickBytes, and every StreamInterval), that the backlog
// goes too, and that Flush sends the rest once the writer closes.
func TestStreaming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := spool.Open(t.TempDir())
		writeJournal(t, d, "0-old", 4, 2, false)
		w := writeJournal(t, d, "1-live", 0, 1, true)
		snd := &fakeSender{}
		s := newShipper(t, Config{Sender: snd, Spool: d, Live: "1-live", StreamInterval: 2 * time.Second, KickBytes: 1})
		// Written before Start, so that the order does not depend on
		// whether the first pass comes before the append.
		if err := w.Append(metrics("k", 3)); err != nil {
			t.Fatal(err)
		}
		s.Start(t.Context())
		defer s.Stop()
		synctest.Wait()
		got := snd.ackedNames()
		if diff := cmp.Diff(append(want("k", 3), want("0-old", 4)...), got); diff != "" {
			t.Fatalf("the live journal first (-want +got):\n%s", diff)
		}

		// A Kick past KickBytes sends at once.
		if err := w.Append(metrics("n", 1)); err != nil {
			t.Fatal(err)
		}
		s.Kick()
		synctest.Wait()
		if n := len(snd.ackedNames()); n != 8 {
			t.Fatalf("after a Kick: %d acknowledged, want 8", n)
		}

		// No Kick: the next interval sends it.
		if err := w.Append(metrics("t", 2)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2*time.Second - time.Nanosecond)
		synctest.Wait()
		if n := len(snd.ackedNames()); n != 8 {
			t.Fatalf("before the interval: %d acknowledged, want 8", n)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if n := len(snd.ackedNames()); n != 10 {
			t.Fatalf("at the interval: %d acknowledged, want 10", n)
		}

		if err := w.Append(metrics("f", 1)); err != nil {
			t.Fatal(err)
		}
		closed := make(chan error)
		go func() {
			time.Sleep(50 * time.Millisecond) // the writer closes while Flush waits
			closed <- w.Close()
		}()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := s.Flush(ctx); err != nil {
			t.Fatalf("Flush() = %v", err)
		}
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
		if got := snd.ackedNames(); len(got) != 11 || got[10] != "f-0" {
			t.Errorf("acknowledged %v, want 11 ending with f-0", got)
		}
		if p := pending(t, d); len(p) != 0 {
			t.Errorf("pending after Flush = %v", p)
		}
		st, err := d.Status("1-live")
		if err != nil || len(st) != 1 || st[0].State != spool.Delivered {
			t.Errorf("Status(live) = %+v, %v; want delivered", st, err)
		}
	})
}

// TestFlushBounded checks that Flush returns by its deadline whatever the
// destination does, and leaves what was not acknowledged pending.
func TestFlushBounded(t *testing.T) {
	behaviours := map[string]func(ctx context.Context) (Result, error){
		"hangs": func(ctx context.Context) (Result, error) {
			<-ctx.Done()
			return Result{}, ctx.Err()
		},
		"refuses": func(context.Context) (Result, error) {
			return Result{}, syscall.ECONNREFUSED
		},
		"429 with a long Retry-After": func(context.Context) (Result, error) {
			return Result{}, &RetryableError{Destination: testDest, Status: 429, RetryAfter: time.Hour}
		},
	}
	for name, reply := range behaviours {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				d := spool.Open(t.TempDir())
				w := writeJournal(t, d, "live", 5, 5, true)
				snd := &ctxSender{reply: reply}
				s := newShipper(t, Config{Sender: snd, Spool: d, Live: "live", RequestTimeout: time.Minute})
				s.Start(t.Context())
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
				defer cancel()
				start := time.Now()
				err := s.Flush(ctx)
				s.Stop()
				if took := time.Since(start); took > 2*time.Second {
					t.Errorf("Flush+Stop took %v, want at most the flush timeout 2s", took)
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Flush() = %v, want the deadline", err)
				}
				if p := pending(t, d); len(p) != 1 {
					t.Errorf("pending = %v, want the live journal", p)
				}
			})
		})
	}
}

// ctxSender answers with reply, given the request's context.
type ctxSender struct {
	reply func(ctx context.Context) (Result, error)
}

func (c *ctxSender) Name() string { return testDest }
func (c *ctxSender) Send(ctx context.Context, _ telemetry.Batch) (Result, error) {
	return c.reply(ctx)
}

// TestPermanentDuringRun checks that a refusal while streaming prints one
// line, stops sending, and that Flush then answers at once.
func TestPermanentDuringRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := spool.Open(t.TempDir())
		writeJournal(t, d, "0-old", 5, 1, false)
		w := writeJournal(t, d, "1-live", 5, 1, true)
		snd := &fakeSender{reply: func(int, telemetry.Batch) (Result, error) {
			return Result{}, &PermanentError{Destination: testDest, Status: 403, Reason: "forbidden"}
		}}
		var stderr syncBuffer
		s := newShipper(t, Config{Sender: snd, Spool: d, Live: "1-live", Stderr: &stderr})
		s.Start(t.Context())
		defer s.Stop()
		for range 5 {
			if err := w.Append(metrics("x", 1)); err != nil {
				t.Fatal(err)
			}
			s.Kick()
			time.Sleep(3 * time.Second)
		}
		start := time.Now()
		var perm *PermanentError
		if err := s.Flush(t.Context()); !errors.As(err, &perm) {
			t.Errorf("Flush() = %v, want the permanent error", err)
		}
		if time.Since(start) != 0 {
			t.Errorf("Flush after a permanent error took %v", time.Since(start))
		}
		if n := snd.callCount(); n != 1 {
			t.Errorf("Send called %d times after a permanent refusal, want 1", n)
		}
		if n := strings.Count(stderr.String(), "\n"); n != 1 {
			t.Errorf("stderr has %d lines, want 1: %q", n, stderr.String())
		}
		if p := pending(t, d); len(p) != 2 {
			t.Errorf("pending = %v, want both journals", p)
		}
	})
}

func TestSplit(t *testing.T) {
	b := telemetry.Batch{Spans: make([]telemetry.Span, 2), Metrics: make([]telemetry.Metric, 3), Logs: make([]telemetry.Log, 1)}
	for n := 0; n <= b.Len(); n++ {
		first, rest := split(b, n)
		if first.Len() != n || rest.Len() != b.Len()-n {
			t.Errorf("split(6 records, %d) = %d + %d", n, first.Len(), rest.Len())
		}
	}
	first, _ := split(b, 3)
	if len(first.Spans) != 2 || len(first.Metrics) != 1 {
		t.Errorf("split(_, 3) = %d spans, %d metrics; want 2, 1", len(first.Spans), len(first.Metrics))
	}
}

// TestUnreadableJournalPassedOver checks that a journal that cannot be
// read is left pending and the next one is still sent, by Drain and while
// streaming (where it must not spin).
func TestUnreadableJournalPassedOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := spool.Open(t.TempDir())
		if err := d.Expect(testDest, "0-bad"); err != nil {
			t.Fatal(err)
		}
		// A directory where the journal should be: it opens, but every read fails.
		if err := os.MkdirAll(filepath.Join(d.JournalDir(), "0-bad"+journal.Ext), 0o700); err != nil {
			t.Fatal(err)
		}
		writeJournal(t, d, "1-good", 3, 3, false)
		snd := &fakeSender{}
		s := newShipper(t, Config{Sender: snd, Spool: d})
		if err := s.Drain(t.Context(), nil); err == nil {
			t.Error("Drain() = nil with an unreadable journal")
		}
		if diff := cmp.Diff(want("1-good", 3), snd.ackedNames()); diff != "" {
			t.Errorf("acknowledged (-want +got):\n%s", diff)
		}
		if p := pending(t, d); len(p) != 1 || p[0] != "0-bad" {
			t.Errorf("pending = %v, want [0-bad]", p)
		}

		writeJournal(t, d, "2-good", 2, 2, false)
		streamed := &fakeSender{}
		st := newShipper(t, Config{Sender: streamed, Spool: d})
		st.Start(t.Context())
		synctest.Wait() // never returns if the loop spins
		if diff := cmp.Diff(want("2-good", 2), streamed.ackedNames()); diff != "" {
			t.Errorf("streamed (-want +got):\n%s", diff)
		}
		st.Stop()
	})
}

// TestNoRequestIsNotCounted: a batch that holds nothing for the
// destination (Result.NoRequest: OTLP's in-progress run span) counts
// neither as a request nor as delivered records, and --debug logs no
// request for it; the journal is still delivered.
func TestNoRequestIsNotCounted(t *testing.T) {
	dir := t.TempDir()
	d := spool.Open(dir)
	writeJournal(t, d, "a", 10, 5, false)
	snd := &fakeSender{reply: func(call int, b telemetry.Batch) (Result, error) {
		if call == 1 {
			return Result{NoRequest: true}, nil
		}
		return Result{Bytes: 10 * b.Len()}, nil
	}}
	var debug bytes.Buffer
	s := newShipper(t, Config{Sender: snd, Spool: d, MaxRecords: 5, Debug: true, Stderr: &debug})
	if err := s.Drain(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Requests != 1 || st.Records != 5 {
		t.Errorf("Stats: %d requests, %d records; want 1 and 5 (the first batch made no request)", st.Requests, st.Records)
	}
	if n := strings.Count(debug.String(), "graphsignal: upload: "); n != 1 {
		t.Errorf("--debug logged %d requests, want 1:\n%s", n, debug.String())
	}
	if p := pending(t, d); len(p) != 0 {
		t.Errorf("pending = %v", p)
	}
}

// TestSayRetries: with SayRetries, each failed attempt that will be tried
// again is said, with the wait; without it, nothing is.
func TestSayRetries(t *testing.T) {
	for _, say := range []bool{true, false} {
		t.Run(fmt.Sprint(say), func(t *testing.T) {
			d := spool.Open(t.TempDir())
			writeJournal(t, d, "a", 3, 3, false)
			snd := &fakeSender{reply: func(call int, b telemetry.Batch) (Result, error) {
				if call <= 2 {
					return Result{}, &RetryableError{Destination: testDest, Status: 503, Reason: "service unavailable"}
				}
				return Result{Bytes: 1}, nil
			}}
			var stderr bytes.Buffer
			s := newShipper(t, Config{Sender: snd, Spool: d, Stderr: &stderr, SayRetries: say,
				InitialInterval: time.Millisecond, MaxInterval: 2 * time.Millisecond})
			if err := s.Drain(t.Context(), nil); err != nil {
				t.Fatal(err)
			}
			want := 0
			if say {
				want = 2
			}
			if n := strings.Count(stderr.String(), "service unavailable (503); trying again in "); n != want {
				t.Errorf("%d retry lines, want %d:\n%s", n, want, stderr.String())
			}
		})
	}
}

// TestSilentDestinationSaysNoAnswer: a request that the destination never
// answers ends at the request timeout, and the last error says so rather
// than "context deadline exceeded".
func TestSilentDestinationSaysNoAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := spool.Open(t.TempDir())
		writeJournal(t, d, "j", 3, 3, false)
		s := newShipper(t, Config{Sender: silentSender{}, Spool: d, RequestTimeout: 10 * time.Second, MaxRetryTime: 15 * time.Second})
		if err := s.Drain(t.Context(), nil); err == nil {
			t.Fatal("Drain of a silent destination = nil")
		}
		if got := s.Stats().LastError; got != "no answer within 10s" {
			t.Errorf("LastError = %q, want %q", got, "no answer within 10s")
		}
	})
}

// silentSender never answers.
type silentSender struct{}

func (silentSender) Name() string { return testDest }
func (silentSender) Send(ctx context.Context, _ telemetry.Batch) (Result, error) {
	<-ctx.Done()
	return Result{}, fmt.Errorf("post: %w", ctx.Err())
}
