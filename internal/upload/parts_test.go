package upload_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
	"github.com/graphsignal/graphsignal/internal/upload"
	"github.com/graphsignal/graphsignal/internal/upload/otlpexport"
)

// TestAcceptedPartsNotResent: an OTLP batch whose traces a Collector
// accepted and whose metrics it refused (503) stays pending; the next
// process that sends the journal (a fresh Sender and Shipper: only the
// spool is shared) sends the metrics alone, not the traces again.
func TestAcceptedPartsNotResent(t *testing.T) {
	var mu sync.Mutex
	metricsUp := false
	got := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got[r.URL.Path]++
		if r.URL.Path == "/v1/metrics" && !metricsUp {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	sender := func() *otlpexport.Sender { return tracesAndMetrics(t, srv.URL) }
	d := spool.Open(t.TempDir())
	first := sender()
	writeTwoSignalJournal(t, d, first.Name())

	// The first process: one try, the metrics refused.
	s1, err := upload.New(upload.Config{Sender: first, Spool: d, MaxRetryTime: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s1.Drain(ctx, nil); err == nil {
		t.Fatal("Drain with the metrics refused = nil, want the journal pending")
	}
	mu.Lock()
	tracesSent := got["/v1/traces"]
	metricsUp = true
	mu.Unlock()
	if tracesSent == 0 {
		t.Fatal("the first process sent no traces")
	}

	// The next process.
	s2, err := upload.New(upload.Config{Sender: sender(), Spool: d})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Drain(ctx, nil); err != nil {
		t.Fatalf("second Drain: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got["/v1/traces"] != tracesSent {
		t.Errorf("traces sent %d times in all, want %d: the accepted part was sent again", got["/v1/traces"], tracesSent)
	}
	if p, err := upload.PendingOf(d, first.Name()); err != nil || p.Journals != 0 {
		t.Errorf("pending after the second process: %+v, %v", p, err)
	}
}

// TestAcceptedPartsSavedWhileRetrying: the accepted parts are saved as soon
// as an attempt fails, not when the retries end, so that a process killed
// while it retries (a cancelled CI job) leaves them for the next one.
func TestAcceptedPartsSavedWhileRetrying(t *testing.T) {
	var mu sync.Mutex
	metricsTries := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/metrics" {
			mu.Lock()
			metricsTries++
			mu.Unlock()
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	snd := tracesAndMetrics(t, srv.URL)
	d := spool.Open(t.TempDir())
	writeTwoSignalJournal(t, d, snd.Name())
	s, err := upload.New(upload.Config{Sender: snd, Spool: d, MaxRetryTime: time.Minute, InitialInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Drain(ctx, nil) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := d.LoadState(snd.Name(), "run", spool.AcceptedParts, 0); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no accepted parts saved while the request is retried")
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	tries := metricsTries
	mu.Unlock()
	cancel()
	<-done
	if tries != 1 {
		t.Errorf("metrics tried %d times before the parts were saved, want 1 (saved after the first failure)", tries)
	}
}

// tracesAndMetrics is an OTLP/HTTP Sender of traces and metrics to base.
func tracesAndMetrics(t *testing.T, base string) *otlpexport.Sender {
	t.Helper()
	s, err := otlpexport.New(otlpexport.Config{
		Traces:  otlpexport.Signal{URL: base + "/v1/traces", Protocol: otlpexport.ProtocolHTTPProtobuf},
		Metrics: otlpexport.Signal{URL: base + "/v1/metrics", Protocol: otlpexport.ProtocolHTTPProtobuf},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.CloseIdleConnections)
	return s
}

// writeTwoSignalJournal writes the final journal "run", pending for dest:
// one batch of a run span and a metric point, so that an OTLP Sender sends
// it as two requests.
func writeTwoSignalJournal(t *testing.T, d *spool.Dir, dest string) {
	t.Helper()
	if err := d.Expect(dest, "run"); err != nil {
		t.Fatal(err)
	}
	w, err := journal.Create(d.JournalDir(), "run", 0)
	if err != nil {
		t.Fatal(err)
	}
	trace, start := telemetry.TraceID{9}, time.Unix(1700000000, 0)
	tags := telemetry.Tags{telemetry.TagSessionID: "s", telemetry.TagDeployment: "job"}
	if err := w.Append(telemetry.Batch{
		Spans: []telemetry.Span{{TraceID: trace, SpanID: telemetry.SpanID{1}, Name: "job", Start: start, End: start.Add(time.Second), Tags: tags,
			Attributes: map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun}}},
		Metrics: []telemetry.Metric{{TraceID: trace, Name: "process.cpu.usage", Kind: telemetry.Gauge, Tags: tags, Time: start, Value: 1}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
