package httpintake

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// tracesRequest is an OTLP traces request of n spans with five attributes.
func tracesRequest(n int) ptraceotlp.ExportRequest {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "flood")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i := range n {
		sp := spans.AppendEmpty()
		sp.SetTraceID(pcommon.TraceID(testTrace))
		sp.SetSpanID(pcommon.SpanID(telemetry.NewSpanID()))
		sp.SetName(fmt.Sprintf("op-%d", i%10))
		sp.SetStartTimestamp(pcommon.Timestamp(i))
		sp.SetEndTimestamp(pcommon.Timestamp(i + 5))
		sp.Attributes().PutStr("model", "gpt-4o")
		sp.Attributes().PutInt("tokens", int64(i))
		sp.Attributes().PutBool("cached", i%2 == 0)
		sp.Attributes().PutDouble("temperature", 0.7)
		sp.Attributes().PutStr("user", "u-1")
	}
	return ptraceotlp.NewExportRequestFromTraces(td)
}

// TestDecodeFactorCoversHeap: what a request holds while it is decoded
// (decodeFactor times its body, which the in-flight bound counts) is at
// least the heap its decoded records take, in both encodings.
func TestDecodeFactorCoversHeap(t *testing.T) {
	s, _ := bindIntakeWith(t, nil)
	req := tracesRequest(2000)
	for _, isJSON := range []bool{false, true} {
		marshal := req.MarshalProto
		if isJSON {
			marshal = req.MarshalJSON
		}
		body, err := marshal()
		if err != nil {
			t.Fatal(err)
		}
		// Other tests' goroutines can only add to a measurement: the
		// least of three is the closest.
		heap := int64(1 << 62)
		for range 3 {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var b telemetry.Batch
			if err := s.decodeOTLP(otlpTraces, body, isJSON, time.Now(), &b); err != nil {
				t.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			heap = min(heap, int64(after.HeapAlloc)-int64(before.HeapAlloc))
			runtime.KeepAlive(b)
		}
		held := decodeHold(int64(len(body)), isJSON)
		t.Logf("json=%v: body %d B, decoded heap %d B (%.1f×), held %d B", isJSON, len(body), heap, float64(heap)/float64(len(body)), held)
		if held < heap {
			t.Errorf("json=%v: held %d B for decoding < decoded heap %d B", isJSON, held, heap)
		}
	}
}

// TestInFlightBound: request bytes being read and decoded are bounded: while
// one request holds part of the budget, another that would pass it is
// refused as busy (429, Retry-After, counted as throttled) instead of being
// read into memory, one that fits beside it is served, one that alone would
// pass it is refused as too large (413), and the budget is given back.
func TestInFlightBound(t *testing.T) {
	body := func(n int) []byte {
		b, err := tracesRequest(n).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	small, big, huge := body(100), body(1000), body(1500)
	// A JSON body holds 5× its size (the body and 4× for decoding): big fits alone, and not beside half of
	// another big one; huge never fits.
	budget := int64(5*len(big) + len(big)/4)
	s, col := startIntake(t, func(c *Config) { c.InFlightBytes = budget })
	url := s.Endpoint() + "/v1/traces"
	hdr := map[string]string{"Content-Type": "application/json"}
	c := newClient(t)

	// A slow client: half its body arrives, then it stalls.
	pr, pw := io.Pipe()
	slow := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, url, pr)
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = int64(len(big))
		resp, err := c.Do(req)
		if err != nil {
			slow <- 0
			return
		}
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	if _, err := pw.Write(big[:len(big)/2]); err != nil {
		t.Fatal(err)
	}
	for s.inflight.used.Load() < int64(len(big)/2) { // the server has read it
		runtime.Gosched()
	}

	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(big))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("second large request while one is in flight: %d (Retry-After %q), want 429 with Retry-After",
			resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if got := do(t, c, http.MethodPost, url, hdr, small); got.code != http.StatusOK {
		t.Errorf("small request that fits beside it: %d, want 200", got.code)
	}
	if _, err := pw.Write(big[len(big)/2:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := <-slow; code != http.StatusOK {
		t.Errorf("slow request: %d, want 200", code)
	}
	if got := do(t, c, http.MethodPost, url, hdr, big); got.code != http.StatusOK {
		t.Errorf("large request alone afterwards: %d, want 200", got.code)
	}
	if got := do(t, c, http.MethodPost, url, hdr, huge); got.code != http.StatusRequestEntityTooLarge {
		t.Errorf("request that alone passes the bound: %d, want 413", got.code)
	}
	if st := s.Stats(); st.Throttled != 1 || st.TooLarge != 1 {
		t.Errorf("Throttled, TooLarge = %d, %d; want 1, 1", st.Throttled, st.TooLarge)
	}
	if used := s.inflight.used.Load(); used != 0 {
		t.Errorf("in-flight bytes after every request ended = %d, want 0", used)
	}
	if n := len(col.all().Spans); n != 2100 {
		t.Errorf("spans received = %d, want 2100 (the refused requests' are not)", n)
	}
}
