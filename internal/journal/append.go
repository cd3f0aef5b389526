package journal

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// encodeBatch returns b as one line of the format that decodeBatch reads
// (encode.go), newline included. It is written by hand rather than with
// encoding/json's reflection: a run encodes few batches, and reflection's
// first use (building encoders for every type) costs a short run more than
// all its records.
func encodeBatch(b *telemetry.Batch) []byte {
	e := encoder{buf: make([]byte, 0, sizeHint(b))}
	e.byte('{')
	first := true
	if len(b.Spans) > 0 {
		e.key("spans", &first)
		e.list(len(b.Spans), func(i int) { e.span(&b.Spans[i]) })
	}
	if len(b.Metrics) > 0 {
		e.key("metrics", &first)
		e.list(len(b.Metrics), func(i int) { e.metric(&b.Metrics[i]) })
	}
	if len(b.Scores) > 0 {
		e.key("scores", &first)
		e.list(len(b.Scores), func(i int) { e.score(&b.Scores[i]) })
	}
	if len(b.Logs) > 0 {
		e.key("logs", &first)
		e.list(len(b.Logs), func(i int) { e.log(&b.Logs[i]) })
	}
	if len(b.SDKUploads) > 0 {
		e.key("sdk_uploads", &first)
		e.list(len(b.SDKUploads), func(i int) { e.sdkUpload(&b.SDKUploads[i]) })
	}
	e.byte('}')
	e.byte('\n')
	return e.buf
}

// sizeHint is about the length of b's line, so that its buffer seldom
// grows (growing a line of many records copied it many times over).
func sizeHint(b *telemetry.Batch) int {
	n := 512 + 512*len(b.Spans) + 192*(len(b.Metrics)+len(b.Scores)+len(b.Logs))
	for i := range b.SDKUploads {
		n += 64 + len(b.SDKUploads[i].Body)*4/3
	}
	return n
}

type encoder struct{ buf []byte }

func (e *encoder) byte(c byte) { e.buf = append(e.buf, c) }

// key writes "name": after a comma unless it is the object's first key.
func (e *encoder) key(name string, first *bool) {
	if !*first {
		e.byte(',')
	}
	*first = false
	e.string(name)
	e.byte(':')
}

func (e *encoder) list(n int, item func(int)) {
	e.byte('[')
	for i := range n {
		if i > 0 {
			e.byte(',')
		}
		item(i)
	}
	e.byte(']')
}

// Field writers that, like omitempty, write nothing for a zero value.

func (e *encoder) str(name, v string, first *bool) {
	if v != "" {
		e.key(name, first)
		e.string(v)
	}
}

func (e *encoder) int(name string, v int64, first *bool) {
	if v != 0 {
		e.key(name, first)
		e.buf = strconv.AppendInt(e.buf, v, 10)
	}
}

// flag writes true, and nothing for false.
func (e *encoder) flag(name string, v bool, first *bool) {
	if v {
		e.key(name, first)
		e.buf = append(e.buf, "true"...)
	}
}

func (e *encoder) time(name string, t time.Time, first *bool) {
	e.int(name, telemetry.UnixNano(t), first)
}

func (e *encoder) tags(t telemetry.Tags, first *bool) {
	if len(t) == 0 {
		return
	}
	e.key("tags", first)
	e.byte('{')
	inner := true
	for k, v := range t {
		e.key(k, &inner)
		e.string(v)
	}
	e.byte('}')
}

func (e *encoder) span(s *telemetry.Span) {
	e.byte('{')
	first := true
	e.str("trace_id", s.TraceID.String(), &first)
	e.str("span_id", s.SpanID.String(), &first)
	e.str("parent_span_id", s.ParentSpanID.String(), &first)
	e.str("name", s.Name, &first)
	e.time("start", s.Start, &first)
	e.time("end", s.End, &first)
	e.tags(s.Tags, &first)
	e.attrs("attributes", s.Attributes, &first)
	e.int("status", int64(s.Status), &first)
	e.str("status_message", s.StatusMessage, &first)
	if len(s.Events) > 0 {
		e.key("events", &first)
		e.list(len(s.Events), func(i int) {
			ev := &s.Events[i]
			e.byte('{')
			f := true
			e.str("name", ev.Name, &f)
			e.time("time", ev.Time, &f)
			e.attrs("attributes", ev.Attributes, &f)
			e.byte('}')
		})
	}
	if len(s.Exceptions) > 0 {
		e.key("exceptions", &first)
		e.list(len(s.Exceptions), func(i int) {
			x := &s.Exceptions[i]
			e.byte('{')
			f := true
			e.str("type", x.Type, &f)
			e.str("message", x.Message, &f)
			e.str("stack_trace", x.StackTrace, &f)
			e.time("time", x.Time, &f)
			e.byte('}')
		})
	}
	if len(s.Payloads) > 0 {
		e.key("payloads", &first)
		e.list(len(s.Payloads), func(i int) {
			p := &s.Payloads[i]
			e.byte('{')
			f := true
			e.key("Name", &f)
			e.string(p.Name)
			e.key("ContentType", &f)
			e.string(p.ContentType)
			e.key("Data", &f)
			if p.Data == nil {
				e.buf = append(e.buf, "null"...)
			} else {
				e.byte('"')
				e.buf = base64.StdEncoding.AppendEncode(e.buf, p.Data)
				e.byte('"')
			}
			e.byte('}')
		})
	}
	if len(s.Usage) > 0 {
		e.key("usage", &first)
		e.list(len(s.Usage), func(i int) {
			u := &s.Usage[i]
			e.byte('{')
			f := true
			e.str("payload_name", u.PayloadName, &f)
			e.str("name", u.Name, &f)
			e.key("value", &f)
			e.float(u.Value)
			e.byte('}')
		})
	}
	if len(s.Scores) > 0 {
		e.key("scores", &first)
		e.list(len(s.Scores), func(i int) { e.score(&s.Scores[i]) })
	}
	e.flag("in_sdk_upload", s.InSDKUpload, &first)
	e.byte('}')
}

func (e *encoder) score(s *telemetry.Score) {
	e.byte('{')
	first := true
	e.str("name", s.Name, &first)
	e.key("value", &first)
	e.float(s.Value)
	e.str("unit", s.Unit, &first)
	e.str("comment", s.Comment, &first)
	e.int("severity", int64(s.Severity), &first)
	e.tags(s.Tags, &first)
	e.str("trace_id", s.TraceID.String(), &first)
	e.str("span_id", s.SpanID.String(), &first)
	e.time("time", s.Time, &first)
	e.byte('}')
}

func (e *encoder) metric(m *telemetry.Metric) {
	e.byte('{')
	first := true
	e.str("trace_id", m.TraceID.String(), &first)
	e.str("name", m.Name, &first)
	e.int("kind", int64(m.Kind), &first)
	e.str("unit", m.Unit, &first)
	e.tags(m.Tags, &first)
	e.time("time", m.Time, &first)
	e.key("value", &first)
	e.float(m.Value)
	if len(m.Buckets) > 0 {
		e.key("buckets", &first)
		e.list(len(m.Buckets), func(i int) { e.float(m.Buckets[i]) })
	}
	if len(m.Counts) > 0 {
		e.key("counts", &first)
		e.list(len(m.Counts), func(i int) { e.buf = strconv.AppendUint(e.buf, m.Counts[i], 10) })
	}
	if m.Count != 0 {
		e.key("count", &first)
		e.buf = strconv.AppendUint(e.buf, m.Count, 10)
	}
	e.key("sum", &first)
	e.float(m.Sum)
	e.flag("in_sdk_upload", m.InSDKUpload, &first)
	e.byte('}')
}

func (e *encoder) log(l *telemetry.Log) {
	e.byte('{')
	first := true
	e.time("time", l.Time, &first)
	e.str("level", l.Level, &first)
	e.str("message", l.Message, &first)
	e.str("exception", l.Exception, &first)
	e.tags(l.Tags, &first)
	e.str("trace_id", l.TraceID.String(), &first)
	e.str("span_id", l.SpanID.String(), &first)
	e.flag("in_sdk_upload", l.InSDKUpload, &first)
	e.byte('}')
}

func (e *encoder) sdkUpload(u *telemetry.SDKUpload) {
	e.byte('{')
	first := true
	e.time("time", u.Time, &first)
	e.key("body", &first)
	e.byte('"')
	e.buf = base64.StdEncoding.AppendEncode(e.buf, u.Body)
	e.byte('"')
	e.byte('}')
}

// attrs writes attribute values with their type: the model's string, bool,
// int64, float64 and []string; other integer and float types widen to int64
// and float64 (a uint64 past int64 to float64), anything else is kept as
// its fmt.Sprint text.
func (e *encoder) attrs(name string, m map[string]any, first *bool) {
	if len(m) == 0 {
		return
	}
	e.key(name, first)
	e.byte('{')
	inner := true
	for k, v := range m {
		e.key(k, &inner)
		e.value(v)
	}
	e.byte('}')
}

func (e *encoder) value(v any) {
	switch x := v.(type) {
	case string:
		e.typed("s")
		e.string(x)
	case bool:
		e.typed("b")
		e.buf = strconv.AppendBool(e.buf, x)
	case int64:
		e.integer(x)
	case int:
		e.integer(int64(x))
	case int32:
		e.integer(int64(x))
	case uint32:
		e.integer(int64(x))
	case uint64:
		if x > math.MaxInt64 {
			e.typed("f")
			e.float(float64(x))
		} else {
			e.integer(int64(x))
		}
	case float64:
		e.typed("f")
		e.float(x)
	case float32:
		e.typed("f")
		e.float(float64(x))
	case []string:
		e.typed("a")
		e.list(len(x), func(i int) { e.string(x[i]) })
	default:
		e.typed("s")
		e.string(fmt.Sprint(v))
	}
	e.byte('}')
}

// typed opens a typed value: {"t":
func (e *encoder) typed(t string) {
	e.buf = append(e.buf, `{"`...)
	e.buf = append(e.buf, t...)
	e.buf = append(e.buf, `":`...)
}

func (e *encoder) integer(i int64) {
	e.typed("i")
	e.buf = strconv.AppendInt(e.buf, i, 10)
}

// float writes f as a JSON number, or NaN and ±Inf as strings.
func (e *encoder) float(f float64) {
	switch {
	case math.IsNaN(f):
		e.buf = append(e.buf, `"NaN"`...)
	case math.IsInf(f, 1):
		e.buf = append(e.buf, `"+Inf"`...)
	case math.IsInf(f, -1):
		e.buf = append(e.buf, `"-Inf"`...)
	default:
		e.buf = strconv.AppendFloat(e.buf, f, 'g', -1, 64)
	}
}

// string writes s as a JSON string; invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func (e *encoder) string(s string) {
	const hex = "0123456789abcdef"
	e.byte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				e.buf = append(e.buf, '\\', c)
			case c == '\n':
				e.buf = append(e.buf, `\n`...)
			case c == '\r':
				e.buf = append(e.buf, `\r`...)
			case c == '\t':
				e.buf = append(e.buf, `\t`...)
			case c < 0x20:
				e.buf = append(e.buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				// The run of bytes that need no escaping, at once.
				j := i + 1
				for j < len(s) && s[j] >= 0x20 && s[j] < utf8.RuneSelf && s[j] != '"' && s[j] != '\\' {
					j++
				}
				e.buf = append(e.buf, s[i:j]...)
				i = j
				continue
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			e.buf = append(e.buf, `\ufffd`...)
		} else {
			e.buf = append(e.buf, s[i:i+size]...)
		}
		i += size
	}
	e.byte('"')
}
