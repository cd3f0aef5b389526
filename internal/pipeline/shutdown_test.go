package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestEnqueueAfterShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &recorder{name: "r"}
		p := New(Config{}, r)
		if err := p.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		b := telemetry.Batch{Spans: []telemetry.Span{span("run", true)}, Logs: []telemetry.Log{{Message: "x"}}}
		if p.Enqueue(b) {
			t.Error("Enqueue after Shutdown = true")
		}
		if got, want := p.Stats().Dropped, (Counts{Spans: 1, Logs: 1}); got != want {
			t.Errorf("dropped %+v, want %+v", got, want)
		}
		if err := p.Flush(t.Context()); err != nil {
			t.Errorf("Flush after Shutdown: %v", err)
		}
		if err := p.Shutdown(t.Context()); err != nil {
			t.Errorf("second Shutdown: %v", err)
		}
		if len(r.batches()) != 0 {
			t.Error("exported after Shutdown")
		}
	})
}

type panicker struct{ recorder }

func TestErroringExporterReportedOnce(t *testing.T) {
	tests := []struct {
		name    string
		bad     Exporter
		wantErr string
	}{
		{"error", &recorder{name: "bad", fail: errors.New("disk full")}, "bad: disk full"},
		{"panic", &panicker{recorder{name: "bad"}}, "bad: exporter panicked: nil map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				good := &recorder{name: "good"}
				var el errorLog
				p := New(Config{MaxBatch: 3, OnError: el.on}, tt.bad, good)
				var want []string
				for i := range 5 {
					b := metrics(fmt.Sprintf("m%d.", i), 2)
					want = append(want, b.Metrics[0].Name, b.Metrics[1].Name)
					p.Enqueue(b)
					if err := p.Flush(t.Context()); err != nil {
						t.Fatal(err)
					}
				}
				if err := p.Shutdown(t.Context()); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]string{tt.wantErr}, el.get()); diff != "" {
					t.Errorf("OnError calls (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want, good.names()); diff != "" {
					t.Errorf("good exporter (-want +got):\n%s", diff)
				}
				wantEx := []ExporterStats{
					{Name: "bad", Failed: Counts{Metrics: 10}},
					{Name: "good", Exported: Counts{Metrics: 10}},
				}
				if diff := cmp.Diff(wantEx, p.Stats().Exporters); diff != "" {
					t.Errorf("exporter stats (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// A hung exporter must not delay the others, and its overflow is counted
// as failed for it alone.
func TestSlowExporterIsolated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := newBlocker(true)
		good := &recorder{name: "good"}
		var el errorLog
		p := New(Config{QueueSize: 10, RunSpanReserve: 1, MaxBatch: 4, Interval: time.Second, ExportTimeout: time.Hour, OnError: el.on}, slow, good)
		for i := range 6 {
			p.Enqueue(metrics(fmt.Sprintf("m%d.", i), 4))
			time.Sleep(time.Second)
		}
		synctest.Wait()
		if n := len(good.names()); n != 24 {
			t.Errorf("good exporter got %d records while the other hung, want 24", n)
		}
		st := p.Stats()
		// blocker: 4 in flight, 9 queued (bound 10 - reserve 1), 11 overflowed.
		if got := st.Exporters[0]; got.Failed.Metrics != 11 || got.Queued != 13 {
			t.Errorf("slow exporter stats %+v, want 11 failed and 13 queued", got)
		}
		close(slow.release)
		if err := p.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"blocker: " + ErrQueueFull.Error()}, el.get()); diff != "" {
			t.Errorf("OnError (-want +got):\n%s", diff)
		}
		if got := p.Stats().Exporters[0]; got.Exported.Metrics != 13 || got.Failed.Metrics != 11 {
			t.Errorf("slow exporter final stats %+v", got)
		}
	})
}

func TestDeadlines(t *testing.T) {
	tests := []struct {
		name      string
		honourCtx bool
	}{
		{"exporter honours ctx", true},
		{"exporter ignores ctx", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				bl := newBlocker(tt.honourCtx)
				good := &recorder{name: "good"}
				var el errorLog
				p := New(Config{MaxBatch: 2, ExportTimeout: time.Hour, OnError: el.on}, bl, good)
				p.Enqueue(metrics("a", 2))
				<-bl.calls // the first batch is in flight
				p.Enqueue(metrics("b", 3))

				start := time.Now()
				ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
				err := p.Flush(ctx)
				cancel()
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Flush = %v, want DeadlineExceeded", err)
				}
				if d := time.Since(start); d != 5*time.Second {
					t.Errorf("Flush returned after %v, want 5s", d)
				}
				if n := len(good.names()); n != 5 {
					t.Errorf("good exporter got %d records, want 5", n)
				}

				start = time.Now()
				ctx, cancel = context.WithTimeout(t.Context(), 3*time.Second)
				err = p.Shutdown(ctx)
				cancel()
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Shutdown = %v, want DeadlineExceeded", err)
				}
				if d := time.Since(start); d != 3*time.Second {
					t.Errorf("Shutdown returned after %v, want 3s", d)
				}
				st := p.Stats()
				if got := st.Exporters[0]; got.Failed.Metrics != 5 || got.Exported.Total() != 0 || got.Queued != 0 {
					t.Errorf("abandoned exporter stats %+v, want 5 failed", got)
				}
				if got := st.Exporters[1]; got.Exported.Metrics != 5 {
					t.Errorf("good exporter stats %+v", got)
				}
				if p.Enqueue(metrics("c", 1)) {
					t.Error("Enqueue after a timed-out Shutdown = true")
				}

				w := p.workers[0]
				if !tt.honourCtx {
					// Stuck in Export: it exits when the call returns.
					synctest.Wait()
					select {
					case <-w.end:
						t.Fatal("worker exited while its Export is still running")
					default:
					}
					close(bl.release)
				}
				synctest.Wait()
				select {
				case <-w.end:
				default:
					t.Fatal("worker not joined after its Export returned")
				}
				if !bl.closed.Load() {
					t.Error("exporter not closed")
				}
				if got := p.Stats().Exporters[0]; got.Failed.Metrics != 5 {
					t.Errorf("late return recounted: %+v", got)
				}
				if len(el.get()) != 0 {
					t.Errorf("abandonment reported as exporter errors: %v", el.get())
				}
			})
		})
	}
}

type closeErrExporter struct{ recorder }

func TestShutdownClosesExporters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bl := newBlocker(true)
		close(bl.release)
		ce := &closeErrExporter{recorder{name: "ce"}}
		p := New(Config{}, bl, ce)
		p.Enqueue(metrics("a", 1))
		err := p.Shutdown(t.Context())
		if err == nil || !strings.Contains(err.Error(), "close boom") {
			t.Errorf("Shutdown = %v, want the Close error", err)
		}
		if !bl.closed.Load() {
			t.Error("io.Closer exporter not closed")
		}
		if n := len(ce.names()); n != 1 {
			t.Errorf("flushed %d records before close, want 1", n)
		}
	})
}

// A Flush waiting when Shutdown gives up returns ErrAbandoned, whether its
// records were at a stuck exporter or still in the intake.
func TestFlushAbandoned(t *testing.T) {
	tests := []struct {
		name        string
		records     int // QueueSize 10: 4 in flight, 8 queued at the exporter, then the intake
		wantDropped uint64
	}{
		{"at the exporter", 12, 0},
		{"in the intake", 16, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				bl := newBlocker(true)
				p := New(Config{QueueSize: 10, RunSpanReserve: 1, MaxBatch: 4, ExportTimeout: time.Hour}, bl)
				for i := 0; i < tt.records; i += 4 {
					p.Enqueue(metrics(fmt.Sprint(i), 4))
					synctest.Wait()
				}
				flushed := make(chan error, 1)
				go func() { flushed <- p.Flush(context.Background()) }()
				synctest.Wait()
				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				defer cancel()
				if err := p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Shutdown = %v", err)
				}
				if err := <-flushed; !errors.Is(err, ErrAbandoned) {
					t.Errorf("Flush = %v, want ErrAbandoned", err)
				}
				st := p.Stats()
				if got := st.Failed.Total() + st.Dropped.Total(); got != uint64(tt.records) || st.Exported.Total() != 0 || st.Dropped.Total() != tt.wantDropped {
					t.Errorf("stats %+v, want all %d records failed or dropped", st, tt.records)
				}
			})
		})
	}
}
