package httpintake

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/graphsignal/graphsignal/internal/telemetry"
	"github.com/graphsignal/graphsignal/internal/wire"
)

// otlpSignal selects one of the three OTLP routes.
type otlpSignal int

const (
	otlpTraces otlpSignal = iota
	otlpMetrics
	otlpLogs
)

const (
	ctProtobuf = "application/x-protobuf"
	ctJSON     = "application/json"
)

// The OTLP export requests (ExportTraceServiceRequest and its siblings) have
// the same wire form as pdata's TracesData, MetricsData and LogsData (field 1,
// the repeated resource records), so pdata's plain unmarshalers decode them,
// in protobuf and in OTLP JSON (hex ids), without pulling in the gRPC
// service packages. A fully successful export response is the empty message:
// no bytes in protobuf, {} in JSON.

// decodeOTLP decodes the body of one signal's export request into b.
func (s *Server) decodeOTLP(sig otlpSignal, body []byte, isJSON bool, now time.Time, b *telemetry.Batch) error {
	switch sig {
	case otlpTraces:
		var t ptrace.Traces
		var err error
		if isJSON {
			t, err = (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(body)
		} else {
			t, err = (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(body)
		}
		if err != nil {
			return err
		}
		b.Spans = s.convertTraces(t, now)
	case otlpMetrics:
		var m pmetric.Metrics
		var err error
		if isJSON {
			m, err = (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(body)
		} else {
			m, err = (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(body)
		}
		if err != nil {
			return err
		}
		b.Metrics = s.convertMetrics(m, now)
	default:
		var l plog.Logs
		var err error
		if isJSON {
			l, err = (&plog.JSONUnmarshaler{}).UnmarshalLogs(body)
		} else {
			l, err = (&plog.ProtoUnmarshaler{}).UnmarshalLogs(body)
		}
		if err != nil {
			return err
		}
		b.Logs = s.convertLogs(l, now)
	}
	return nil
}

// handleOTLP serves POST /v1/{traces,metrics,logs}.
func (s *Server) handleOTLP(w http.ResponseWriter, r *http.Request, sig otlpSignal) {
	if !allowMethod(w, r, http.MethodPost) {
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != ctProtobuf && mt != ctJSON) {
		s.stats.unsupportedMedia.Add(1)
		http.Error(w, "unsupported content type: want application/x-protobuf or application/json", http.StatusUnsupportedMediaType)
		return
	}
	isJSON := mt == ctJSON
	body, err := readBody(w, r, s.cfg.MaxBodyBytes, isJSON)
	if err != nil {
		s.otlpError(w, isJSON, statusFor(err), err)
		return
	}
	var b telemetry.Batch
	if err := s.decodeOTLP(sig, body, isJSON, s.cfg.Now(), &b); err != nil {
		s.otlpError(w, isJSON, http.StatusBadRequest, fmt.Errorf("decode otlp request: %w", err))
		return
	}
	s.stats.batch(&b)
	s.consume(b)

	var resp []byte // the empty export response
	if isJSON {
		w.Header().Set("Content-Type", ctJSON)
		resp = []byte("{}")
	} else {
		w.Header().Set("Content-Type", ctProtobuf)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(resp)
}

// otlpError counts the failure and answers with a google.rpc.Status in the
// request's encoding, as OTLP/HTTP specifies for 4xx/5xx replies.
func (s *Server) otlpError(w http.ResponseWriter, isJSON bool, code int, err error) {
	switch code {
	case http.StatusRequestEntityTooLarge:
		s.stats.tooLarge.Add(1)
	case http.StatusUnsupportedMediaType:
		s.stats.unsupportedMedia.Add(1)
	case http.StatusBadRequest:
		s.stats.badRequests.Add(1)
	case http.StatusTooManyRequests:
		s.stats.throttled.Add(1)
		w.Header().Set("Retry-After", "1")
	}
	msg := err.Error()
	if errors.Is(err, errTooLarge) && !errors.Is(err, errDecodeTooLarge) {
		msg = fmt.Sprintf("%s (limit %d bytes)", msg, s.cfg.MaxBodyBytes)
	}
	// gRPC codes: 3 InvalidArgument, 8 ResourceExhausted, 13 Internal.
	rpcCode := 3
	switch code {
	case http.StatusRequestEntityTooLarge:
		rpcCode = 8
	case http.StatusTooManyRequests:
		rpcCode = 14 // Unavailable
	case http.StatusInternalServerError:
		rpcCode = 13
	}
	var body []byte
	if isJSON {
		w.Header().Set("Content-Type", ctJSON)
		body, _ = json.Marshal(struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}{rpcCode, msg})
	} else {
		w.Header().Set("Content-Type", ctProtobuf)
		body = wire.AppendTag(body, 1, wire.VarintType)
		body = wire.AppendVarint(body, uint64(rpcCode))
		body = wire.AppendTag(body, 2, wire.BytesType)
		body = wire.AppendString(body, msg)
	}
	w.WriteHeader(code)
	_, _ = w.Write(body)
}
