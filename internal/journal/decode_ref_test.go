package journal

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// The journal's first decoder, kept as the reference for decodeBatch: the
// line format as Go types for encoding/json.

type (
	wireBatch struct {
		Spans   []wireSpan   `json:"spans,omitempty"`
		Metrics []wireMetric `json:"metrics,omitempty"`
		Scores  []wireScore  `json:"scores,omitempty"`
		Logs    []wireLog    `json:"logs,omitempty"`
		// SDKUploads' bodies are base64 (encoding/json's []byte).
		SDKUploads []wireSDKUpload `json:"sdk_uploads,omitempty"`
	}
	wireSDKUpload struct {
		Time int64  `json:"time,omitempty"`
		Body []byte `json:"body"`
	}
	wireSpan struct {
		TraceID       string               `json:"trace_id,omitempty"`
		SpanID        string               `json:"span_id,omitempty"`
		ParentSpanID  string               `json:"parent_span_id,omitempty"`
		Name          string               `json:"name,omitempty"`
		Start         int64                `json:"start,omitempty"`
		End           int64                `json:"end,omitempty"`
		Tags          telemetry.Tags       `json:"tags,omitempty"`
		Attributes    map[string]wireValue `json:"attributes,omitempty"`
		Status        telemetry.Status     `json:"status,omitempty"`
		StatusMessage string               `json:"status_message,omitempty"`
		Events        []wireEvent          `json:"events,omitempty"`
		Exceptions    []wireException      `json:"exceptions,omitempty"`
		Payloads      []telemetry.Payload  `json:"payloads,omitempty"`
		Usage         []wireUsage          `json:"usage,omitempty"`
		Scores        []wireScore          `json:"scores,omitempty"`
		InSDKUpload   bool                 `json:"in_sdk_upload,omitempty"`
	}
	wireEvent struct {
		Name       string               `json:"name,omitempty"`
		Time       int64                `json:"time,omitempty"`
		Attributes map[string]wireValue `json:"attributes,omitempty"`
	}
	wireException struct {
		Type       string `json:"type,omitempty"`
		Message    string `json:"message,omitempty"`
		StackTrace string `json:"stack_trace,omitempty"`
		Time       int64  `json:"time,omitempty"`
	}
	wireUsage struct {
		PayloadName string    `json:"payload_name,omitempty"`
		Name        string    `json:"name,omitempty"`
		Value       wireFloat `json:"value"`
	}
	wireScore struct {
		Name     string         `json:"name,omitempty"`
		Value    wireFloat      `json:"value"`
		Unit     string         `json:"unit,omitempty"`
		Comment  string         `json:"comment,omitempty"`
		Severity int            `json:"severity,omitempty"`
		Tags     telemetry.Tags `json:"tags,omitempty"`
		TraceID  string         `json:"trace_id,omitempty"`
		SpanID   string         `json:"span_id,omitempty"`
		Time     int64          `json:"time,omitempty"`
	}
	wireMetric struct {
		TraceID     string               `json:"trace_id,omitempty"`
		Name        string               `json:"name,omitempty"`
		Kind        telemetry.MetricKind `json:"kind,omitempty"`
		Unit        string               `json:"unit,omitempty"`
		Tags        telemetry.Tags       `json:"tags,omitempty"`
		Time        int64                `json:"time,omitempty"`
		Value       wireFloat            `json:"value"`
		Buckets     []wireFloat          `json:"buckets,omitempty"`
		Counts      []uint64             `json:"counts,omitempty"`
		Count       uint64               `json:"count,omitempty"`
		Sum         wireFloat            `json:"sum"`
		InSDKUpload bool                 `json:"in_sdk_upload,omitempty"`
	}
	wireLog struct {
		Time        int64          `json:"time,omitempty"`
		Level       string         `json:"level,omitempty"`
		Message     string         `json:"message,omitempty"`
		Exception   string         `json:"exception,omitempty"`
		Tags        telemetry.Tags `json:"tags,omitempty"`
		TraceID     string         `json:"trace_id,omitempty"`
		SpanID      string         `json:"span_id,omitempty"`
		InSDKUpload bool           `json:"in_sdk_upload,omitempty"`
	}
	// wireValue is an attribute value with its type; exactly one field is set.
	wireValue struct {
		S *string    `json:"s,omitempty"`
		I *int64     `json:"i,omitempty"`
		F *wireFloat `json:"f,omitempty"`
		B *bool      `json:"b,omitempty"`
		A []string   `json:"a,omitempty"`
	}
	// wireFloat is a float64 that also holds NaN and ±Inf (as strings).
	wireFloat float64
)

func (f *wireFloat) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"NaN"`:
		*f = wireFloat(math.NaN())
	case `"+Inf"`:
		*f = wireFloat(math.Inf(1))
	case `"-Inf"`:
		*f = wireFloat(math.Inf(-1))
	default:
		v, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("bad number %.20q", b)
		}
		*f = wireFloat(v)
	}
	return nil
}

// decodeBatchJSON is the decoder decodeBatch replaced: encoding/json into
// the wire types above, then into the model. It stays as the reference
// that FuzzDecodeBatchDifferential holds decodeBatch to.
func decodeBatchJSON(line []byte) (telemetry.Batch, error) {
	var w wireBatch
	if err := json.Unmarshal(line, &w); err != nil {
		return telemetry.Batch{}, fmt.Errorf("decode batch: %w", err)
	}
	var b telemetry.Batch
	var err error
	if len(w.Spans) > 0 {
		b.Spans = make([]telemetry.Span, len(w.Spans))
		for i := range w.Spans {
			if b.Spans[i], err = refSpanFromWire(&w.Spans[i]); err != nil {
				return telemetry.Batch{}, err
			}
		}
	}
	if len(w.Metrics) > 0 {
		b.Metrics = make([]telemetry.Metric, len(w.Metrics))
		for i := range w.Metrics {
			if b.Metrics[i], err = refMetricFromWire(&w.Metrics[i]); err != nil {
				return telemetry.Batch{}, err
			}
		}
	}
	if len(w.Scores) > 0 {
		b.Scores = make([]telemetry.Score, len(w.Scores))
		for i := range w.Scores {
			if b.Scores[i], err = refScoreFromWire(&w.Scores[i]); err != nil {
				return telemetry.Batch{}, err
			}
		}
	}
	if len(w.Logs) > 0 {
		b.Logs = make([]telemetry.Log, len(w.Logs))
		for i := range w.Logs {
			l := &w.Logs[i]
			out := telemetry.Log{Time: telemetry.FromUnixNano(l.Time), Level: l.Level, Message: l.Message,
				Exception: l.Exception, Tags: l.Tags, InSDKUpload: l.InSDKUpload}
			if out.TraceID, err = refTraceID(l.TraceID); err != nil {
				return telemetry.Batch{}, err
			}
			if out.SpanID, err = refSpanID(l.SpanID); err != nil {
				return telemetry.Batch{}, err
			}
			b.Logs[i] = out
		}
	}
	if len(w.SDKUploads) > 0 {
		b.SDKUploads = make([]telemetry.SDKUpload, len(w.SDKUploads))
		for i, u := range w.SDKUploads {
			b.SDKUploads[i] = telemetry.SDKUpload{Time: telemetry.FromUnixNano(u.Time), Body: u.Body}
		}
	}
	return b, nil
}

func refSpanFromWire(w *wireSpan) (telemetry.Span, error) {
	s := telemetry.Span{
		Name: w.Name, Start: telemetry.FromUnixNano(w.Start), End: telemetry.FromUnixNano(w.End), Tags: w.Tags,
		Attributes: refAttrsFromWire(w.Attributes), Status: w.Status, StatusMessage: w.StatusMessage,
		Payloads: w.Payloads, InSDKUpload: w.InSDKUpload,
	}
	var err error
	if s.TraceID, err = refTraceID(w.TraceID); err != nil {
		return s, err
	}
	if s.SpanID, err = refSpanID(w.SpanID); err != nil {
		return s, err
	}
	if s.ParentSpanID, err = refSpanID(w.ParentSpanID); err != nil {
		return s, err
	}
	for _, e := range w.Events {
		s.Events = append(s.Events, telemetry.Event{Name: e.Name, Time: telemetry.FromUnixNano(e.Time), Attributes: refAttrsFromWire(e.Attributes)})
	}
	for _, e := range w.Exceptions {
		s.Exceptions = append(s.Exceptions, telemetry.Exception{Type: e.Type, Message: e.Message, StackTrace: e.StackTrace, Time: telemetry.FromUnixNano(e.Time)})
	}
	for _, u := range w.Usage {
		s.Usage = append(s.Usage, telemetry.Usage{PayloadName: u.PayloadName, Name: u.Name, Value: float64(u.Value)})
	}
	for i := range w.Scores {
		sc, err := refScoreFromWire(&w.Scores[i])
		if err != nil {
			return s, err
		}
		s.Scores = append(s.Scores, sc)
	}
	return s, nil
}

func refScoreFromWire(w *wireScore) (telemetry.Score, error) {
	s := telemetry.Score{Name: w.Name, Value: float64(w.Value), Unit: w.Unit, Comment: w.Comment,
		Severity: w.Severity, Tags: w.Tags, Time: telemetry.FromUnixNano(w.Time)}
	var err error
	if s.TraceID, err = refTraceID(w.TraceID); err != nil {
		return s, err
	}
	s.SpanID, err = refSpanID(w.SpanID)
	return s, err
}

func refMetricFromWire(w *wireMetric) (telemetry.Metric, error) {
	m := telemetry.Metric{Name: w.Name, Kind: w.Kind, Unit: w.Unit, Tags: w.Tags, Time: telemetry.FromUnixNano(w.Time),
		Value: float64(w.Value), Counts: w.Counts, Count: w.Count, Sum: float64(w.Sum), InSDKUpload: w.InSDKUpload}
	for _, b := range w.Buckets {
		m.Buckets = append(m.Buckets, float64(b))
	}
	var err error
	m.TraceID, err = refTraceID(w.TraceID)
	return m, err
}

func refAttrsFromWire(m map[string]wireValue) map[string]any {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch {
		case v.S != nil:
			out[k] = *v.S
		case v.I != nil:
			out[k] = *v.I
		case v.F != nil:
			out[k] = float64(*v.F)
		case v.B != nil:
			out[k] = *v.B
		default:
			a := v.A
			if a == nil {
				a = []string{}
			}
			out[k] = a
		}
	}
	return out
}

func refTraceID(s string) (telemetry.TraceID, error) {
	if s == "" {
		return telemetry.TraceID{}, nil
	}
	return telemetry.ParseTraceID(s)
}

func refSpanID(s string) (telemetry.SpanID, error) {
	if s == "" {
		return telemetry.SpanID{}, nil
	}
	return telemetry.ParseSpanID(s)
}
