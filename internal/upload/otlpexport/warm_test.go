package otlpexport

import (
	"bytes"
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TestWarmSendsNothingChangesNothing checks, for each HTTP protocol, that
// Warm opens no connection and sends no request, and that a warmed Sender
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
					if n, c := len(r.requests()), r.conns.Load(); n != 0 || c != 0 {
						t.Fatalf("Warm sent %d requests on %d connections, want none", n, c)
					}
				}
				if _, err := s.Send(context.Background(), testBatch()); err != nil {
					t.Fatal(err)
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
