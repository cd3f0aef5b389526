package otlpexport

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// benchSpans returns n spans of one run shaped like an instrumented
// program's: a name, eight attributes, the run's tags, ~1 ms each.
func benchSpans(n int) []telemetry.Span {
	spans := make([]telemetry.Span, n)
	for i := range spans {
		id := telemetry.NewSpanID()
		start := testStart.Add(time.Duration(i) * time.Millisecond)
		spans[i] = telemetry.Span{
			TraceID: testTrace, SpanID: id, ParentSpanID: testRunSpan,
			Name:  fmt.Sprintf("handler %d", i%20),
			Start: start, End: start.Add(800 * time.Microsecond),
			Tags: testTags,
			Attributes: map[string]any{
				"graphsignal.intake":    "otlp",
				"otel.scope.name":       "app",
				"otel.span.kind":        "server",
				"resource.service.name": "app",
				"http.route":            fmt.Sprintf("/api/v1/items/%d", i%50),
				"http.status_code":      int64(200),
				"net.peer.port":         int64(40000 + i%1000),
				"item.id":               fmt.Sprintf("item-%d", i),
			},
			Status: telemetry.StatusOK,
		}
	}
	return spans
}

// BenchmarkSend measures export throughput over http/protobuf with gzip
// to a receiver on loopback that reads and discards each request, in
// batches of 1000 spans: spans/s and the bytes per span on the wire.
func BenchmarkSend(b *testing.B) {
	for _, proto := range []string{ProtocolHTTPProtobuf, ProtocolHTTPJSON} {
		b.Run(proto, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
			}))
			defer srv.Close()
			s, err := New(Config{Traces: Signal{URL: srv.URL + "/v1/traces", Protocol: proto, Compression: CompressionGzip}, ServiceName: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			defer s.CloseIdleConnections()
			batch := telemetry.Batch{Spans: benchSpans(1000)}
			wire := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				res, err := s.Send(context.Background(), batch)
				if err != nil {
					b.Fatal(err)
				}
				wire += res.Bytes
			}
			spans := float64(b.N * len(batch.Spans))
			b.ReportMetric(spans/b.Elapsed().Seconds(), "spans/s")
			b.ReportMetric(float64(wire)/spans, "wire-B/span")
		})
	}
}
