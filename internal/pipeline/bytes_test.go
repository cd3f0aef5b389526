package pipeline

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/graphsignal/graphsignal/internal/ipc"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestQueueBytesBound: the queues are bounded by the memory their records
// hold, not only by their count: large spans and 16 MiB SDK uploads are
// dropped once QueueBytes is reached, though far fewer than QueueSize
// records wait (before, 100,000 records of any size were queued).
func TestQueueBytesBound(t *testing.T) {
	payload := make([]byte, 10<<10)
	upload := make([]byte, 16<<20)
	tests := []struct {
		name       string
		queueBytes int64
		batches    int
		batch      func() telemetry.Batch
		dropKind   func(Counts) uint64
	}{
		{"spans with 10 KiB payloads", 1 << 20, 300, func() telemetry.Batch {
			return telemetry.Batch{Spans: []telemetry.Span{{Name: "big", Payloads: []telemetry.Payload{{Name: "in", Data: payload}}}}}
		}, func(c Counts) uint64 { return c.Spans }},
		{"16 MiB SDK uploads", DefaultQueueBytes, 6, func() telemetry.Batch {
			return telemetry.Batch{SDKUploads: []telemetry.SDKUpload{{Body: upload}}}
		}, func(c Counts) uint64 { return c.SDKUploads }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				bl := newBlocker(true)
				p := New(Config{QueueBytes: tt.queueBytes, MaxBatch: 10, Interval: time.Millisecond}, bl)
				var maxIntake, maxExporter int64
				for range tt.batches {
					p.Enqueue(tt.batch())
					time.Sleep(2 * time.Millisecond) // the dispatcher's Interval
					synctest.Wait()
					st := p.Stats()
					maxIntake = max(maxIntake, st.QueuedBytes)
					maxExporter = max(maxExporter, st.Exporters[0].QueuedBytes)
				}
				st := p.Stats()
				if tt.dropKind(st.Dropped) == 0 {
					t.Errorf("nothing dropped after %d batches into %d bytes: %+v", tt.batches, tt.queueBytes, st)
				}
				one := sizeOf(new(tt.batch()))
				if st.Exported.Total()+uint64(st.Exporters[0].Queued) == 0 {
					t.Errorf("no record reached the exporter: one larger than the bound must pass an empty queue: %+v", st)
				}
				// An empty queue takes one record whatever its size; the
				// exporter's count includes the batch in flight too.
				if maxIntake > max(tt.queueBytes, one) || maxExporter > max(tt.queueBytes, one)+one {
					t.Errorf("queued bytes reached %d (intake) and %d (exporter), bound %d (+%d in flight)",
						maxIntake, maxExporter, tt.queueBytes, one)
				}
				close(bl.release)
				if err := p.Shutdown(t.Context()); err != nil {
					t.Fatal(err)
				}
				if st := p.Stats(); st.QueuedBytes != 0 || st.Exporters[0].QueuedBytes != 0 {
					t.Errorf("after Shutdown queued bytes = %d, %d; want 0 (accounting leaks)", st.QueuedBytes, st.Exporters[0].QueuedBytes)
				}
			})
		})
	}
}

// TestSizeEstimateCoversHeap: the estimate a queue counts is at least the
// heap that records decoded by the socket intake really hold, for every
// shape of record, so that QueueBytes bounds memory (docs/architecture.md).
func TestSizeEstimateCoversHeap(t *testing.T) {
	rc := &ipc.RunContext{TraceID: telemetry.NewTraceID(), SpanID: telemetry.NewSpanID(), RecordPayloads: true,
		Tags: telemetry.Tags{"session_id": "s-0123456789", "run_id": "0123456789abcdef", "deployment": "chat"}}
	tests := []struct{ name, line string }{
		{"bare span", `{"type":"span","name":"x"}`},
		{"span with tags and attributes", `{"type":"span","name":"llm.generate","start_ns":1,"end_ns":2,"tags":{"model_type":"chat","user_id":"alice"},"attributes":{"model":"gpt-4o","temperature":0.2,"tokens":123,"stop":["a","b"]}}`},
		{"span with payload and scores", `{"type":"span","name":"p","payloads":[{"name":"input","content_type":"application/json","data":{"messages":[{"role":"user","content":"` + strings.Repeat("hi ", 300) + `"}]}}],"usage":[{"name":"token_count","value":12}],"scores":[{"name":"s","score":0.5}],"exceptions":[{"type":"E","message":"m","stack_trace":"` + strings.Repeat("at f\\n", 40) + `"}]}`},
		{"metric", `{"type":"metric","name":"queue.depth","kind":"gauge","value":3,"tags":{"q":"a"}}`},
		{"histogram", `{"type":"metric","name":"latency","kind":"histogram","buckets":[1,2,5,10],"counts":[1,2,3,4,5],"count":15,"sum":40}`},
		{"log", `{"type":"log","level":"info","message":"` + strings.Repeat("x", 200) + `"}`},
		{"score", `{"type":"score","name":"quality","score":0.9,"comment":"good"}`},
	}
	const n = 4000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Now()
			// Other tests' goroutines can only add to a measurement: the
			// least of three is the closest.
			heap, est := int64(1<<62), int64(0)
			for range 3 {
				keep := make([]telemetry.Batch, n)
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				for i := range keep {
					m, err := ipc.DecodeLine([]byte(tt.line), rc, now)
					if err != nil {
						t.Fatalf("DecodeLine(%s) = %v", tt.line, err)
					}
					switch m.Type {
					case ipc.TypeSpan:
						keep[i].Spans = []telemetry.Span{m.Span}
					case ipc.TypeMetric:
						keep[i].Metrics = []telemetry.Metric{m.Metric}
					case ipc.TypeLog:
						keep[i].Logs = []telemetry.Log{m.Log}
					case ipc.TypeScore:
						keep[i].Scores = []telemetry.Score{m.Score}
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				heap = min(heap, int64(after.HeapAlloc)-int64(before.HeapAlloc))
				est = 0
				for i := range keep {
					est += sizeOf(&keep[i])
				}
				runtime.KeepAlive(keep)
			}
			if est < heap {
				t.Errorf("estimate %d B per record < heap %d B per record", est/n, heap/n)
			}
			t.Logf("estimate %d B, heap %d B per record", est/n, heap/n)
		})
	}
}

// TestSelfMetrics: the pipeline hands its exporters its drop counters every
// SelfMetricsInterval while they move, not when they do not, past a full
// queue, and once more at Shutdown, so a killed run keeps them.
func TestSelfMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &recorder{name: "r"}
		trace := telemetry.NewTraceID()
		p := New(Config{QueueSize: 10, RunSpanReserve: 1, Interval: time.Millisecond, SelfMetricsInterval: time.Second,
			SelfMetrics: func(s Stats, now time.Time) []telemetry.Metric { return s.Metrics(trace, nil, now) }}, r)
		dropped := func() []float64 {
			var out []float64
			for _, b := range r.batches() {
				for _, m := range b.Metrics {
					if m.Name == MetricDropped {
						out = append(out, m.Value)
					}
				}
			}
			return out
		}
		time.Sleep(time.Second + time.Millisecond)
		synctest.Wait()
		if got := dropped(); len(got) != 0 {
			t.Fatalf("self metrics with no drop: %v", got)
		}
		p.Enqueue(metrics("m", 15)) // 9 fit, 6 dropped
		time.Sleep(time.Second)
		synctest.Wait()
		if got := dropped(); fmt.Sprint(got) != "[6]" {
			t.Fatalf("after one interval: dropped counters %v, want [6]", got)
		}
		time.Sleep(3 * time.Second) // nothing moved: nothing sent
		synctest.Wait()
		if got := dropped(); fmt.Sprint(got) != "[6]" {
			t.Fatalf("unchanged counters sent again: %v", got)
		}
		p.Enqueue(metrics("n", 12))
		if err := p.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := dropped(); fmt.Sprint(got) != "[6 9]" {
			t.Errorf("after Shutdown: dropped counters %v, want [6 9] (the final ones last)", got)
		}
	})
}

// TestSelfMetricsPastFullQueue: an exporter whose queue is full still gets
// the counters, and only the newest set waits for it.
func TestSelfMetricsPastFullQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bl := newBlocker(true)
		rec := &recorder{name: "rec"}
		n := 0
		p := New(Config{QueueSize: 10, RunSpanReserve: 1, MaxBatch: 1, Interval: time.Millisecond, SelfMetricsInterval: time.Second,
			SelfMetrics: func(s Stats, now time.Time) []telemetry.Metric {
				n++
				return []telemetry.Metric{{Name: "self", Value: float64(n)}}
			}}, bl, rec)
		for range 5 {
			p.Enqueue(metrics("m", 10))
			synctest.Wait()
		}
		time.Sleep(3*time.Second + time.Millisecond)
		synctest.Wait()
		w := p.workers[0]
		w.mu.Lock()
		selfItems, selfValue := 0, 0.0
		for _, it := range w.q {
			if it.self {
				selfItems++
				selfValue = it.batch.Metrics[0].Value
			}
		}
		w.mu.Unlock()
		if selfItems != 1 || selfValue != 3 {
			t.Errorf("blocked exporter's queue holds %d self items (last value %v), want 1 holding 3", selfItems, selfValue)
		}
		close(bl.release)
		if err := p.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// countersRecorder is a recorder that takes the counters apart.
type countersRecorder struct {
	recorder
	counters []telemetry.Batch
}

func (c *countersRecorder) ExportCounters(_ context.Context, b telemetry.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counters = append(c.counters, b)
	return nil
}

// TestCountersExporter: an exporter that implements CountersExporter gets
// the pipeline's own counters through ExportCounters (where the journal
// keeps room for them), through OpenAsync too, and records through Export.
func TestCountersExporter(t *testing.T) {
	for _, wrap := range []bool{false, true} {
		t.Run(fmt.Sprint("OpenAsync=", wrap), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cr := &countersRecorder{recorder: recorder{name: "cr"}}
				var e Exporter = cr
				if wrap {
					e = OpenAsync("cr", func(context.Context) (Exporter, error) { return cr, nil })
				}
				p := New(Config{QueueSize: 4, RunSpanReserve: 1, Interval: time.Millisecond,
					SelfMetrics: func(s Stats, now time.Time) []telemetry.Metric { return s.Metrics(telemetry.TraceID{1}, nil, now) }}, e)
				p.Enqueue(metrics("m", 5)) // 2 dropped
				if err := p.Shutdown(t.Context()); err != nil {
					t.Fatal(err)
				}
				cr.mu.Lock()
				defer cr.mu.Unlock()
				if len(cr.counters) != 1 || cr.counters[0].Metrics[0].Name != MetricDropped {
					t.Errorf("ExportCounters got %+v, want the final counters once", cr.counters)
				}
				for _, b := range cr.got {
					for _, m := range b.Metrics {
						if m.Name == MetricDropped {
							t.Errorf("counters went to Export too")
						}
					}
				}
			})
		})
	}
}
