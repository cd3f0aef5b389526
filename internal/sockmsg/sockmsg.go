// Package sockmsg encodes the messages of graphsignal's local socket
// protocol (docs/protocol.md) from the telemetry model: one JSON object per
// line, newline included. It is the protocol's only encoder: the Go client
// (pkg/graphsignal) and the forwarder of nested runs (internal/forward) both
// write through it, and its tests decode every field of the model back with
// the intake's decoder (internal/ipc), so that a field added to the model
// and not to the protocol fails them.
//
// The functions append to a caller's buffer and allocate nothing for the
// common field types. They are pure and safe for concurrent use.
//
// What the protocol cannot carry is lost, as documented there: a float that
// is NaN or infinite is written as null (the intake drops such an attribute
// and reads 0 elsewhere), a zero time or id is left out (the intake fills in
// the receipt time or the run's ids), and so is an empty string (the
// intake's default is empty too, except a log's level, "info").
package sockmsg

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// MaxLineBytes is the protocol's limit on one line, newline excluded: the
// intake rejects a longer one.
const MaxLineBytes = 1 << 20

// AppendSpan appends the span message of s. Payloads are written whatever
// the enclosing run's payload setting, which the intake applies; a caller
// that must leave them out passes a copy without them.
//
// The scores of a span are the span's: their trace and span ids are not
// written (the intake gives them the span's) and of their tags only those
// that differ from the span's are.
func AppendSpan(b []byte, s *telemetry.Span) []byte {
	b = append(b, `{"type":"span","name":`...)
	b = appendString(b, s.Name)
	b = appendTraceID(b, "trace_id", s.TraceID)
	b = appendSpanID(b, "span_id", s.SpanID)
	b = appendSpanID(b, "parent_span_id", s.ParentSpanID)
	b = appendTime(b, "start_ns", s.Start)
	b = appendTime(b, "end_ns", s.End)
	b = appendTags(b, "tags", s.Tags, nil)
	b = appendAttributes(b, "attributes", s.Attributes)
	// An absent status reads as error when there are exceptions.
	if s.Status != telemetry.StatusUnset || len(s.Exceptions) > 0 {
		b = appendStringField(b, "status", s.Status.String())
	}
	b = appendStringField(b, "status_message", s.StatusMessage)
	b = appendList(b, "events", s.Events, func(b []byte, i int, e *telemetry.Event) []byte {
		b = appendString(appendElem(b, i, "name"), e.Name)
		b = appendTime(b, "ts_ns", e.Time)
		return append(appendAttributes(b, "attributes", e.Attributes), '}')
	})
	b = appendList(b, "exceptions", s.Exceptions, func(b []byte, i int, e *telemetry.Exception) []byte {
		b = appendString(appendElem(b, i, "type"), e.Type)
		b = appendStringField(b, "message", e.Message)
		b = appendStringField(b, "stack_trace", e.StackTrace)
		return append(appendTime(b, "ts_ns", e.Time), '}')
	})
	b = appendList(b, "payloads", s.Payloads, appendPayload)
	b = appendList(b, "usage", s.Usage, func(b []byte, i int, u *telemetry.Usage) []byte {
		b = appendString(appendElem(b, i, "name"), u.Name)
		b = appendStringField(b, "payload_name", u.PayloadName)
		return append(appendFloat(appendKey(b, "value"), u.Value), '}')
	})
	b = appendList(b, "scores", s.Scores, func(b []byte, i int, sc *telemetry.Score) []byte {
		b = appendScoreFields(appendElem(b, i, "name"), sc)
		b = appendTags(b, "tags", sc.Tags, s.Tags)
		return append(appendTime(b, "ts_ns", sc.Time), '}')
	})
	return append(b, '}', '\n')
}

// appendList appends key and the array of items, each by elem (given its
// index, for appendElem), or nothing when there are none.
func appendList[T any](b []byte, key string, items []T, elem func(b []byte, i int, e *T) []byte) []byte {
	if len(items) == 0 {
		return b
	}
	b = append(appendKey(b, key), '[')
	for i := range items {
		b = elem(b, i, &items[i])
	}
	return append(b, ']')
}

// AppendScore appends the score message of s.
func AppendScore(b []byte, s *telemetry.Score) []byte {
	b = append(b, `{"type":"score","name":`...)
	b = appendScoreFields(b, s)
	b = appendTags(b, "tags", s.Tags, nil)
	b = appendTraceID(b, "trace_id", s.TraceID)
	b = appendSpanID(b, "span_id", s.SpanID)
	b = appendTime(b, "ts_ns", s.Time)
	return append(b, '}', '\n')
}

// appendScoreFields writes the name's value and the fields a score has in
// both forms, alone and in a span.
func appendScoreFields(b []byte, s *telemetry.Score) []byte {
	b = appendString(b, s.Name)
	b = appendFloat(appendKey(b, "score"), s.Value)
	b = appendStringField(b, "unit", s.Unit)
	b = appendStringField(b, "comment", s.Comment)
	if s.Severity != 0 {
		b = strconv.AppendInt(appendKey(b, "severity"), int64(s.Severity), 10)
	}
	return b
}

// AppendLog appends the log message of l.
func AppendLog(b []byte, l *telemetry.Log) []byte {
	b = append(b, `{"type":"log"`...)
	b = appendStringField(b, "level", l.Level)
	b = appendStringField(b, "message", l.Message)
	b = appendStringField(b, "exception", l.Exception)
	b = appendTags(b, "tags", l.Tags, nil)
	b = appendTraceID(b, "trace_id", l.TraceID)
	b = appendSpanID(b, "span_id", l.SpanID)
	b = appendTime(b, "ts_ns", l.Time)
	return append(b, '}', '\n')
}

// AppendMetric appends the metric message of m. The histogram fields are
// written for a histogram only, the only kind that has them.
func AppendMetric(b []byte, m *telemetry.Metric) []byte {
	b = append(b, `{"type":"metric","name":`...)
	b = appendString(b, m.Name)
	switch m.Kind {
	case telemetry.Gauge, telemetry.Counter, telemetry.Histogram:
		b = appendStringField(b, "kind", m.Kind.String())
	}
	b = appendFloat(appendKey(b, "value"), m.Value)
	b = appendStringField(b, "unit", m.Unit)
	b = appendTags(b, "tags", m.Tags, nil)
	b = appendTraceID(b, "trace_id", m.TraceID)
	b = appendTime(b, "ts_ns", m.Time)
	if m.Kind == telemetry.Histogram {
		b = append(appendKey(b, "buckets"), '[')
		for i, x := range m.Buckets {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendFloat(b, x)
		}
		b = append(append(b, ']'), `,"counts":[`...)
		for i, x := range m.Counts {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, x, 10)
		}
		b = append(b, ']')
		b = strconv.AppendUint(appendKey(b, "count"), m.Count, 10)
		b = appendFloat(appendKey(b, "sum"), m.Sum)
	}
	return append(b, '}', '\n')
}

// AppendTag appends the tag message that sets the context tag key to value.
func AppendTag(b []byte, key, value string) []byte {
	b = append(b, `{"type":"tag","key":`...)
	b = appendString(b, key)
	b = appendString(appendKey(b, "value"), value) // "" sets an empty value
	return append(b, '}', '\n')
}

// AppendTagRemove appends the tag message that removes the context tag key.
func AppendTagRemove(b []byte, key string) []byte {
	b = append(b, `{"type":"tag","key":`...)
	b = appendString(b, key)
	return append(b, `,"value":null}`+"\n"...)
}

// SDKUploadChunkBytes is how many body bytes one sdk_upload line carries:
// base64 makes them 683 KiB, which with the other fields stays well under
// MaxLineBytes.
const SDKUploadChunkBytes = 512 << 10

// AppendSDKUpload appends the sdk_upload lines that carry u whole to an
// enclosing run (docs/protocol.md, "sdk_upload"): its body in pieces of
// SDKUploadChunkBytes (one empty piece for an empty body), under id, which
// must be unique among the uploads of the connection. The first piece also
// carries the upload's time and the forwarding run's trace and run span
// (left out when zero), the defaults of the records the enclosing run
// decodes from it.
func AppendSDKUpload(b []byte, id string, u *telemetry.SDKUpload, trace telemetry.TraceID, runSpan telemetry.SpanID) []byte {
	body := u.Body
	for seq := 0; seq == 0 || len(body) > 0; seq++ {
		n := min(len(body), SDKUploadChunkBytes)
		b = append(b, `{"type":"sdk_upload","id":`...)
		b = appendString(b, id)
		b = strconv.AppendInt(appendKey(b, "seq"), int64(seq), 10)
		if seq == 0 {
			b = appendTime(b, "ts_ns", u.Time)
			b = appendTraceID(b, "trace_id", trace)
			b = appendSpanID(b, "parent_span_id", runSpan)
		}
		if n == len(body) {
			b = append(b, `,"last":true`...)
		}
		b = append(appendKey(b, "data"), '"')
		b = base64.StdEncoding.AppendEncode(b, body[:n])
		b = append(b, '"', '}', '\n')
		body = body[n:]
	}
	return b
}

// appendPayload writes payload i: data in the JSON of an application/json
// payload is written as that JSON, anything else as a JSON string (invalid
// JSON under application/json then arrives as that string's JSON text).
func appendPayload(b []byte, i int, p *telemetry.Payload) []byte {
	b = appendElem(b, i, "name")
	b = appendString(b, p.Name)
	b = appendStringField(b, "content_type", p.ContentType)
	if p.Data != nil {
		b = appendKey(b, "data")
		if (p.ContentType == "" || p.ContentType == "application/json") && json.Valid(p.Data) {
			b = append(b, p.Data...)
		} else {
			b = appendString(b, string(p.Data))
		}
	}
	return append(b, '}')
}

// appendElem opens element i of an array of objects at its first key.
func appendElem(b []byte, i int, key string) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	b = append(b, '{')
	b = appendString(b, key)
	return append(b, ':')
}

func appendKey(b []byte, key string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...) // keys are the protocol's own: no escaping needed
	return append(b, '"', ':')
}

// appendStringField writes key: v, nothing when v is empty.
func appendStringField(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return appendString(appendKey(b, key), v)
}

func appendTime(b []byte, key string, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	return strconv.AppendInt(appendKey(b, key), t.UnixNano(), 10)
}

func appendTraceID(b []byte, key string, id telemetry.TraceID) []byte {
	if id.IsZero() {
		return b
	}
	return appendHex(append(appendKey(b, key), '"'), id[:])
}

func appendSpanID(b []byte, key string, id telemetry.SpanID) []byte {
	if id.IsZero() {
		return b
	}
	return appendHex(append(appendKey(b, key), '"'), id[:])
}

// appendHex writes id as lower-case hex and closes the string.
func appendHex(b, id []byte) []byte {
	const digits = "0123456789abcdef"
	for _, c := range id {
		b = append(b, digits[c>>4], digits[c&0xf])
	}
	return append(b, '"')
}

// appendTags writes the entries of tags whose value differs from base's (all
// of them for a nil base), nothing when none does.
func appendTags(b []byte, key string, tags, base telemetry.Tags) []byte {
	first := true
	for k, v := range tags {
		if bv, ok := base[k]; ok && bv == v {
			continue
		}
		if first {
			b = append(appendKey(b, key), '{')
			first = false
		} else {
			b = append(b, ',')
		}
		b = append(appendString(b, k), ':')
		b = appendString(b, v)
	}
	if first {
		return b
	}
	return append(b, '}')
}

func appendAttributes(b []byte, key string, attrs map[string]any) []byte {
	if len(attrs) == 0 {
		return b
	}
	b = append(appendKey(b, key), '{')
	first := true
	for k, v := range attrs {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(appendString(b, k), ':')
		b = appendValue(b, v)
	}
	return append(b, '}')
}

// appendValue appends an attribute value as JSON: a string, bool, integer,
// float or []string as such (a float always with a fraction or exponent, so
// that the intake keeps it a float; NaN and infinities as null), anything
// else as its encoding/json text, or null when it has none.
func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return appendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int16:
		return strconv.AppendInt(b, int64(x), 10)
	case int8:
		return strconv.AppendInt(b, int64(x), 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case uint:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10)
	case float64:
		return appendFloat(b, x)
	case float32:
		return appendFloat(b, float64(x))
	case []string:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e)
		}
		return append(b, ']')
	case nil:
		return append(b, "null"...)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, raw...)
}

// appendFloat writes f as a JSON number that reads back as a float (with a
// fraction or an exponent); NaN and infinities, which JSON cannot carry, as
// null.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'g', -1, 64)
	for _, c := range b[start:] {
		if c == '.' || c == 'e' {
			return b
		}
	}
	return append(b, '.', '0')
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// so the line is always valid for the intake.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
