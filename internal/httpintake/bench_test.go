package httpintake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// spanRequest builds an OTLP protobuf request of n spans, each with five
// attributes, in the run's trace.
func spanRequest(b *testing.B, n int) []byte {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "bench")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i := range n {
		sp := spans.AppendEmpty()
		sp.SetTraceID(pcommon.TraceID(testTrace))
		sp.SetSpanID(pcommon.SpanID(telemetry.NewSpanID()))
		sp.SetParentSpanID(pcommon.SpanID(testRunSpan))
		sp.SetName(fmt.Sprintf("op-%d", i%10))
		sp.SetStartTimestamp(ts(time.Duration(i) * time.Microsecond))
		sp.SetEndTimestamp(ts(time.Duration(i+5) * time.Microsecond))
		sp.Attributes().PutStr("model", "gpt-4o")
		sp.Attributes().PutInt("tokens", int64(i))
		sp.Attributes().PutBool("cached", i%2 == 0)
		sp.Attributes().PutDouble("temperature", 0.7)
		sp.Attributes().PutStr("user", "u-1")
	}
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkOTLPTraces1000 posts 1,000-span protobuf requests over loopback
// HTTP, one client (serial) and 8 clients (parallel), and reports spans/s.
func BenchmarkOTLPTraces1000(b *testing.B) {
	const n = 1000
	body := spanRequest(b, n)
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			var got atomic.Int64
			s, err := start(context.Background(), Config{TraceID: testTrace, RunSpanID: testRunSpan, Tags: testTags,
				Consumer: ConsumerFunc(func(bt telemetry.Batch) { got.Add(int64(len(bt.Spans))) })})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close(context.Background())
			tr := &http.Transport{MaxIdleConnsPerHost: clients}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			url := s.Endpoint() + "/v1/traces"
			post := func() error {
				resp, err := c.Post(url, ctProtobuf, bytes.NewReader(body))
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					return fmt.Errorf("status %d", resp.StatusCode)
				}
				return nil
			}
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			start := time.Now()
			if clients == 1 {
				for range b.N {
					if err := post(); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism((clients + 1) / 2) // GOMAXPROCS=2 here: 8 goroutines
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := post(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			elapsed := time.Since(start)
			b.StopTimer()
			if got.Load() != int64(b.N*n) {
				b.Fatalf("consumed %d spans, want %d", got.Load(), b.N*n)
			}
			b.ReportMetric(float64(b.N*n)/elapsed.Seconds(), "spans/s")
		})
	}
}

// BenchmarkLifecycle measures what a run spends on the intake when the
// child never connects: Bind before the child starts, Serve after, and
// Close at the end.
func BenchmarkLifecycle(b *testing.B) {
	for _, bb := range []struct {
		name  string
		serve bool
	}{{"bind-close", false}, {"bind-serve-close", true}} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				s, err := Bind(context.Background(), Config{TraceID: testTrace, RunSpanID: testRunSpan,
					Consumer: ConsumerFunc(func(telemetry.Batch) {})})
				if err != nil {
					b.Fatal(err)
				}
				if bb.serve {
					s.Serve()
				}
				if err := s.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
