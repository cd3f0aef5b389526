package otlpexport

import (
	"crypto/sha256"
	"fmt"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// signalKind is traces, metrics or logs.
type signalKind int

const (
	tracesKind signalKind = iota
	metricsKind
	logsKind
)

func (k signalKind) String() string {
	switch k {
	case tracesKind:
		return "traces"
	case metricsKind:
		return "metrics"
	}
	return "logs"
}

// request is the data of one export request.
type request struct {
	kind    signalKind
	traces  ptrace.Traces
	metrics pmetric.Metrics
	logs    plog.Logs
}

// records is how many of the batch's records r holds: spans, metric data
// points or log records.
func (r request) records() int {
	switch r.kind {
	case tracesKind:
		return r.traces.SpanCount()
	case metricsKind:
		return r.metrics.DataPointCount()
	}
	return r.logs.LogRecordCount()
}

// convert maps a batch to at most one request per enabled signal, skipping
// empty ones.
func (c *converter) convert(b telemetry.Batch, traces, metrics, logs bool) []request {
	c.runs.Learn(b.Spans)
	var out []request
	if traces {
		if td, n := c.traces(b.Spans); n > 0 {
			out = append(out, request{kind: tracesKind, traces: td})
		}
	}
	if metrics {
		if md, n := c.metrics(b.Metrics); n > 0 {
			out = append(out, request{kind: metricsKind, metrics: md})
		}
	}
	if logs {
		if ld, n := c.logs(b.Logs, b.Scores); n > 0 {
			out = append(out, request{kind: logsKind, logs: ld})
		}
	}
	return out
}

// marshalProto encodes r as its Export*ServiceRequest. The request message
// is `repeated Resource* resource_* = 1`, the same as the *Data messages
// that pdata marshals, so no gRPC package is needed.
func marshalProto(r request) ([]byte, error) {
	switch r.kind {
	case tracesKind:
		var m ptrace.ProtoMarshaler
		return m.MarshalTraces(r.traces)
	case metricsKind:
		var m pmetric.ProtoMarshaler
		return m.MarshalMetrics(r.metrics)
	}
	var m plog.ProtoMarshaler
	return m.MarshalLogs(r.logs)
}

// marshalJSON encodes r in the OTLP/JSON form of its request.
func marshalJSON(r request) ([]byte, error) {
	switch r.kind {
	case tracesKind:
		var m ptrace.JSONMarshaler
		return m.MarshalTraces(r.traces)
	case metricsKind:
		var m pmetric.JSONMarshaler
		return m.MarshalMetrics(r.metrics)
	}
	var m plog.JSONMarshaler
	return m.MarshalLogs(r.logs)
}

// digest identifies an encoded request.
type digest [sha256.Size]byte

// maxAcked bounds the digests remembered across Sends.
const maxAcked = 16

func digestOf(k signalKind, body []byte) digest {
	h := sha256.New()
	h.Write([]byte{byte(k)})
	h.Write(body)
	var d digest
	h.Sum(d[:0])
	return d
}

func (s *Sender) wasAcked(d digest) bool {
	for _, a := range s.acked {
		if a == d {
			return true
		}
	}
	return false
}

func (s *Sender) remember(ds []digest) {
	s.acked = append(s.acked, ds...)
	if n := len(s.acked) - maxAcked; n > 0 {
		s.acked = append(s.acked[:0], s.acked[n:]...)
	}
}

// AcceptedParts returns the digests of the requests accepted during Sends
// that then failed on another signal, one after the other (nil when
// none): a later process that resends the batch skips them
// (upload.PartKeeper).
func (s *Sender) AcceptedParts() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.acked) == 0 {
		return nil
	}
	out := make([]byte, 0, len(s.acked)*len(digest{}))
	for _, d := range s.acked {
		out = append(out, d[:]...)
	}
	return out
}

// RestoreParts adds digests that AcceptedParts returned, in another
// process, to those not to send again.
func (s *Sender) RestoreParts(parts []byte) error {
	if len(parts)%len(digest{}) != 0 {
		return fmt.Errorf("otlp: accepted parts of %d bytes: not whole digests", len(parts))
	}
	ds := make([]digest, 0, len(parts)/len(digest{}))
	for b := parts; len(b) > 0; b = b[len(digest{}):] {
		ds = append(ds, digest(b[:len(digest{})]))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remember(ds)
	return nil
}
