package upload

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// The exit path of a run (docs/upload.md, "Exit: one bounded flush"):
// nothing in it may wait on a timer when it can be told, nor throw away
// work already under way.

// TestFirstRecordsAtOnceRestAtClose checks, with the default KickBytes,
// that the live journal's first records (the run's in-progress span) are
// sent at the first Kick, so that the connection is open early; that later
// small appends wait for the interval; and that Flush sends what is left
// in one request once the journal is closed (LiveClosed), without waiting
// on any timer.
func TestFirstRecordsAtOnceRestAtClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := spool.Open(t.TempDir())
		w := writeJournal(t, d, "1-live", 0, 1, true)
		snd := &fakeSender{}
		s := newShipper(t, Config{Sender: snd, Spool: d, Live: "1-live"})
		s.Start(t.Context())
		defer s.Stop()
		synctest.Wait()

		if err := w.Append(metrics("run", 1)); err != nil {
			t.Fatal(err)
		}
		s.Kick()
		synctest.Wait()
		if got := snd.ackedNames(); !cmp.Equal(got, []string{"run-0"}) {
			t.Fatalf("after the first Kick acknowledged %v, want [run-0]", got)
		}

		if err := w.Append(metrics("t", 2)); err != nil {
			t.Fatal(err)
		}
		s.Kick()
		synctest.Wait()
		if n := snd.callCount(); n != 1 {
			t.Fatalf("a small append was sent at its Kick: %d requests, want 1", n)
		}

		// The exit: the last records, Flush, then the close.
		if err := w.Append(metrics("f", 3)); err != nil {
			t.Fatal(err)
		}
		s.Kick()
		start := time.Now()
		flushed := make(chan error)
		go func() { flushed <- s.Flush(context.Background()) }()
		synctest.Wait()
		if n := snd.callCount(); n != 1 {
			t.Fatalf("Flush sent before the journal was closed: %d requests, want 1", n)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		s.LiveClosed()
		if err := <-flushed; err != nil {
			t.Fatalf("Flush() = %v", err)
		}
		if took := time.Since(start); took != 0 {
			t.Errorf("Flush waited %v after LiveClosed, want no wait at all", took)
		}
		want := []string{"run-0", "t-0", "t-1", "f-0", "f-1", "f-2"}
		if diff := cmp.Diff(want, snd.ackedNames()); diff != "" {
			t.Errorf("acknowledged (-want +got):\n%s", diff)
		}
		if n := snd.callCount(); n != 2 {
			t.Errorf("%d requests, want 2: the first records, then the rest at once", n)
		}
		if p := pending(t, d); len(p) != 0 {
			t.Errorf("pending after Flush = %v", p)
		}
	})
}

// TestFirstBytesOnTheWire checks that while the Sender has put nothing on
// the wire (OTLP skips the in-progress run span), each new record is sent
// at its Kick, until one request carried bytes.
func TestFirstBytesOnTheWire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := spool.Open(t.TempDir())
		w := writeJournal(t, d, "1-live", 0, 1, true)
		snd := &wireSender{}
		s := newShipper(t, Config{Sender: snd, Spool: d, Live: "1-live"})
		s.Start(t.Context())
		defer s.Stop()
		for i, prefix := range []string{"run", "m", "late"} {
			if err := w.Append(metrics(prefix, 1)); err != nil {
				t.Fatal(err)
			}
			s.Kick()
			synctest.Wait()
			if got, want := snd.callCount(), min(i+1, 2); got != want {
				t.Fatalf("after Kick %d (%s): %d requests, want %d", i+1, prefix, got, want)
			}
		}
	})
}

// wireSender acknowledges everything; a batch of run records alone puts
// nothing on the wire (as OTLP does with an in-progress run span).
type wireSender struct{ fakeSender }

func (w *wireSender) Send(ctx context.Context, b telemetry.Batch) (Result, error) {
	res, err := w.fakeSender.Send(ctx, b)
	if len(b.Metrics) > 0 && strings.HasPrefix(b.Metrics[0].Name, "run-") {
		res.Bytes = 0
	}
	return res, err
}

// TestStartDelay checks that the Shipper warms its Sender at once but
// sends no request before StartDelay, and that a Flush within the delay
// is answered at once, with everything in one request.
func TestStartDelay(t *testing.T) {
	tests := []struct {
		name      string
		flushAt   time.Duration // after Start
		wantCalls int           // Sends in all
	}{
		{name: "run longer than the delay", flushAt: time.Second, wantCalls: 2},
		{name: "run shorter than the delay", flushAt: 10 * time.Millisecond, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const delay = 25 * time.Millisecond
				d := spool.Open(t.TempDir())
				w := writeJournal(t, d, "1-live", 2, 2, true)
				snd := &warmSender{}
				s := newShipper(t, Config{Sender: snd, Spool: d, Live: "1-live", StartDelay: delay})
				s.Start(t.Context())
				defer s.Stop()
				time.Sleep(min(delay, tt.flushAt) - time.Nanosecond)
				synctest.Wait()
				if snd.warmed() != 1 || snd.callCount() != 0 {
					t.Fatalf("within the delay: warmed %d times, %d requests; want warmed once, no request", snd.warmed(), snd.callCount())
				}
				time.Sleep(tt.flushAt - min(delay, tt.flushAt) + time.Nanosecond)
				synctest.Wait()
				if err := w.Append(metrics("f", 1)); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				s.LiveClosed()
				start := time.Now()
				if err := s.Flush(t.Context()); err != nil {
					t.Fatalf("Flush() = %v", err)
				}
				if took := time.Since(start); took != 0 {
					t.Errorf("Flush took %v, want no wait", took)
				}
				if n := snd.callCount(); n != tt.wantCalls {
					t.Errorf("%d requests, want %d", n, tt.wantCalls)
				}
				if diff := cmp.Diff(append(want("1-live", 2), "f-0"), snd.ackedNames()); diff != "" {
					t.Errorf("acknowledged (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// TestLiveClosedBeforeStart checks that a close signalled before the
// Shipper starts (a run shorter than the Shipper's start) is not lost.
func TestLiveClosedBeforeStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := spool.Open(t.TempDir())
		w := writeJournal(t, d, "1-live", 3, 1, true)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		snd := &fakeSender{}
		s := newShipper(t, Config{Sender: snd, Spool: d, Live: "1-live"})
		s.LiveClosed()
		s.LiveClosed() // more than once is fine
		s.Start(t.Context())
		defer s.Stop()
		start := time.Now()
		if err := s.Flush(t.Context()); err != nil {
			t.Fatalf("Flush() = %v", err)
		}
		if took := time.Since(start); took != 0 {
			t.Errorf("Flush took %v, want no wait", took)
		}
		if diff := cmp.Diff(want("1-live", 3), snd.ackedNames()); diff != "" {
			t.Errorf("acknowledged (-want +got):\n%s", diff)
		}
	})
}

// TestLiveClosedNeverCreated checks that Flush gives up at once, rather
// than at its deadline, when the journal was closed without ever being
// created (its creation failed).
func TestLiveClosedNeverCreated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := spool.Open(t.TempDir())
		if err := d.Expect(testDest, "1-live"); err != nil {
			t.Fatal(err)
		}
		s := newShipper(t, Config{Sender: &fakeSender{}, Spool: d, Live: "1-live"})
		s.Start(t.Context())
		defer s.Stop()
		s.LiveClosed()
		ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
		defer cancel()
		start := time.Now()
		err := s.Flush(ctx)
		if err == nil || !strings.Contains(err.Error(), "live journal not there") {
			t.Errorf("Flush() = %v, want the journal not there", err)
		}
		if took := time.Since(start); took != 0 {
			t.Errorf("Flush took %v, want no wait", took)
		}
	})
}

// TestFlushKeepsLiveRequest checks that a request of the live journal in
// flight when Flush starts goes on (no attempt fails, nothing is sent
// twice), while one of the backlog is cancelled at once and left pending.
func TestFlushKeepsLiveRequest(t *testing.T) {
	tests := []struct {
		name        string
		backlog     bool // the request in flight is of an older journal
		wantAcked   []string
		wantFailed  int64
		wantPending []string
	}{
		{name: "live request", wantAcked: want("1-live", 2)},
		{name: "backlog request", backlog: true, wantAcked: []string{"late-0", "late-1"},
			wantFailed: 1, wantPending: []string{"0-old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				d := spool.Open(t.TempDir())
				live := 2
				if tt.backlog {
					writeJournal(t, d, "0-old", 2, 2, false)
					live = 0 // nothing live yet: the backlog goes first
				}
				w := writeJournal(t, d, "1-live", live, 2, true)
				snd := &gateSender{release: make(chan struct{})}
				s := newShipper(t, Config{Sender: snd, Spool: d, Live: "1-live"})
				s.Start(t.Context())
				defer s.Stop()
				synctest.Wait() // the first request is in flight

				if tt.backlog {
					if err := w.Append(metrics("late", 2)); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				s.LiveClosed()
				flushed := make(chan error)
				go func() { flushed <- s.Flush(t.Context()) }()
				synctest.Wait()
				close(snd.release)
				if err := <-flushed; err != nil {
					t.Fatalf("Flush() = %v", err)
				}
				if diff := cmp.Diff(tt.wantAcked, snd.ackedNames()); diff != "" {
					t.Errorf("acknowledged (-want +got):\n%s", diff)
				}
				if got := s.Stats().Failed; got != tt.wantFailed {
					t.Errorf("Stats().Failed = %d, want %d", got, tt.wantFailed)
				}
				if diff := cmp.Diff(tt.wantPending, pending(t, d), cmpEmpty); diff != "" {
					t.Errorf("pending (-want +got):\n%s", diff)
				}
			})
		})
	}
}

var cmpEmpty = cmp.Comparer(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b) })

// gateSender holds its first request until release is closed or the
// request's context ends.
type gateSender struct {
	fakeSender
	release chan struct{}
	mu      sync.Mutex
	held    bool
}

func (g *gateSender) Send(ctx context.Context, b telemetry.Batch) (Result, error) {
	g.mu.Lock()
	first := !g.held
	g.held = true
	g.mu.Unlock()
	if first {
		select {
		case <-g.release:
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
	return g.fakeSender.Send(ctx, b)
}

// TestWarmOnStart checks that a Warmer is warmed once, by the Shipper's
// goroutine, before its first Send, and that Drain (graphsignal upload,
// where nothing waits on the first request) does not warm it.
func TestWarmOnStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := spool.Open(t.TempDir())
		writeJournal(t, d, "1-live", 2, 2, true)
		snd := &warmSender{}
		s := newShipper(t, Config{Sender: snd, Spool: d, Live: "1-live"})
		s.Start(t.Context())
		synctest.Wait()
		s.Stop()
		if snd.warmed() != 1 || snd.sendsBeforeWarm() != 0 || snd.callCount() != 1 {
			t.Errorf("warmed %d times, %d sends before, %d sends; want 1, 0, 1", snd.warmed(), snd.sendsBeforeWarm(), snd.callCount())
		}

		drained := &warmSender{}
		if err := newShipper(t, Config{Sender: drained, Spool: d}).Drain(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
		if drained.warmed() != 0 {
			t.Errorf("Drain warmed the Sender %d times, want 0", drained.warmed())
		}
	})
}

type warmSender struct {
	fakeSender
	warmedN       atomic.Int32
	beforeWarmedN atomic.Int32
}

var _ Warmer = (*warmSender)(nil)

func (w *warmSender) Warm() { w.warmedN.Add(1) }

func (w *warmSender) warmed() int          { return int(w.warmedN.Load()) }
func (w *warmSender) sendsBeforeWarm() int { return int(w.beforeWarmedN.Load()) }

func (w *warmSender) Send(ctx context.Context, b telemetry.Batch) (Result, error) {
	if w.warmedN.Load() == 0 {
		w.beforeWarmedN.Add(1)
	}
	return w.fakeSender.Send(ctx, b)
}

// TestReadSizedToJournal checks that sending a small journal does not
// allocate a read buffer of MaxBytes: a short run's exit would pay for
// clearing and collecting megabytes it never uses.
func TestReadSizedToJournal(t *testing.T) {
	d := spool.Open(t.TempDir())
	writeJournal(t, d, "small", 20, 5, false)
	s := newShipper(t, Config{Sender: &fakeSender{}, Spool: d, MaxBytes: 64 << 20})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := s.Drain(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Errorf("sending 20 records allocated %d bytes, want far less than MaxBytes (64 MiB)", got)
	}
}
