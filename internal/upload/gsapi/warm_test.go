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

// TestWarmOpensTheFirstConnection checks that Warm opens one connection
// without sending on it, that the first Send takes it (no second
// connection), that CloseIdleConnections closes it when no Send did, and
// that with a caller's Client nothing is dialled ahead.
func TestWarmOpensTheFirstConnection(t *testing.T) {
	tests := []struct {
		name      string
		send      bool
		ownClient bool
		wantConns int32
	}{
		{name: "taken by the first send", send: true, wantConns: 1},
		{name: "closed unused", send: false, wantConns: 1},
		{name: "caller's client", send: true, ownClient: true, wantConns: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPIServer(t)
			var mod func(*Config)
			if tt.ownClient {
				mod = func(c *Config) { c.Client = &http.Client{Transport: &http.Transport{}} }
			}
			s := newSender(t, srv.URL, mod)
			s.Warm()
			if tt.ownClient {
				if s.pre != nil {
					t.Fatal("a dialer ahead with the caller's client")
				}
			} else {
				waitFor(t, "the connection dialled ahead", func() bool { return srv.conns.Load() == 1 })
			}
			srv.mu.Lock()
			n := len(srv.got)
			srv.mu.Unlock()
			if n != 0 {
				t.Fatalf("Warm sent %d requests", n)
			}
			if tt.send {
				for range 2 {
					if _, err := s.Send(context.Background(), telemetry.Batch{Spans: []telemetry.Span{failedRun()}}); err != nil {
						t.Fatal(err)
					}
				}
				srv.last(t)
			} else {
				s.CloseIdleConnections()
				waitFor(t, "the connection closed", func() bool { return srv.closed.Load() == 1 })
			}
			if c := srv.conns.Load(); c != tt.wantConns {
				t.Errorf("connections = %d, want %d", c, tt.wantConns)
			}
		})
	}
}

// waitFor waits up to 10 s for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
