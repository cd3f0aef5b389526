package otlpexport

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestOneSignalRefused checks that a request refused as invalid (400)
// rejects only that signal's records: the other signals are sent, the
// batch counts as delivered, and Rejected and Message say what was lost.
func TestOneSignalRefused(t *testing.T) {
	for _, path := range []string{"/v1/traces", "/v1/metrics", "/v1/logs"} {
		t.Run(path, func(t *testing.T) {
			r := newReceiver(t)
			r.setAnswer(func(w http.ResponseWriter, req *http.Request) {
				if req.URL.Path == path {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			s := newSender(t, r.config(ProtocolHTTPProtobuf))
			b := testBatch()
			res, err := s.Send(context.Background(), b)
			if err != nil {
				t.Fatalf("Send() = %v, want the other signals delivered", err)
			}
			if got := len(r.requests()); got != 3 {
				t.Errorf("%d requests, want one per signal", got)
			}
			var want int
			for _, q := range r.requests() {
				if q.path != path {
					continue
				}
				switch path {
				case "/v1/traces":
					want = q.traces.SpanCount()
				case "/v1/metrics":
					want = q.metrics.DataPointCount()
				default:
					want = q.logs.LogRecordCount()
				}
			}
			if want == 0 || res.Rejected != want {
				t.Errorf("Rejected = %d, want the refused signal's %d records", res.Rejected, want)
			}
			if !strings.Contains(res.Message, "(400)") {
				t.Errorf("Message = %q, want the refusal", res.Message)
			}
			// The refusal leaves nothing behind: the next Send goes out whole.
			if _, err := s.Send(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			if got := len(r.requests()); got != 6 {
				t.Errorf("%d requests after the next Send, want 6", got)
			}
		})
	}
}

// TestEverySignalRefused: when every signal's request is refused with the
// same answer, the batch's records are all rejected and the refusal is
// said once, not once per signal.
func TestEverySignalRefused(t *testing.T) {
	r := newReceiver(t)
	r.setAnswer(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
	})
	s := newSender(t, r.config(ProtocolHTTPProtobuf))
	res, err := s.Send(context.Background(), testBatch())
	if err != nil {
		t.Fatalf("Send() = %v, want the refusal in the Result", err)
	}
	if n := strings.Count(res.Message, "(400)"); n != 1 || res.Refused == nil {
		t.Errorf("Message = %q (Refused %v), want the refusal once", res.Message, res.Refused)
	}
}

// TestInProgressRunSpanMakesNoRequest: OTLP has no in-progress spans, so
// a batch holding only the run's in-progress span sends nothing and says
// so (the Shipper then counts neither a request nor a delivered record).
func TestInProgressRunSpanMakesNoRequest(t *testing.T) {
	r := newReceiver(t)
	s := newSender(t, r.config(ProtocolHTTPProtobuf))
	run := testRun()
	run.End = time.Time{}
	res, err := s.Send(context.Background(), telemetry.Batch{Spans: []telemetry.Span{run}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.NoRequest || len(r.requests()) != 0 {
		t.Errorf("Send of an in-progress run span: NoRequest %v, %d requests; want true, none", res.NoRequest, len(r.requests()))
	}
	// Beside other records, it is counted as skipped: not delivered.
	point := telemetry.Metric{TraceID: run.TraceID, Name: "process.threads", Kind: telemetry.Gauge, Time: run.Start, Value: 1}
	res, err = s.Send(context.Background(), telemetry.Batch{Spans: []telemetry.Span{run}, Metrics: []telemetry.Metric{point},
		SDKUploads: []telemetry.SDKUpload{{Body: []byte{1}}}})
	if err != nil || res.Skipped != 2 || res.NoRequest {
		t.Errorf("Send of an in-progress run span, an SDK upload and a point: %+v, %v; want 2 skipped", res, err)
	}
}
