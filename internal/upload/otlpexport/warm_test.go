package otlpexport

import (
	"bytes"
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestWarmSendsNothingChangesNothing checks, for each HTTP protocol, that
// Warm opens the traces and metrics connections and sends no request on
// them, that the Send then uses them rather than others (the logs endpoint
// dials its own), and that a warmed Sender
// sends what a cold one does (the converter's state included: the run's
// resource comes from the run span only).
func TestWarmSendsNothingChangesNothing(t *testing.T) {
	for _, protocol := range []string{ProtocolHTTPProtobuf, ProtocolHTTPJSON} {
		t.Run(protocol, func(t *testing.T) {
			send := func(warm bool) [][]byte {
				r := newReceiver(t)
				s := newSender(t, r.config(protocol))
				if warm {
					s.Warm()
					waitFor(t, "the connections dialled ahead", func() bool { return r.conns.Load() == 2 })
					if n := len(r.requests()); n != 0 {
						t.Fatalf("Warm sent %d requests, want none", n)
					}
				}
				if _, err := s.Send(context.Background(), testBatch()); err != nil {
					t.Fatal(err)
				}
				if c := r.conns.Load(); c != 3 {
					t.Errorf("warm %v: %d connections, want 3 (one per signal)", warm, c)
				}
				var out [][]byte
				for _, rec := range r.requests() {
					out = append(out, encoded(t, rec))
				}
				return out
			}
			cold, warm := send(false), send(true)
			if len(cold) == 0 || len(cold) != len(warm) {
				t.Fatalf("requests: cold %d, warm %d", len(cold), len(warm))
			}
			for i := range cold {
				if !bytes.Equal(cold[i], warm[i]) {
					t.Errorf("request %d differs after Warm", i)
				}
			}
		})
	}
}

// TestWarmConnectionUnusedIsClosed checks that CloseIdleConnections
// closes a connection that Warm opened and no Send took, and that the
// Sender still sends afterwards.
func TestWarmConnectionUnusedIsClosed(t *testing.T) {
	r := newReceiver(t)
	s := newSender(t, r.config(ProtocolHTTPProtobuf))
	s.Warm()
	waitFor(t, "the connections dialled ahead", func() bool { return r.conns.Load() == 2 })
	s.CloseIdleConnections()
	waitFor(t, "the connections closed", func() bool { return r.closed.Load() == 2 })
	if _, err := s.Send(context.Background(), testBatch()); err != nil {
		t.Fatalf("Send after CloseIdleConnections: %v", err)
	}
	if n := len(r.requests()); n == 0 {
		t.Error("no request after CloseIdleConnections")
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

// encoded is what rec carried, encoded again, for comparison.
func encoded(t *testing.T, rec received) []byte {
	t.Helper()
	var b []byte
	var err error
	switch {
	case rec.traces != (ptrace.Traces{}):
		b, err = (&ptrace.ProtoMarshaler{}).MarshalTraces(rec.traces)
	case rec.metrics != (pmetric.Metrics{}):
		b, err = (&pmetric.ProtoMarshaler{}).MarshalMetrics(rec.metrics)
	case rec.logs != (plog.Logs{}):
		b, err = (&plog.ProtoMarshaler{}).MarshalLogs(rec.logs)
	}
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(rec.path+"\n"), b...)
}
