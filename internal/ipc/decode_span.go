package ipc

import (
	"errors"
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
	if s.Attributes, err = attributes("attributes", w.Attributes); err != nil {
		return Message{}, err
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
	if len(w.Events) > 0 {
		s.Events = make([]telemetry.Event, 0, len(w.Events))
		for _, e := range w.Events {
			if e.Name == "" {
				return badLine(ReasonMissingField, "event without \"name\"")
			}
			at, err := timeIn(s, "events", e.TsNs)
			if err != nil {
				return err
			}
			attrs, err := attributes("events.attributes", e.Attributes)
			if err != nil {
				return err
			}
			s.Events = append(s.Events, telemetry.Event{Name: e.Name, Time: at, Attributes: attrs})
		}
	}
	if len(w.Exceptions) > 0 {
		s.Exceptions = make([]telemetry.Exception, 0, len(w.Exceptions))
		for _, e := range w.Exceptions {
			at, err := timeIn(s, "exceptions", e.TsNs)
			if err != nil {
				return err
			}
			s.Exceptions = append(s.Exceptions, telemetry.Exception{
				Type: e.Type, Message: e.Message, StackTrace: e.StackTrace, Time: at,
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
			at, err := timeIn(s, "scores", sc.TsNs)
			if err != nil {
				return err
			}
			s.Scores = append(s.Scores, telemetry.Score{
				Name: sc.Name, Value: sc.Score, Unit: sc.Unit, Comment: sc.Comment, Severity: sc.Severity,
				Tags: spanScoreTags(s.Tags, sc.Tags), TraceID: s.TraceID, SpanID: s.SpanID, Time: at,
			})
		}
	}
	return nil
}

// timeIn is the time of an entry of a span's list: ns, or the span's end
// when ns is 0.
func timeIn(s *telemetry.Span, list string, ns int64) (time.Time, error) {
	switch {
	case ns < 0:
		return time.Time{}, badLine(ReasonBadValue, "%s: negative time", list)
	case ns == 0:
		return s.End, nil
	}
	return time.Unix(0, ns), nil
}

// spanScoreTags are a span score's tags: the span's, with the score's own
// on top (empty keys dropped).
func spanScoreTags(span telemetry.Tags, own *fastjson.Object) telemetry.Tags {
	if own == nil || own.Len() == 0 {
		return span.Clone()
	}
	t := make(telemetry.Tags, len(span)+own.Len())
	for k, v := range span {
		t[k] = v
	}
	own.Visit(func(k []byte, v *fastjson.Value) {
		if b, err := v.StringBytes(); err == nil && len(k) > 0 {
			t[string(k)] = string(b)
		}
	})
	return t
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

// attributes decodes an attributes object (nil for none or an empty one).
// A number beyond float64 makes the line bad (ReasonBadValue).
func attributes(field string, o *fastjson.Object) (map[string]any, error) {
	if o == nil || o.Len() == 0 {
		return nil, nil
	}
	attrs := make(map[string]any, o.Len())
	var err error
	o.Visit(func(k []byte, v *fastjson.Value) {
		a, ok, e := attributeValue(v)
		if e != nil && err == nil {
			err = badLine(ReasonBadValue, "%s %q: %v", field, truncate(k), e)
		}
		if ok && len(k) > 0 {
			attrs[string(k)] = a
		}
	})
	if err != nil {
		return nil, err
	}
	return attrs, nil
}

var errOutOfRange = errors.New("number out of range")

// attributeValue maps a JSON value onto the attribute types of
// telemetry.Span: string, bool, int64, float64 or []string. Objects and
// other arrays are kept as compact JSON text; null is dropped. An integer
// beyond int64 becomes a float64; a number beyond float64 (1e400) is an
// error.
func attributeValue(v *fastjson.Value) (any, bool, error) {
	switch v.Type() {
	case fastjson.TypeNull:
		return nil, false, nil
	case fastjson.TypeTrue:
		return true, true, nil
	case fastjson.TypeFalse:
		return false, true, nil
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return string(b), true, nil
	case fastjson.TypeNumber:
		if i, err := v.Int64(); err == nil {
			return i, true, nil
		}
		if f, err := v.Float64(); err == nil && !math.IsInf(f, 0) {
			return f, true, nil
		}
		return nil, false, errOutOfRange
	case fastjson.TypeArray:
		a, _ := v.Array()
		ss := make([]string, 0, len(a))
		for _, e := range a {
			b, err := e.StringBytes()
			if err != nil {
				return string(v.MarshalTo(nil)), true, nil
			}
			ss = append(ss, string(b))
		}
		return ss, true, nil
	}
	return string(v.MarshalTo(nil)), true, nil
}
