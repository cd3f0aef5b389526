package upload

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// nopSender acknowledges everything at once.
type nopSender struct{}

func (nopSender) Name() string { return testDest }
func (nopSender) Send(context.Context, telemetry.Batch) (Result, error) {
	return Result{}, nil
}

// BenchmarkDrainSpans measures the delivery loop alone (journal reading,
// decoding, grouping, offsets) over 100,000 spans in lines of 1,000, with
// a Sender that costs nothing; the spans/s metric is its ceiling.
func BenchmarkDrainSpans(b *testing.B) {
	const total, perLine = 100_000, 1_000
	now := time.Unix(1700000000, 0)
	var line telemetry.Batch
	for i := range perLine {
		line.Spans = append(line.Spans, telemetry.Span{TraceID: telemetry.NewTraceID(), SpanID: telemetry.NewSpanID(),
			Name: fmt.Sprintf("llm.call.%d", i%7), Start: now, End: now.Add(time.Millisecond),
			Tags: telemetry.Tags{"session_id": "s-1", "deployment": "app"}, Attributes: map[string]any{"model": "gpt", "tokens": 120}})
	}
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
		s, err := New(Config{Sender: nopSender{}, Spool: d})
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
	// On a shared machine wall time is noise: spans per CPU second is the
	// loop's cost.
	b.ReportMetric(float64(total*b.N)/cpu.Seconds(), "spans/cpu-s")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
