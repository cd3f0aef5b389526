package store

import (
	"context"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

const benchBatch = 100

// BenchmarkWriteSpans measures span upserts in batches of 100, each span
// with tags, attributes and a usage counter, as the intake delivers them.
func BenchmarkWriteSpans(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	run := runSpan("bench", 0, 0)
	batch := telemetry.Batch{Spans: make([]telemetry.Span, benchBatch)}
	for i := 0; b.Loop(); i++ {
		for j := range batch.Spans {
			sp := childSpan(&run, "generate", time.Duration(i*benchBatch+j)*time.Millisecond, time.Millisecond)
			sp.Attributes = map[string]any{"model": "gpt-4o", "temperature": 0.2}
			sp.Usage = []telemetry.Usage{{Name: "token_count", Value: 120}}
			batch.Spans[j] = sp
		}
		if err := s.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "spans/s")
}

// BenchmarkWriteMetrics measures metric points in batches of 100, the
// shape of one process-monitor pass with tags.
func BenchmarkWriteMetrics(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	trace := telemetry.NewTraceID()
	batch := telemetry.Batch{Metrics: make([]telemetry.Metric, benchBatch)}
	for i := 0; b.Loop(); i++ {
		for j := range batch.Metrics {
			batch.Metrics[j] = telemetry.Metric{TraceID: trace, Name: "process.cpu.usage", Kind: telemetry.Gauge,
				Unit: "%", Tags: telemetry.Tags{"gpu": "0"}, Time: t0.Add(time.Duration(i*benchBatch+j) * time.Second),
				Value: float64(j)}
		}
		if err := s.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkRunLifecycle measures what a short `graphsignal run` costs the
// store: open an existing database, write the run span and one pass of
// metrics, rewrite the run span at exit, close.
func BenchmarkRunLifecycle(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	for i := 0; b.Loop(); i++ {
		s, err := Open(ctx, dir)
		if err != nil {
			b.Fatal(err)
		}
		run := runSpan("bench", time.Duration(i)*time.Second, 0)
		if err := s.Write(ctx, telemetry.Batch{Spans: []telemetry.Span{run}}); err != nil {
			b.Fatal(err)
		}
		ended := runSpan("bench", time.Duration(i)*time.Second, time.Millisecond)
		ended.TraceID, ended.SpanID = run.TraceID, run.SpanID
		ms := make([]telemetry.Metric, 12)
		for j := range ms {
			ms[j] = telemetry.Metric{TraceID: run.TraceID, Name: "process.memory.usage", Kind: telemetry.Gauge, Time: run.Start, Value: 1}
		}
		if err := s.Write(ctx, telemetry.Batch{Spans: []telemetry.Span{ended}, Metrics: ms}); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
