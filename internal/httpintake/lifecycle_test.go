package httpintake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestStartConfigErrors(t *testing.T) {
	col := &collector{}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no trace", Config{RunSpanID: testRunSpan, Consumer: col}},
		{"no run span", Config{TraceID: testTrace, Consumer: col}},
		{"no consumer", Config{TraceID: testTrace, RunSpanID: testRunSpan}},
	}
	for _, tt := range tests {
		if s, err := Bind(context.Background(), tt.cfg); !errors.Is(err, ErrConfig) || s != nil {
			t.Errorf("%s: Start = %v, %v; want ErrConfig", tt.name, s, err)
		}
	}
}

func TestEndpoint(t *testing.T) {
	a, _ := startIntake(t, nil)
	b, _ := startIntake(t, nil)
	re := regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+/[0-9a-f]{32}$`)
	if !re.MatchString(a.Endpoint()) {
		t.Errorf("Endpoint() = %q, want http://127.0.0.1:PORT/<32 hex>", a.Endpoint())
	}
	ua, _ := url.Parse(a.Endpoint())
	ub, _ := url.Parse(b.Endpoint())
	if ua.Path == ub.Path {
		t.Errorf("two intakes share the prefix %q", ua.Path)
	}
}

// TestSlowClient: a client that sends headers and then trickles (or stops
// sending) its body is cut off by the read timeout, and Close still returns.
func TestSlowClient(t *testing.T) {
	s, col := startIntake(t, func(c *Config) { c.ReadTimeout = 300 * time.Millisecond })
	u, _ := url.Parse(s.Endpoint())
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s/v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000\r\n\r\npartial", u.Path)
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	start := time.Now()
	reply, _ := io.ReadAll(conn) // returns when the server closes the connection
	if time.Since(start) > 15*time.Second {
		t.Fatalf("server held a stalled request for %v", time.Since(start))
	}
	if b := col.all(); b.Len() != 0 {
		t.Errorf("consumed data from a truncated request")
	}
	if len(reply) > 0 && !regexp.MustCompile(`^HTTP/1.1 400`).Match(reply) {
		t.Errorf("reply %q, want nothing or 400", reply)
	}
}

func TestCloseStopsServing(t *testing.T) {
	col := &collector{}
	s, err := start(context.Background(), Config{TraceID: testTrace, RunSpanID: testRunSpan, Consumer: col})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(s.Endpoint())
	// A client that connects and never writes must not hold Close (net/http
	// alone would wait 5s for it, past this deadline).
	idle, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		s.connMu.Lock()
		n := len(s.newConns)
		s.connMu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		runtime.Gosched()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if c, err := net.Dial("tcp", u.Host); err == nil {
		c.Close()
		t.Errorf("still listening on %s after Close", u.Host)
	}
}

// TestConcurrentClients posts from several clients at once (run with -race).
func TestConcurrentClients(t *testing.T) {
	s, col := startIntake(t, nil)
	pb, err := ptraceotlp.NewExportRequestFromTraces(testTraces()).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	const clients, requests = 8, 20
	var wg sync.WaitGroup
	for range clients {
		c := newClient(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range requests {
				resp, err := c.Post(s.Endpoint()+"/v1/traces", ctProtobuf, bytes.NewReader(pb))
				if err != nil {
					t.Errorf("post: %v", err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got, want := len(col.all().Spans), clients*requests*3; got != want {
		t.Errorf("got %d spans, want %d", got, want)
	}
	metrics := s.Metrics(t0)
	byName := map[string]telemetry.Metric{}
	for _, m := range metrics {
		byName[m.Name+"/"+m.Tags["route"]] = m
	}
	if m := byName["graphsignal.intake.http.requests/traces"]; m.Value != clients*requests || m.Kind != telemetry.Counter || m.TraceID != testTrace {
		t.Errorf("requests metric = %+v, want %d", m, clients*requests)
	}
	if m := byName["graphsignal.intake.http.spans/"]; m.Value != clients*requests*3 || m.Tags["session_id"] != "s-1" {
		t.Errorf("spans metric = %+v", m)
	}
}
