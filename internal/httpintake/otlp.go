package httpintake

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/graphsignal/graphsignal/internal/telemetry"
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

// otlpCodec decodes one signal's export request into a batch and encodes the
// matching (empty, fully successful) export response.
type otlpCodec interface {
	unmarshal(body []byte, isJSON bool) error
	marshalResponse(isJSON bool) ([]byte, error)
}

type tracesCodec struct{ req ptraceotlp.ExportRequest }

func (c *tracesCodec) unmarshal(b []byte, isJSON bool) error {
	if isJSON {
		return c.req.UnmarshalJSON(b)
	}
	return c.req.UnmarshalProto(b)
}

func (c *tracesCodec) marshalResponse(isJSON bool) ([]byte, error) {
	if isJSON {
		return ptraceotlp.NewExportResponse().MarshalJSON()
	}
	return ptraceotlp.NewExportResponse().MarshalProto()
}

type metricsCodec struct{ req pmetricotlp.ExportRequest }

func (c *metricsCodec) unmarshal(b []byte, isJSON bool) error {
	if isJSON {
		return c.req.UnmarshalJSON(b)
	}
	return c.req.UnmarshalProto(b)
}

func (c *metricsCodec) marshalResponse(isJSON bool) ([]byte, error) {
	if isJSON {
		return pmetricotlp.NewExportResponse().MarshalJSON()
	}
	return pmetricotlp.NewExportResponse().MarshalProto()
}

type logsCodec struct{ req plogotlp.ExportRequest }

func (c *logsCodec) unmarshal(b []byte, isJSON bool) error {
	if isJSON {
		return c.req.UnmarshalJSON(b)
	}
	return c.req.UnmarshalProto(b)
}

func (c *logsCodec) marshalResponse(isJSON bool) ([]byte, error) {
	if isJSON {
		return plogotlp.NewExportResponse().MarshalJSON()
	}
	return plogotlp.NewExportResponse().MarshalProto()
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
	body, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		s.otlpError(w, isJSON, statusFor(err), err)
		return
	}
	var codec otlpCodec
	switch sig {
	case otlpTraces:
		codec = &tracesCodec{req: ptraceotlp.NewExportRequest()}
	case otlpMetrics:
		codec = &metricsCodec{req: pmetricotlp.NewExportRequest()}
	default:
		codec = &logsCodec{req: plogotlp.NewExportRequest()}
	}
	if err := codec.unmarshal(body, isJSON); err != nil {
		s.otlpError(w, isJSON, http.StatusBadRequest, fmt.Errorf("decode otlp request: %w", err))
		return
	}
	now := s.cfg.Now()
	var b telemetry.Batch
	switch c := codec.(type) {
	case *tracesCodec:
		b.Spans = s.convertTraces(c.req.Traces(), now)
	case *metricsCodec:
		b.Metrics = s.convertMetrics(c.req.Metrics(), now)
	case *logsCodec:
		b.Logs = s.convertLogs(c.req.Logs(), now)
	}
	s.stats.batch(&b)
	s.consume(b)

	resp, err := codec.marshalResponse(isJSON)
	if err != nil {
		s.otlpError(w, isJSON, http.StatusInternalServerError, fmt.Errorf("encode otlp response: %w", err))
		return
	}
	if isJSON {
		w.Header().Set("Content-Type", ctJSON)
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
	}
	msg := err.Error()
	if errors.Is(err, errTooLarge) {
		msg = fmt.Sprintf("%s (limit %d bytes)", msg, s.cfg.MaxBodyBytes)
	}
	// gRPC codes: 3 InvalidArgument, 8 ResourceExhausted, 13 Internal.
	rpcCode := 3
	switch code {
	case http.StatusRequestEntityTooLarge:
		rpcCode = 8
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
		body = protowire.AppendTag(body, 1, protowire.VarintType)
		body = protowire.AppendVarint(body, uint64(rpcCode))
		body = protowire.AppendTag(body, 2, protowire.BytesType)
		body = protowire.AppendString(body, msg)
	}
	w.WriteHeader(code)
	_, _ = w.Write(body)
}
