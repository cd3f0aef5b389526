package gsapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestWarmSendsNothingChangesNothing checks that Warm sends no request
// and that a warmed Sender sends, request for request, what a cold one
// does (counters go as deltas, so series state Warm touched would show).
func TestWarmSendsNothingChangesNothing(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Errorf("gzip: %v", err)
			return
		}
		b, _ := io.ReadAll(zr)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
	}))
	defer srv.Close()
	batch := func(v float64) telemetry.Batch {
		b := telemetry.Batch{Spans: []telemetry.Span{failedRun()}}
		b.Metrics = []telemetry.Metric{{TraceID: testTrace, Name: "process.cpu.time", Kind: telemetry.Counter, Unit: "s",
			Tags: runTags.Clone(), Time: t0.Add(time.Second), Value: v}}
		return b
	}
	send := func(warm bool) [][]byte {
		mu.Lock()
		bodies = nil
		mu.Unlock()
		s := newSender(t, srv.URL, nil)
		if warm {
			s.Warm()
			mu.Lock()
			n := len(bodies)
			mu.Unlock()
			if n != 0 {
				t.Fatalf("Warm sent %d requests", n)
			}
		}
		for _, v := range []float64{1, 3} {
			if _, err := s.Send(context.Background(), batch(v)); err != nil {
				t.Fatal(err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		return bodies
	}
	cold, warm := send(false), send(true)
	if len(cold) != 2 || len(warm) != 2 {
		t.Fatalf("requests: cold %d, warm %d; want 2 each", len(cold), len(warm))
	}
	for i := range cold {
		if !bytes.Equal(cold[i], warm[i]) {
			t.Errorf("request %d differs after Warm", i)
		}
	}
}
