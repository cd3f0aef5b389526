package ipc

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// MaxLineBytes is the protocol's limit on one message line, excluding the
// terminating newline (docs/protocol.md and docs/intake.md).
const MaxLineBytes = 1 << 20

// MessageType is the "type" of a protocol message.
type MessageType int

// Message types of the protocol (docs/protocol.md).
const (
	TypeSpan MessageType = iota
	TypeScore
	TypeTag
	TypeLog
	TypeMetric
	TypeSDKUpload // a piece of an SDK upload forwarded by a nested run
	numTypes
)

var typeNames = [numTypes]string{"span", "score", "tag", "log", "metric", "sdk_upload"}

// String returns the wire name of the type ("span", "score", ...).
func (t MessageType) String() string {
	if t >= 0 && t < numTypes {
		return typeNames[t]
	}
	return "unknown"
}

// Reason classifies a line the intake could not use. Every bad line is
// counted under exactly one reason.
type Reason int

// Reasons a line is rejected.
const (
	ReasonInvalidJSON  Reason = iota // not a JSON object
	ReasonWrongType                  // a field has the wrong JSON type
	ReasonInvalidUTF8                // the line is not valid UTF-8
	ReasonTooLong                    // longer than the line limit
	ReasonMissingField               // type, name or key absent or empty
	ReasonBadID                      // a trace or span id that is not hex of the right length
	ReasonBadValue                   // a value out of range (negative time, end before start, ...)
	ReasonUnknownType                // a "type" this version does not know
	ReasonPartialLine                // an unterminated, undecodable line at disconnect
	ReasonOverload                   // a long line refused because the shared long-line budget was spent
	numReasons
)

var reasonNames = [numReasons]string{
	"invalid_json", "wrong_type", "invalid_utf8", "too_long", "missing_field",
	"bad_id", "bad_value", "unknown_type", "partial_line", "overload",
}

// String returns the reason's name as used in Stats and metric tags.
func (r Reason) String() string {
	if r >= 0 && r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// DecodeError is the error DecodeLine returns for a bad line. Callers branch
// on Reason with errors.As.
type DecodeError struct {
	Reason Reason
	Err    error
}

// Error returns the reason and the details.
func (e *DecodeError) Error() string { return e.Reason.String() + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

func badLine(r Reason, format string, args ...any) error {
	return &DecodeError{Reason: r, Err: fmt.Errorf(format, args...)}
}

// RunContext is what the decoder needs to know about the run: the ids that
// records default to and the tags every record carries. It is read-only
// while in use.
type RunContext struct {
	TraceID telemetry.TraceID // the run's trace; default trace of every record
	SpanID  telemetry.SpanID  // the run span; default parent of spans in TraceID
	// Tags are the run's tags with the context tags set by "tag" messages
	// applied on top. A message's own tags override them.
	Tags           telemetry.Tags
	RecordPayloads bool // keep span payloads; usage counters are always kept
}

// Message is one decoded line. Exactly one of the record fields is set,
// according to Type; a TypeTag message sets TagKey and TagValue (TagRemove
// when the value was null or absent), a TypeSDKUpload message Chunk.
type Message struct {
	Type      MessageType
	Span      telemetry.Span
	Score     telemetry.Score
	Log       telemetry.Log
	Metric    telemetry.Metric
	TagKey    string
	TagValue  string
	TagRemove bool
	Chunk     SDKUploadChunk
}

// DecodeLine decodes one protocol line (without its newline; a trailing
// carriage return is tolerated) into a Message, filling defaults from rc
// and now, the time of receipt. It is a pure function, safe for concurrent
// use: it neither retains line nor modifies rc, and the Message shares no
// memory with either. Every error is a *DecodeError. (The server skips
// blank lines before calling it; DecodeLine itself rejects them as
// invalid JSON.)
func DecodeLine(line []byte, rc *RunContext, now time.Time) (Message, error) {
	if len(line) > MaxLineBytes {
		return Message{}, badLine(ReasonTooLong, "line of %d bytes exceeds %d", len(line), MaxLineBytes)
	}
	if !utf8.Valid(line) {
		return Message{}, badLine(ReasonInvalidUTF8, "line is not valid UTF-8")
	}
	top, p, err := parseLine(line)
	if err != nil {
		return Message{}, err
	}
	defer putParser(p, line)
	var w wire
	if err := fill(&w, top); err != nil {
		return Message{}, err
	}
	if len(w.Type) == 0 {
		return Message{}, badLine(ReasonMissingField, "no \"type\"")
	}
	if w.StartNs < 0 || w.EndNs < 0 || w.TsNs < 0 {
		return Message{}, badLine(ReasonBadValue, "negative time")
	}
	switch string(w.Type) {
	case "span":
		return decodeSpan(&w, rc, now)
	case "score":
		return decodeScore(&w, rc, now)
	case "tag":
		return decodeTag(&w)
	case "log":
		return decodeLog(&w, rc, now)
	case "metric":
		return decodeMetric(&w, rc, now)
	case "sdk_upload":
		return decodeSDKUploadChunk(&w, rc, now)
	}
	return Message{}, badLine(ReasonUnknownType, "unknown type %q", truncate(w.Type))
}

func requireName(w *wire) error {
	if w.Name == "" {
		return badLine(ReasonMissingField, "%s without \"name\"", w.Type)
	}
	return nil
}

// truncate keeps error messages short whatever the client sent.
func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

func traceOf(b []byte, rc *RunContext) (telemetry.TraceID, error) {
	var id telemetry.TraceID
	if len(b) == 0 {
		return rc.TraceID, nil
	}
	if !decodeHexID(id[:], b) {
		return id, badLine(ReasonBadID, "trace id %q: want 32 hex digits, not all zero", truncate(b))
	}
	return id, nil
}

func spanOf(b []byte) (telemetry.SpanID, error) {
	var id telemetry.SpanID
	if len(b) == 0 {
		return id, nil
	}
	if !decodeHexID(id[:], b) {
		return id, badLine(ReasonBadID, "span id %q: want 16 hex digits, not all zero", truncate(b))
	}
	return id, nil
}

// decodeHexID decodes hex (either case) into dst and reports whether src
// had the right length and the id is not all zero.
func decodeHexID(dst, src []byte) bool {
	if len(src) != 2*len(dst) {
		return false
	}
	nonzero := false
	for i := range dst {
		hi, ok1 := unhex(src[2*i])
		lo, ok2 := unhex(src[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
		nonzero = nonzero || dst[i] != 0
	}
	return nonzero
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func timeOf(ns int64, now time.Time) time.Time {
	if ns == 0 {
		return now
	}
	return time.Unix(0, ns)
}

// mergeTags returns a new map: the run context's tags with the message's
// own on top (empty keys are dropped).
func mergeTags(rc *RunContext, own *fastjson.Object) telemetry.Tags {
	n := len(rc.Tags)
	if own != nil {
		n += own.Len()
	}
	if n == 0 {
		return nil
	}
	t := make(telemetry.Tags, n)
	for k, v := range rc.Tags {
		t[k] = v
	}
	if own != nil {
		own.Visit(func(k []byte, v *fastjson.Value) {
			if b, err := v.StringBytes(); err == nil && len(k) > 0 {
				t[string(k)] = string(b)
			}
		})
	}
	return t
}

func decodeScore(w *wire, rc *RunContext, now time.Time) (Message, error) {
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
	return Message{Type: TypeScore, Score: telemetry.Score{
		Name: w.Name, Value: w.Score, Unit: w.Unit, Comment: w.Comment, Severity: w.Severity,
		Tags: mergeTags(rc, w.Tags), TraceID: tid, SpanID: sid, Time: timeOf(w.TsNs, now),
	}}, nil
}

func decodeTag(w *wire) (Message, error) {
	if w.Key == "" {
		return Message{}, badLine(ReasonMissingField, "tag without \"key\"")
	}
	if w.Value == nil || isNull(w.Value) {
		return Message{Type: TypeTag, TagKey: w.Key, TagRemove: true}, nil
	}
	b, err := w.Value.StringBytes()
	if err != nil {
		return Message{}, typeError("value", "string or null")
	}
	return Message{Type: TypeTag, TagKey: w.Key, TagValue: string(b)}, nil
}

func decodeLog(w *wire, rc *RunContext, now time.Time) (Message, error) {
	tid, err := traceOf(w.TraceID, rc)
	if err != nil {
		return Message{}, err
	}
	sid, err := spanOf(w.SpanID)
	if err != nil {
		return Message{}, err
	}
	level := w.Level
	if level == "" {
		level = "info"
	}
	return Message{Type: TypeLog, Log: telemetry.Log{
		Time: timeOf(w.TsNs, now), Level: level, Message: w.Message, Exception: w.Exception,
		Tags: mergeTags(rc, w.Tags), TraceID: tid, SpanID: sid,
	}}, nil
}

func decodeMetric(w *wire, rc *RunContext, now time.Time) (Message, error) {
	if err := requireName(w); err != nil {
		return Message{}, err
	}
	kind := telemetry.Gauge
	if w.Kind != "" {
		k, err := telemetry.ParseMetricKind(w.Kind)
		if err != nil {
			return Message{}, &DecodeError{Reason: ReasonBadValue, Err: err}
		}
		kind = k
	}
	tid, err := traceOf(w.TraceID, rc)
	if err != nil {
		return Message{}, err
	}
	m := telemetry.Metric{
		TraceID: tid, Name: w.Name, Kind: kind, Unit: w.Unit,
		Tags: mergeTags(rc, w.Tags), Time: timeOf(w.TsNs, now),
	}
	if w.Value != nil {
		var f fields
		if f.float("value", w.Value, &m.Value); f.err != nil {
			return Message{}, f.err
		}
	}
	if kind == telemetry.Histogram {
		if len(w.Counts) != len(w.Buckets)+1 {
			return Message{}, badLine(ReasonBadValue, "histogram: %d counts for %d buckets, want buckets+1", len(w.Counts), len(w.Buckets))
		}
		m.Buckets, m.Counts, m.Count, m.Sum = w.Buckets, w.Counts, w.Count, w.Sum
		if m.Count == 0 {
			for _, c := range w.Counts {
				m.Count += c
			}
		}
	}
	return Message{Type: TypeMetric, Metric: m}, nil
}
