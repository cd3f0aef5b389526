package journal

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// spanLine is one journal line of n program spans like an LLM app's: ids,
// times, the run's tags, four attributes, two usage counters.
func spanLine(n int) []byte {
	var b telemetry.Batch
	for i := range n {
		start := t0.Add(time.Duration(i) * time.Millisecond)
		id := telemetry.NewSpanID()
		b.Spans = append(b.Spans, telemetry.Span{
			TraceID: trace, SpanID: id, ParentSpanID: span, Name: fmt.Sprintf("openai.chat.completions.create.%d", i%5),
			Start: start, End: start.Add(time.Duration(i%2000) * time.Millisecond),
			Tags: telemetry.Tags{"session_id": "s-1", "run_id": "r-1", "deployment": "prod"},
			Attributes: map[string]any{"model": "gpt-4o", "temperature": 0.7, "stream": false,
				"max_tokens": int64(256 + i%100)},
			Usage: []telemetry.Usage{{Name: "prompt_tokens", Value: float64(100 + i%50)},
				{Name: "completion_tokens", Value: float64(40 + i%7)}},
		})
	}
	line := encodeBatch(&b)
	return line[:len(line)-1]
}

// BenchmarkDecodeSpans: one line of 1,000 spans, by decodeBatch and by the
// encoding/json reference it replaced.
func BenchmarkDecodeSpans(b *testing.B) {
	line := spanLine(1000)
	for _, dec := range []struct {
		name string
		fn   func([]byte) (telemetry.Batch, error)
	}{{"decodeBatch", decodeBatch}, {"encoding-json", decodeBatchJSON}} {
		b.Run(dec.name, func(b *testing.B) {
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				if _, err := dec.fn(line); err != nil {
					b.Fatal(err)
				}
			}
			reportSpans(b, 1000, cpuTime()-cpu)
		})
	}
}

// BenchmarkEncodeSpans: the same line, encoded.
func BenchmarkEncodeSpans(b *testing.B) {
	line := spanLine(1000)
	batch, err := decodeBatch(line)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		encodeBatch(&batch)
	}
	reportSpans(b, 1000, cpuTime()-cpu)
}

// reportSpans reports spans/s and, steadier on a shared machine, the
// process's CPU time per span (garbage collection included).
func reportSpans(b *testing.B, perOp int, cpu time.Duration) {
	spans := float64(b.N * perOp)
	b.ReportMetric(spans/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/spans, "cpu-ns/span")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
