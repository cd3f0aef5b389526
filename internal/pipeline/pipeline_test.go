package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestOrderAndCoalescing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &recorder{name: "r"}
		p := New(Config{MaxBatch: 4, Interval: time.Second}, r)
		var want []string
		for i := range 10 {
			b := metrics(fmt.Sprintf("m%d.", i), 1)
			want = append(want, b.Metrics[0].Name)
			if !p.Enqueue(b) {
				t.Fatal("Enqueue refused with room left")
			}
		}
		if err := p.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, r.names()); diff != "" {
			t.Errorf("order (-want +got):\n%s", diff)
		}
		bs := r.batches()
		for _, b := range bs {
			if b.Len() > 4 {
				t.Errorf("batch of %d records, MaxBatch 4", b.Len())
			}
		}
		if len(bs) >= 10 {
			t.Errorf("%d exports for 10 one-record batches: not coalesced", len(bs))
		}
		if err := p.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSDKUploadsCoalesced: the Graphsignal SDK's requests carried whole are
// coalesced like any record, kept in enqueue order, exported once each and
// counted as their own kind.
func TestSDKUploadsCoalesced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &recorder{name: "r"}
		p := New(Config{MaxBatch: 6, Interval: time.Second}, r)
		var want []string
		for i := range 10 {
			b := metrics(fmt.Sprintf("m%d.", i), 1)
			body := fmt.Sprintf("upload %d", i)
			b.SDKUploads = []telemetry.SDKUpload{{Time: time.Now(), Body: []byte(body)}}
			want = append(want, body)
			if !p.Enqueue(b) {
				t.Fatal("Enqueue refused with room left")
			}
		}
		if err := p.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		var got []string
		bs := r.batches()
		for _, b := range bs {
			for _, u := range b.SDKUploads {
				got = append(got, string(u.Body))
			}
			if b.Len() > 6 {
				t.Errorf("batch of %d records, MaxBatch 6", b.Len())
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("SDK uploads (-want +got):\n%s", diff)
		}
		if len(bs) >= 10 {
			t.Errorf("%d exports for 10 two-record batches: not coalesced", len(bs))
		}
		if err := p.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		st := p.Stats()
		if st.Enqueued.SDKUploads != 10 || st.Exported.SDKUploads != 10 || st.Enqueued.Total() != 20 {
			t.Errorf("stats %+v, want 10 SDK uploads enqueued and exported, 20 records", st)
		}
	})
}

func TestExportTriggers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &recorder{name: "r"}
		p := New(Config{MaxBatch: 5, Interval: time.Second}, r)
		defer func() { _ = p.Shutdown(context.Background()) }()

		// Fewer than MaxBatch records wait for the interval.
		p.Enqueue(metrics("a", 3))
		time.Sleep(999 * time.Millisecond)
		synctest.Wait()
		if n := len(r.batches()); n != 0 {
			t.Fatalf("%d exports before the interval", n)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if got := r.names(); len(got) != 3 {
			t.Fatalf("after the interval exported %v, want 3 records", got)
		}

		// MaxBatch records are exported at once, without time passing.
		start := time.Now()
		p.Enqueue(metrics("b", 2))
		p.Enqueue(metrics("c", 3))
		synctest.Wait()
		if got := r.names(); len(got) != 8 {
			t.Fatalf("after MaxBatch exported %d records, want 8", len(got))
		}
		if time.Since(start) != 0 {
			t.Errorf("MaxBatch export waited %v", time.Since(start))
		}

		// A run span goes out at once, with what waits before it.
		p.Enqueue(metrics("d", 1))
		p.Enqueue(telemetry.Batch{Spans: []telemetry.Span{span("other", false)}})
		synctest.Wait()
		if got := r.names(); len(got) != 8 {
			t.Fatalf("a plain span and a metric exported %d records at once, want them to wait (8)", len(got))
		}
		p.Enqueue(telemetry.Batch{Spans: []telemetry.Span{span("run", true)}})
		synctest.Wait()
		if got := r.names(); len(got) != 11 || time.Since(start) != 0 {
			t.Fatalf("after a run span exported %v after %v, want 11 records at once", got, time.Since(start))
		}
	})
}

func TestDropWhenFull(t *testing.T) {
	tests := []struct {
		name        string
		batches     []telemetry.Batch
		wantOK      []bool
		wantDropped Counts
		wantNames   []string
	}{
		{
			name:        "newest dropped, counted per kind",
			batches:     []telemetry.Batch{metrics("a", 7), {Metrics: metrics("b", 2).Metrics, Logs: []telemetry.Log{{Message: "l"}}}},
			wantOK:      []bool{true, false},
			wantDropped: Counts{Metrics: 1, Logs: 1},
			wantNames:   []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "b0"},
		},
		{
			name: "run span admitted in the reserve",
			batches: []telemetry.Batch{metrics("a", 8), metrics("b", 1),
				{Spans: []telemetry.Span{span("child", false), span("run", true)}}},
			wantOK:      []bool{true, false, false},
			wantDropped: Counts{Metrics: 1, Spans: 1},
			wantNames:   []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "run"},
		},
		{
			name: "run spans admitted past the bound",
			batches: []telemetry.Batch{metrics("a", 8),
				{Spans: []telemetry.Span{span("r1", true), span("r2", true), span("r3", true)}, Scores: []telemetry.Score{{Name: "s"}}}},
			wantOK:      []bool{true, false},
			wantDropped: Counts{Scores: 1},
			wantNames:   []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "r1", "r2", "r3"},
		},
		{
			name: "SDK uploads dropped after logs, counted",
			batches: []telemetry.Batch{metrics("a", 6), {Logs: []telemetry.Log{{Message: "l"}},
				SDKUploads: []telemetry.SDKUpload{{Body: []byte("1")}, {Body: []byte("2")}}}},
			wantOK:      []bool{true, false},
			wantDropped: Counts{SDKUploads: 1},
			wantNames:   []string{"a0", "a1", "a2", "a3", "a4", "a5", "l", "upload 1"},
		},
		{
			name: "run spans capped RunSpanReserve past the bound",
			batches: []telemetry.Batch{metrics("a", 8),
				{Spans: []telemetry.Span{span("r1", true), span("r2", true), span("r3", true), span("r4", true), span("r5", true)}}},
			wantOK:      []bool{true, false},
			wantDropped: Counts{Spans: 1},
			wantNames:   []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "r1", "r2", "r3", "r4"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := &recorder{name: "r"}
				// No export before Flush: the interval is long and MaxBatch unreachable.
				p := New(Config{QueueSize: 10, RunSpanReserve: 2, MaxBatch: 1000, Interval: time.Hour}, r)
				for i, b := range tt.batches {
					if ok := p.Enqueue(b); ok != tt.wantOK[i] {
						t.Errorf("Enqueue #%d = %v, want %v", i, ok, tt.wantOK[i])
					}
				}
				if err := p.Shutdown(t.Context()); err != nil {
					t.Fatal(err)
				}
				st := p.Stats()
				if st.Dropped != tt.wantDropped {
					t.Errorf("dropped %+v, want %+v", st.Dropped, tt.wantDropped)
				}
				// The exporter's queue (bound 8) takes the first batch alone.
				got := r.names()
				if diff := cmp.Diff(tt.wantNames, got); diff != "" {
					t.Errorf("exported (-want +got):\n%s", diff)
				}
				if st.Exported.Total() != uint64(len(tt.wantNames)) || st.Enqueued != st.Exported {
					t.Errorf("stats %+v, want %d exported = enqueued", st, len(tt.wantNames))
				}
			})
		})
	}
}

func (p *panicker) Export(context.Context, telemetry.Batch) error { panic("nil map") }

func (c *closeErrExporter) Close() error { return errors.New("close boom") }

// Many producers at once, real time: nothing lost, nothing duplicated.
func TestConcurrentEnqueue(t *testing.T) {
	r := &recorder{name: "r"}
	p := New(Config{MaxBatch: 64, Interval: time.Millisecond}, r)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				p.Enqueue(metrics(fmt.Sprintf("g%d.%d.", g, i), 1+i%3))
			}
		})
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	names := r.names()
	want := 8 * (500/3*6 + 1 + 2) // sum of 1+i%3 over i<500
	if len(names) != want {
		t.Fatalf("exported %d records, want %d", len(names), want)
	}
	slices.Sort(names)
	if len(slices.Compact(names)) != want {
		t.Error("duplicate records exported")
	}
	st := p.Stats()
	if st.Enqueued.Metrics != uint64(want) || st.Exported != st.Enqueued || st.Dropped.Total() != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestTrim(t *testing.T) {
	b := telemetry.Batch{
		Spans:      []telemetry.Span{span("a", false), span("run", true), span("b", false)},
		Metrics:    metrics("m", 2).Metrics,
		Logs:       make([]telemetry.Log, 2),
		SDKUploads: []telemetry.SDKUpload{{Body: []byte("u1")}, {Body: []byte("u2")}},
	}
	tests := []struct {
		room, runRoom int
		wantKept      Counts
		wantDrop      Counts
	}{
		{room: -5, runRoom: 10, wantKept: Counts{Spans: 1}, wantDrop: Counts{Spans: 2, Metrics: 2, Logs: 2, SDKUploads: 2}},
		{room: 0, runRoom: 10, wantKept: Counts{Spans: 1}, wantDrop: Counts{Spans: 2, Metrics: 2, Logs: 2, SDKUploads: 2}},
		{room: 0, runRoom: 0, wantKept: Counts{}, wantDrop: Counts{Spans: 3, Metrics: 2, Logs: 2, SDKUploads: 2}},
		{room: 3, runRoom: 10, wantKept: Counts{Spans: 3, Metrics: 1}, wantDrop: Counts{Metrics: 1, Logs: 2, SDKUploads: 2}},
		{room: 3, runRoom: 1, wantKept: Counts{Spans: 1}, wantDrop: Counts{Spans: 2, Metrics: 2, Logs: 2, SDKUploads: 2}},
		{room: 1, runRoom: 3, wantKept: Counts{Spans: 2}, wantDrop: Counts{Spans: 1, Metrics: 2, Logs: 2, SDKUploads: 2}},
		{room: 5, runRoom: 10, wantKept: Counts{Spans: 3, Metrics: 2, Logs: 1}, wantDrop: Counts{Logs: 1, SDKUploads: 2}},
		{room: 7, runRoom: 10, wantKept: Counts{Spans: 3, Metrics: 2, Logs: 2, SDKUploads: 1}, wantDrop: Counts{SDKUploads: 1}},
		{room: 9, runRoom: 8, wantKept: Counts{Spans: 3, Metrics: 2, Logs: 2, SDKUploads: 1}, wantDrop: Counts{SDKUploads: 1}},
		{room: 20, runRoom: 20, wantKept: Counts{Spans: 3, Metrics: 2, Logs: 2, SDKUploads: 2}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.room, "/", tt.runRoom), func(t *testing.T) {
			kept, drop, _ := trim(b, room{records: tt.room, runRecords: tt.runRoom, bytes: 1 << 40, runBytes: 1 << 40})
			if got := countsOf(&kept); got != tt.wantKept || drop != tt.wantDrop {
				t.Errorf("trim(%d, %d) kept %+v dropped %+v, want %+v %+v", tt.room, tt.runRoom, got, drop, tt.wantKept, tt.wantDrop)
			}
		})
	}
}

// With one slow exporter, overload backs up into the intake and shows as
// drops at Enqueue, not as records lost after Enqueue accepted them.
func TestBackpressure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := newBlocker(true)
		p := New(Config{QueueSize: 10, RunSpanReserve: 2, MaxBatch: 4, Interval: time.Second, ExportTimeout: time.Hour}, slow)
		for i := range 5 { // in flight 4, exporter queue 8, intake 8
			if !p.Enqueue(metrics(fmt.Sprintf("m%d.", i), 4)) {
				t.Fatalf("Enqueue #%d refused", i)
			}
			synctest.Wait()
		}
		if p.Enqueue(metrics("x", 1)) {
			t.Error("Enqueue past the bound = true")
		}
		if !p.Enqueue(telemetry.Batch{Spans: []telemetry.Span{span("run", true)}}) {
			t.Error("run span refused")
		}
		time.Sleep(10 * time.Second) // ticks pass; nothing moves while the exporter is stuck
		st := p.Stats()
		if st.Queued != 9 || st.Exporters[0].Queued != 12 || st.Dropped != (Counts{Metrics: 1}) || st.Failed.Total() != 0 {
			t.Errorf("stats %+v, want 9 in the intake, 12 at the exporter, 1 dropped, 0 failed", st)
		}

		close(slow.release)
		if err := p.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		st = p.Stats()
		if want := (Counts{Spans: 1, Metrics: 20}); st.Exported != want || st.Enqueued != want || st.Failed.Total() != 0 {
			t.Errorf("after release: stats %+v, want %+v exported", st, want)
		}
		if err := p.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}
