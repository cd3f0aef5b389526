package upload

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// latencySender acknowledges each request after a round trip that costs
// no CPU here (a remote destination's network and processing time).
type latencySender struct{ rtt time.Duration }

func (latencySender) Name() string { return testDest }
func (l latencySender) Send(ctx context.Context, _ telemetry.Batch) (Result, error) {
	select {
	case <-time.After(l.rtt):
		return Result{}, nil
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// BenchmarkDrainWithLatency drains 100,000 spans (lines of 1,000, requests
// of 5,000) to a destination that answers each request after rtt: the
// journal reading and decoding of the next request runs during the round
// trip, so the time approaches requests×rtt rather than that plus the
// decoding.
func BenchmarkDrainWithLatency(b *testing.B) {
	const total, perLine = 100_000, 1_000
	now := time.Unix(1700000000, 0)
	var line telemetry.Batch
	for i := range perLine {
		line.Spans = append(line.Spans, telemetry.Span{TraceID: telemetry.NewTraceID(), SpanID: telemetry.NewSpanID(),
			Name: fmt.Sprintf("llm.call.%d", i%7), Start: now, End: now.Add(time.Millisecond),
			Tags: telemetry.Tags{"session_id": "s-1", "deployment": "app"}, Attributes: map[string]any{"model": "gpt", "tokens": 120}})
	}
	for _, rtt := range []time.Duration{10 * time.Millisecond, 20 * time.Millisecond} {
		b.Run(fmt.Sprintf("rtt=%v", rtt), func(b *testing.B) {
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				d := spool.Open(b.TempDir())
				if err := d.Expect(testDest, "j"); err != nil {
					b.Fatal(err)
				}
				w, err := journal.Create(d.JournalDir(), "j", 0)
				if err != nil {
					b.Fatal(err)
				}
				for range total / perLine {
					if err := w.Append(line); err != nil {
						b.Fatal(err)
					}
				}
				_ = w.Close()
				s, err := New(Config{Sender: latencySender{rtt}, Spool: d})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				before := cpuTime()
				if err := s.Drain(context.Background(), nil); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - before
				if got := s.Stats().Records; got != total {
					b.Fatalf("delivered %d spans, want %d", got, total)
				}
			}
			b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "spans/s")
			b.ReportMetric(float64(total*b.N)/cpu.Seconds(), "spans/cpu-s")
		})
	}
}
