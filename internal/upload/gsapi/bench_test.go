package gsapi

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// benchSpans are n program spans like an LLM app's: random span ids (as
// W3C ids are, and they do not compress), varying times and durations,
// tags, a few attributes, usage counters and an event.
func benchSpans(n int) []telemetry.Span {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]telemetry.Span, n)
	for i := range out {
		start := t0.Add(time.Duration(rng.Int64N(int64(time.Minute))))
		var id telemetry.SpanID
		binary.LittleEndian.PutUint64(id[:], rng.Uint64()|1)
		out[i] = telemetry.Span{
			TraceID: testTrace, SpanID: id, ParentSpanID: runSpanID, Name: "openai.chat.completions.create",
			Start: start, End: start.Add(time.Duration(rng.Int64N(int64(2 * time.Second)))),
			Tags:       telemetry.Tags{"session_id": "s-1", "run_id": "r-1", "deployment": "prod", "model_type": "chat"},
			Attributes: map[string]any{"model": "gpt-4o", "temperature": 0.7, "stream": false, "graphsignal.intake": "socket"},
			Usage:      []telemetry.Usage{{Name: "prompt_tokens", Value: float64(100 + i%50)}, {Name: "completion_tokens", Value: float64(40 + i%7)}},
			Events:     []telemetry.Event{{Name: "first_token", Time: start.Add(time.Duration(rng.Int64N(int64(time.Second))))}},
		}
	}
	return out
}

// BenchmarkSend measures mapping, encoding, gzip and the POST to a local
// server that reads the body, for batches of 1,000 spans.
func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("spans=%d", n), func(b *testing.B) {
			s := newSender(b, srv.URL, nil)
			batch := telemetry.Batch{Spans: benchSpans(n)}
			var bytes int
			b.ReportAllocs()
			for b.Loop() {
				res, err := s.Send(context.Background(), batch)
				if err != nil {
					b.Fatal(err)
				}
				bytes += res.Bytes
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "spans/s")
			b.ReportMetric(float64(bytes)/float64(b.N*n), "bytes/span")
		})
	}
}
