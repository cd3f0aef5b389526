package graphsignal

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"unicode/utf8"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Span is one traced operation. It is sent when End is called; until then
// its methods record into it. All methods are safe for concurrent use and
// do nothing on a nil *Span (what Trace returns on a no-op Client), so
// callers never need to check. After End, only Score still has an effect:
// it sends a separate score message for the span.
type Span struct {
	c *Client

	mu    sync.Mutex
	ended bool
	// rec is the span in the model the protocol's encoder writes. Its ids,
	// name and start are set by Trace and never change; a zero TraceID is
	// the run's and a zero ParentSpanID the run span (the intake fills them
	// in).
	rec telemetry.Span
}

type spanKey struct{}

// ContextWithSpan returns ctx carrying s, so that spans traced with it are
// children of s. A nil s returns ctx unchanged.
func ContextWithSpan(ctx context.Context, s *Span) context.Context {
	if s == nil {
		return ctx
	}
	return context.WithValue(ctx, spanKey{}, s)
}

// SpanFromContext returns the span carried by ctx, or nil.
func SpanFromContext(ctx context.Context) *Span {
	s, _ := ctx.Value(spanKey{}).(*Span)
	return s
}

// Trace starts a span named name with the given tags (copied). Its parent
// is the span in ctx, else the client's parent (GRAPHSIGNAL_PARENT_SPAN_ID
// for the default client), else the run span. It returns nil on a no-op
// Client. Call End when the operation is over, and ContextWithSpan to make
// it the parent of nested spans.
func (c *Client) Trace(ctx context.Context, name string, tags map[string]string) *Span {
	if !c.Enabled() || c.closed.Load() {
		return nil
	}
	s := &Span{c: c, rec: telemetry.Span{Name: name, SpanID: newSpanID(), Start: c.now(),
		TraceID: c.traceID, ParentSpanID: c.parentSpanID}}
	if p := SpanFromContext(ctx); p != nil {
		s.rec.TraceID, s.rec.ParentSpanID = p.rec.TraceID, p.rec.SpanID
	}
	if len(tags) > 0 {
		s.rec.Tags = make(telemetry.Tags, len(tags))
		for k, v := range tags {
			s.rec.Tags[k] = v
		}
	}
	return s
}

// Func traces fn as a span named name, with the span in fn's context. An
// error returned by fn, or a panic (which is then re-raised), is recorded
// as an exception.
func (c *Client) Func(ctx context.Context, name string, fn func(ctx context.Context) error) (err error) {
	s := c.Trace(ctx, name, nil)
	defer func() {
		if r := recover(); r != nil {
			s.addException(fmt.Sprintf("panic: %T", r), fmt.Sprint(r))
			s.End()
			panic(r)
		}
		s.End()
	}()
	err = fn(ContextWithSpan(ctx, s))
	s.AddException(err)
	return err
}

func newSpanID() telemetry.SpanID {
	var id telemetry.SpanID
	for id.IsZero() {
		binary.BigEndian.PutUint64(id[:], rand.Uint64())
	}
	return id
}

// SpanID returns the span's id (16 hex digits), "" for a nil span. Use it
// to score the span later with WithSpanID.
func (s *Span) SpanID() string {
	if s == nil {
		return ""
	}
	return s.rec.SpanID.String()
}

// TraceID returns the span's trace id, "" when it is the run's (the intake
// fills it in) or for a nil span.
func (s *Span) TraceID() string {
	if s == nil {
		return ""
	}
	return s.rec.TraceID.String()
}

// lock locks s and reports whether it may still be changed.
func (s *Span) lock() bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return false
	}
	return true
}

// SetTag sets a tag of the span; it overrides the run's and context tags.
func (s *Span) SetTag(key, value string) {
	if !s.lock() {
		return
	}
	defer s.mu.Unlock()
	if s.rec.Tags == nil {
		s.rec.Tags = make(telemetry.Tags, 1)
	}
	s.rec.Tags[key] = value
}

// SetAttribute sets an attribute. Strings, bools, integers, floats and
// []string are kept as such (an integer beyond int64 as a float); any other
// value is stored as its JSON text, and nil or a value encoding/json cannot
// encode is ignored. The value is copied or encoded now, so the caller may
// reuse it.
func (s *Span) SetAttribute(key string, value any) {
	v, ok := attributeValue(value)
	if !ok || !s.lock() {
		return
	}
	defer s.mu.Unlock()
	if s.rec.Attributes == nil {
		s.rec.Attributes = make(map[string]any, 4)
	}
	s.rec.Attributes[key] = v
}

// SetPayload records data under name (input, output, ...) with its usage
// counters (token_count and friends), which are kept even when payload
// recording is off. A string is sent as text/plain; json.RawMessage or
// []byte holding JSON as is; anything else as its JSON encoding. Data that
// cannot be encoded is left out, the usage kept.
func (s *Span) SetPayload(name string, data any, usage map[string]float64) {
	if s == nil {
		return
	}
	p, ok := encodePayload(name, data)
	if !s.lock() {
		return
	}
	defer s.mu.Unlock()
	if ok {
		s.rec.Payloads = append(s.rec.Payloads, p)
	}
	s.addUsage(name, usage)
}

// SetUsage records a usage counter not tied to a payload.
func (s *Span) SetUsage(name string, value float64) {
	if !s.lock() {
		return
	}
	defer s.mu.Unlock()
	s.rec.Usage = append(s.rec.Usage, telemetry.Usage{Name: name, Value: value})
}

func (s *Span) addUsage(payloadName string, m map[string]float64) {
	if len(m) == 0 {
		return
	}
	start := len(s.rec.Usage)
	for k, v := range m {
		s.rec.Usage = append(s.rec.Usage, telemetry.Usage{PayloadName: payloadName, Name: k, Value: v})
	}
	added := s.rec.Usage[start:]
	sort.Slice(added, func(i, j int) bool { return added[i].Name < added[j].Name })
}

// AddException records err and marks the span as failed. A nil err does
// nothing.
func (s *Span) AddException(err error) {
	if err == nil {
		return
	}
	s.addException(fmt.Sprintf("%T", err), err.Error())
}

func (s *Span) addException(typ, message string) {
	if !s.lock() {
		return
	}
	defer s.mu.Unlock()
	s.rec.Exceptions = append(s.rec.Exceptions, telemetry.Exception{Type: typ, Message: message, Time: s.c.now()})
	s.rec.Status = telemetry.StatusError
}

// Score scores the span: sent with it, or on its own after End.
func (s *Span) Score(name string, value float64, opts ...ScoreOption) {
	if s == nil {
		return
	}
	m := &scoreMsg{sc: telemetry.Score{Name: name, Value: value}}
	for _, o := range opts {
		o(m)
	}
	m.sc.TraceID, m.sc.SpanID = s.rec.TraceID, s.rec.SpanID
	if s.lock() {
		s.rec.Scores = append(s.rec.Scores, m.sc)
		s.mu.Unlock()
		return
	}
	if m.sc.Time.IsZero() {
		m.sc.Time = s.c.now()
	}
	s.c.send(m)
}

// End ends the span and sends it. Later calls do nothing.
func (s *Span) End() {
	if !s.lock() {
		return
	}
	s.rec.End = s.c.now()
	s.ended = true
	s.mu.Unlock()
	s.c.send(s)
}

// attributeValue converts v to an attribute type of the model: string,
// bool, int64, float64 or []string, else its JSON text.
func attributeValue(v any) (any, bool) {
	switch x := v.(type) {
	case string, bool, int64, float64:
		return x, true
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint:
		return uintValue(uint64(x)), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return uintValue(x), true
	case float32:
		return float64(x), true
	case []string:
		return slices.Clone(x), true
	case nil:
		return nil, false
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	return string(raw), true
}

func uintValue(u uint64) any {
	if u > math.MaxInt64 {
		return float64(u)
	}
	return int64(u)
}

// encodePayload returns data as a payload: a string as text/plain, JSON
// (json.RawMessage, or []byte holding JSON) as is, other UTF-8 bytes as
// text/plain, anything else as its JSON encoding.
func encodePayload(name string, data any) (telemetry.Payload, bool) {
	text := func(b []byte) telemetry.Payload {
		return telemetry.Payload{Name: name, ContentType: "text/plain", Data: b}
	}
	asJSON := func(b []byte) telemetry.Payload {
		return telemetry.Payload{Name: name, ContentType: "application/json", Data: b}
	}
	switch x := data.(type) {
	case nil:
		return telemetry.Payload{}, false
	case string:
		return text([]byte(x)), true
	case json.RawMessage:
		if json.Valid(x) {
			return asJSON(slices.Clone(x)), true
		}
		return telemetry.Payload{}, false
	case []byte:
		if json.Valid(x) {
			return asJSON(slices.Clone(x)), true
		}
		if utf8.Valid(x) {
			return text(slices.Clone(x)), true
		}
		return telemetry.Payload{}, false
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return telemetry.Payload{}, false
	}
	return asJSON(raw), true
}
