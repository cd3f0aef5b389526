package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

type noop struct{}

func (noop) Export(context.Context, telemetry.Batch) error { return nil }

// BenchmarkEnqueue measures one Enqueue of a one-metric batch while the
// dispatcher drains the intake to a no-op exporter.
func BenchmarkEnqueue(b *testing.B) {
	p := New(Config{}, noop{})
	defer func() { _ = p.Shutdown(context.Background()) }()
	batch := telemetry.Batch{Metrics: []telemetry.Metric{{Name: "process.cpu.usage", Kind: telemetry.Gauge, Value: 1}}}
	b.ReportAllocs()
	for b.Loop() {
		p.Enqueue(batch)
	}
	b.ReportMetric(float64(p.Stats().Dropped.Total())/float64(b.N), "dropped/op")
}

// BenchmarkEnqueueParallel is BenchmarkEnqueue from GOMAXPROCS producers.
func BenchmarkEnqueueParallel(b *testing.B) {
	p := New(Config{}, noop{})
	defer func() { _ = p.Shutdown(context.Background()) }()
	batch := telemetry.Batch{Metrics: []telemetry.Metric{{Name: "process.cpu.usage", Kind: telemetry.Gauge, Value: 1}}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Enqueue(batch)
		}
	})
	b.ReportMetric(float64(p.Stats().Dropped.Total())/float64(b.N), "dropped/op")
}

// BenchmarkThroughput measures end-to-end delivery to a no-op exporter:
// batches of 10 metrics, with a Flush whenever Enqueue reports the intake
// full. records/s counts exported records only; every accepted record must
// be exported.
func BenchmarkThroughput(b *testing.B) {
	p := New(Config{Interval: time.Millisecond}, noop{})
	batch := metrics("m", 10)
	b.ReportAllocs()
	for b.Loop() {
		if !p.Enqueue(batch) {
			_ = p.Flush(context.Background())
		}
	}
	if err := p.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	st := p.Stats()
	if st.Exported != st.Enqueued {
		b.Fatalf("stats %+v, want every accepted record exported", st)
	}
	b.ReportMetric(float64(st.Exported.Total())/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(st.Dropped.Total())/float64(10*b.N), "dropped/record")
}
