package rundigest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// BenchmarkExport measures what the digest costs per span of a batch of
// 1,000 LLM-call spans of 10 names with token usage, one in 50 failed: the
// run hands it every span the intakes take (docs/ci.md).
func BenchmarkExport(b *testing.B) {
	now := time.Now()
	spans := make([]telemetry.Span, 1000)
	for i := range spans {
		sp := telemetry.Span{TraceID: telemetry.TraceID{byte(i), 1}, SpanID: telemetry.SpanID{byte(i), 2},
			Name: fmt.Sprintf("llm.call-%d", i%10), Start: now, End: now.Add(time.Duration(i%97+1) * time.Millisecond),
			Attributes: map[string]any{"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": int64(120),
				"gen_ai.usage.output_tokens": int64(30)}}
		if i%50 == 0 {
			sp.Status, sp.StatusMessage = telemetry.StatusError, "rate limited"
		}
		spans[i] = sp
	}
	batch := telemetry.Batch{Spans: spans}
	d := New()
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Export(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(spans)), "ns/span")
}
