package graphsignal

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

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

// appendFloat appends f as a JSON number; NaN and infinities, which JSON
// cannot carry, become null (the intake reads 0).
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

func appendKey(b []byte, key string) []byte {
	b = append(b, ',')
	b = appendString(b, key)
	return append(b, ':')
}

func appendStringField(b []byte, key, v string) []byte {
	return appendString(appendKey(b, key), v)
}

func appendTags(b []byte, key string, tags map[string]string) []byte {
	if len(tags) == 0 {
		return b
	}
	b = append(appendKey(b, key), '{')
	first := true
	for k, v := range tags {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(appendString(b, k), ':')
		b = appendString(b, v)
	}
	return append(b, '}')
}

// appendFields appends an object of pre-encoded values; for a repeated key
// the intake keeps the last.
func appendFields(b []byte, key string, fs []field) []byte {
	if len(fs) == 0 {
		return b
	}
	b = append(appendKey(b, key), '{')
	for i, f := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, f.key), ':')
		b = append(b, f.raw...)
	}
	return append(b, '}')
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// appendJSON writes the span message of docs/protocol.md. It is called by
// the writer goroutine after End, when the span no longer changes.
func (s *Span) appendJSON(b []byte, withPayloads bool) []byte {
	b = append(b, `{"type":"span"`...)
	b = appendStringField(b, "name", s.name)
	if s.traceID != "" {
		b = appendStringField(b, "trace_id", s.traceID)
	}
	b = append(appendSpanID(append(appendKey(b, "span_id"), '"'), s.spanID), '"')
	if s.parentID != 0 {
		b = append(appendSpanID(append(appendKey(b, "parent_span_id"), '"'), s.parentID), '"')
	}
	b = strconv.AppendInt(appendKey(b, "start_ns"), unixNano(s.start), 10)
	b = strconv.AppendInt(appendKey(b, "end_ns"), unixNano(s.end), 10)
	if len(s.tags) > 0 {
		b = append(appendKey(b, "tags"), '{')
		for i, t := range s.tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(append(appendString(b, t.key), ':'), t.value)
		}
		b = append(b, '}')
	}
	b = appendFields(b, "attributes", s.attrs)
	if withPayloads && len(s.payloads) > 0 {
		b = append(appendKey(b, "payloads"), '[')
		for i, p := range s.payloads {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendString(b, p.name)
			b = appendStringField(b, "content_type", p.contentType)
			b = append(appendKey(b, "data"), p.data...)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(s.usage) > 0 {
		b = append(appendKey(b, "usage"), '[')
		for i, u := range s.usage {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendString(b, u.name)
			if u.payloadName != "" {
				b = appendStringField(b, "payload_name", u.payloadName)
			}
			b = append(appendFloat(appendKey(b, "value"), u.value), '}')
		}
		b = append(b, ']')
	}
	if len(s.exceptions) > 0 {
		b = append(appendKey(b, "exceptions"), '[')
		for i, e := range s.exceptions {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":`...)
			b = appendString(b, e.typ)
			b = appendStringField(b, "message", e.message)
			if e.stack != "" {
				b = appendStringField(b, "stack_trace", e.stack)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(s.scores) > 0 {
		b = append(appendKey(b, "scores"), '[')
		for i := range s.scores {
			if i > 0 {
				b = append(b, ',')
			}
			b = s.scores[i].appendFields(append(b, '{'))
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}', '\n')
}

// ScoreOption sets an optional field of a score.
type ScoreOption func(*scoreMsg)

// WithUnit sets the score's unit.
func WithUnit(unit string) ScoreOption { return func(m *scoreMsg) { m.unit = unit } }

// WithComment sets a free-text comment ("thumbs up").
func WithComment(comment string) ScoreOption { return func(m *scoreMsg) { m.comment = comment } }

// WithSeverity sets the severity (0 none; larger is worse).
func WithSeverity(severity int) ScoreOption {
	return func(m *scoreMsg) { m.severity = severity }
}

// WithScoreTags sets tags saying what is scored (run_id, session_id,
// user_id, ...). They override the run's and context tags.
func WithScoreTags(tags map[string]string) ScoreOption {
	return func(m *scoreMsg) {
		m.tags = make(map[string]string, len(tags))
		for k, v := range tags {
			m.tags[k] = v
		}
	}
}

// WithSpanID ties a package- or client-level score to a span (Span.SpanID),
// which may have ended long before. Ignored by Span.Score.
func WithSpanID(id string) ScoreOption {
	return func(m *scoreMsg) {
		if validHex(id, 16) {
			m.spanID = lowerHex(id)
		}
	}
}

// WithTime sets when the score was given (default: when it is sent).
func WithTime(t time.Time) ScoreOption { return func(m *scoreMsg) { m.ts = t } }

// scoreMsg is a score, sent alone or inside a span.
type scoreMsg struct {
	name, unit, comment string
	value               float64
	severity            int
	tags                map[string]string
	traceID, spanID     string
	ts                  time.Time
}

// appendFields writes the fields shared by both forms, without braces.
func (m *scoreMsg) appendFields(b []byte) []byte {
	b = append(b, `"name":`...)
	b = appendString(b, m.name)
	b = appendFloat(appendKey(b, "score"), m.value)
	if m.unit != "" {
		b = appendStringField(b, "unit", m.unit)
	}
	if m.comment != "" {
		b = appendStringField(b, "comment", m.comment)
	}
	if m.severity != 0 {
		b = strconv.AppendInt(appendKey(b, "severity"), int64(m.severity), 10)
	}
	return b
}

func (m *scoreMsg) appendJSON(b []byte, _ bool) []byte {
	b = append(b, `{"type":"score",`...)
	b = m.appendFields(b)
	b = appendTags(b, "tags", m.tags)
	if m.traceID != "" {
		b = appendStringField(b, "trace_id", m.traceID)
	}
	if m.spanID != "" {
		b = appendStringField(b, "span_id", m.spanID)
	}
	b = strconv.AppendInt(appendKey(b, "ts_ns"), unixNano(m.ts), 10)
	return append(b, '}', '\n')
}

// tagMsg sets (or, with remove, removes) a context tag of the run.
type tagMsg struct {
	key, value string
	remove     bool
}

func (m *tagMsg) appendJSON(b []byte, _ bool) []byte {
	b = append(b, `{"type":"tag","key":`...)
	b = appendString(b, m.key)
	if m.remove {
		b = append(b, `,"value":null`...)
	} else {
		b = appendStringField(b, "value", m.value)
	}
	return append(b, '}', '\n')
}

func validHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	zero := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return false
		}
		if c != '0' {
			zero = false
		}
	}
	return !zero
}

func lowerHex(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'F' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
