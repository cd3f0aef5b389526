package ipc

import (
	"math"
	"time"

	"github.com/valyala/fastjson"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// MaxSpanScores bounds the scores of one span message: each carries a copy
// of the span's tags, so more would let one line expand many times over.
const MaxSpanScores = 256

func decodeSpan(w *wire, rc *RunContext, now time.Time) (Message, error) {
	if err := requireName(w); err != nil {
		return Message{}, err
	}
	tid, err := traceOf(w.TraceID, rc)
	if err != nil {
		return Message{}, err
	}
	sid, err := spanOf(w.SpanID)
	if err != nil {
		return Message{}, err
	}
	if sid.IsZero() {
		sid = telemetry.NewSpanID()
	}
	parent, err := spanOf(w.ParentSpanID)
	if err != nil {
		return Message{}, err
	}
	if parent.IsZero() && tid == rc.TraceID && sid != rc.SpanID {
		parent = rc.SpanID
	}
	start, end, err := spanTimes(w.StartNs, w.EndNs, now)
	if err != nil {
		return Message{}, err
	}
	s := telemetry.Span{
		TraceID: tid, SpanID: sid, ParentSpanID: parent, Name: w.Name,
		Start: start, End: end, Tags: mergeTags(rc, w.Tags),
		StatusMessage: w.StatusMessage,
	}
	switch w.Status {
	case "", "unset":
	case "ok":
		s.Status = telemetry.StatusOK
	case "error":
		s.Status = telemetry.StatusError
	default:
		return Message{}, badLine(ReasonBadValue, "status %q: want ok, error or unset", w.Status)
	}
	if w.Attributes != nil && w.Attributes.Len() > 0 {
		s.Attributes = make(map[string]any, w.Attributes.Len())
		w.Attributes.Visit(func(k []byte, v *fastjson.Value) {
			if a, ok := attributeValue(v); ok && len(k) > 0 {
				s.Attributes[string(k)] = a
			}
		})
	}
	if err := spanLists(&s, w, rc); err != nil {
		return Message{}, err
	}
	return Message{Type: TypeSpan, Span: s}, nil
}

// spanTimes applies the defaults: an absent start is the end (or receipt),
// an absent end is receipt time (or the start, if that is later).
func spanTimes(startNs, endNs int64, now time.Time) (time.Time, time.Time, error) {
	switch {
	case startNs != 0 && endNs != 0:
		if endNs < startNs {
			return time.Time{}, time.Time{}, badLine(ReasonBadValue, "end_ns %d before start_ns %d", endNs, startNs)
		}
		return time.Unix(0, startNs), time.Unix(0, endNs), nil
	case endNs != 0:
		end := time.Unix(0, endNs)
		return end, end, nil
	case startNs != 0:
		start := time.Unix(0, startNs)
		if start.After(now) {
			return start, start, nil
		}
		return start, now, nil
	}
	return now, now, nil
}

func spanLists(s *telemetry.Span, w *wire, rc *RunContext) error {
	if rc.RecordPayloads && len(w.Payloads) > 0 {
		s.Payloads = make([]telemetry.Payload, 0, len(w.Payloads))
		for _, p := range w.Payloads {
			if p.Name == "" {
				return badLine(ReasonMissingField, "payload without \"name\"")
			}
			s.Payloads = append(s.Payloads, payloadOf(p))
		}
	}
	if len(w.Usage) > 0 {
		s.Usage = make([]telemetry.Usage, 0, len(w.Usage))
		for _, u := range w.Usage {
			if u.Name == "" {
				return badLine(ReasonMissingField, "usage without \"name\"")
			}
			s.Usage = append(s.Usage, telemetry.Usage{PayloadName: u.PayloadName, Name: u.Name, Value: u.Value})
		}
	}
	if len(w.Exceptions) > 0 {
		s.Exceptions = make([]telemetry.Exception, 0, len(w.Exceptions))
		for _, e := range w.Exceptions {
			s.Exceptions = append(s.Exceptions, telemetry.Exception{
				Type: e.Type, Message: e.Message, StackTrace: e.StackTrace, Time: s.End,
			})
		}
		if w.Status == "" {
			s.Status = telemetry.StatusError
		}
	}
	if len(w.Scores) > MaxSpanScores {
		return badLine(ReasonBadValue, "%d scores in one span, at most %d", len(w.Scores), MaxSpanScores)
	}
	if len(w.Scores) > 0 {
		s.Scores = make([]telemetry.Score, 0, len(w.Scores))
		for _, sc := range w.Scores {
			if sc.Name == "" {
				return badLine(ReasonMissingField, "score without \"name\"")
			}
			s.Scores = append(s.Scores, telemetry.Score{
				Name: sc.Name, Value: sc.Score, Unit: sc.Unit, Comment: sc.Comment, Severity: sc.Severity,
				Tags: s.Tags.Clone(), TraceID: s.TraceID, SpanID: s.SpanID, Time: s.End,
			})
		}
	}
	return nil
}

// payloadOf keeps a payload's data as compact JSON text, except that a
// JSON string with a content type other than application/json is stored as
// the string's bytes.
func payloadOf(p wirePayload) telemetry.Payload {
	if p.Data == nil || isNull(p.Data) {
		return telemetry.Payload{Name: p.Name, ContentType: p.ContentType}
	}
	ct := p.ContentType
	if ct == "" {
		ct = "application/json"
	}
	if p.Data.Type() == fastjson.TypeString && ct != "application/json" {
		b, _ := p.Data.StringBytes()
		return telemetry.Payload{Name: p.Name, ContentType: ct, Data: append([]byte(nil), b...)}
	}
	return telemetry.Payload{Name: p.Name, ContentType: ct, Data: p.Data.MarshalTo(nil)}
}

// attributeValue maps a JSON value onto the attribute types of
// telemetry.Span: string, bool, int64, float64 or []string. Objects and
// other arrays are kept as compact JSON text; null is dropped.
func attributeValue(v *fastjson.Value) (any, bool) {
	switch v.Type() {
	case fastjson.TypeNull:
		return nil, false
	case fastjson.TypeTrue:
		return true, true
	case fastjson.TypeFalse:
		return false, true
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return string(b), true
	case fastjson.TypeNumber:
		if i, err := v.Int64(); err == nil {
			return i, true
		}
		if f, err := v.Float64(); err == nil && !math.IsInf(f, 0) {
			return f, true
		}
		return nil, false
	case fastjson.TypeArray:
		a, _ := v.Array()
		ss := make([]string, 0, len(a))
		for _, e := range a {
			b, err := e.StringBytes()
			if err != nil {
				return string(v.MarshalTo(nil)), true
			}
			ss = append(ss, string(b))
		}
		return ss, true
	}
	return string(v.MarshalTo(nil)), true
}
