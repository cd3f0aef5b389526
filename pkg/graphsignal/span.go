package graphsignal

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Span is one traced operation. It is sent when End is called; until then
// its methods record into it. All methods are safe for concurrent use and
// do nothing on a nil *Span (what Trace returns on a no-op Client), so
// callers never need to check. After End, only Score still has an effect:
// it sends a separate score message for the span.
type Span struct {
	c        *Client
	traceID  string
	spanID   uint64
	parentID uint64 // 0: none given, the intake uses the run span
	name     string
	start    time.Time

	mu         sync.Mutex
	ended      bool
	end        time.Time
	tags       []tag   // a key appears once
	attrs      []field // pre-encoded JSON values, last one of a key wins
	payloads   []payload
	usage      []usage
	exceptions []exception
	scores     []scoreMsg
}

type tag struct{ key, value string }

type field struct {
	key string
	raw []byte
}

type payload struct {
	name, contentType string
	data              []byte // JSON text
}

type usage struct {
	payloadName, name string
	value             float64
}

type exception struct {
	typ, message, stack string
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
	s := &Span{c: c, name: name, spanID: newSpanID(), start: c.now(),
		traceID: c.traceID, parentID: c.parentSpanID}
	if p := SpanFromContext(ctx); p != nil {
		s.traceID, s.parentID = p.traceID, p.spanID
	}
	if len(tags) > 0 {
		s.tags = make([]tag, 0, len(tags)+2)
		for k, v := range tags {
			s.tags = append(s.tags, tag{k, v})
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

func newSpanID() uint64 {
	v := rand.Uint64()
	for v == 0 {
		v = rand.Uint64()
	}
	return v
}

// appendSpanID appends id as 16 lower-case hex digits.
func appendSpanID(b []byte, id uint64) []byte {
	const digits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, digits[(id>>shift)&0xf])
	}
	return b
}

func formatSpanID(id uint64) string {
	if id == 0 {
		return ""
	}
	return string(appendSpanID(make([]byte, 0, 16), id))
}

func parseSpanID(s string) uint64 {
	if !validHex(s, 16) {
		return 0
	}
	id, _ := strconv.ParseUint(s, 16, 64)
	return id
}

// SpanID returns the span's id (16 hex digits), "" for a nil span. Use it
// to score the span later with WithSpanID.
func (s *Span) SpanID() string {
	if s == nil {
		return ""
	}
	return formatSpanID(s.spanID)
}

// TraceID returns the span's trace id, "" when it is the run's (the intake
// fills it in) or for a nil span.
func (s *Span) TraceID() string {
	if s == nil {
		return ""
	}
	return s.traceID
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
	for i := range s.tags {
		if s.tags[i].key == key {
			s.tags[i].value = value
			return
		}
	}
	s.tags = append(s.tags, tag{key, value})
}

// SetAttribute sets an attribute. Strings, bools, integers, floats and
// []string are kept as such; any other value is stored as its JSON text.
// The value is encoded now, so the caller may reuse it.
func (s *Span) SetAttribute(key string, value any) {
	raw, ok := encodeValue(value)
	if !ok || !s.lock() {
		return
	}
	defer s.mu.Unlock()
	s.attrs = append(s.attrs, field{key, raw})
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
		s.payloads = append(s.payloads, p)
	}
	s.addUsage(name, usage)
}

// SetUsage records a usage counter not tied to a payload.
func (s *Span) SetUsage(name string, value float64) {
	if !s.lock() {
		return
	}
	defer s.mu.Unlock()
	s.usage = append(s.usage, usageEntry("", name, value))
}

func usageEntry(payloadName, name string, value float64) usage {
	return usage{payloadName: payloadName, name: name, value: value}
}

func (s *Span) addUsage(payloadName string, m map[string]float64) {
	if len(m) == 0 {
		return
	}
	start := len(s.usage)
	for k, v := range m {
		s.usage = append(s.usage, usageEntry(payloadName, k, v))
	}
	added := s.usage[start:]
	sort.Slice(added, func(i, j int) bool { return added[i].name < added[j].name })
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
	s.exceptions = append(s.exceptions, exception{typ: typ, message: message})
}

// Score scores the span: sent with it, or on its own after End.
func (s *Span) Score(name string, value float64, opts ...ScoreOption) {
	if s == nil {
		return
	}
	m := scoreMsg{name: name, value: value}
	for _, o := range opts {
		o(&m)
	}
	if s.lock() {
		s.scores = append(s.scores, m)
		s.mu.Unlock()
		return
	}
	m.traceID, m.spanID = s.traceID, formatSpanID(s.spanID)
	if m.ts.IsZero() {
		m.ts = s.c.now()
	}
	s.c.send(&m)
}

// End ends the span and sends it. Later calls do nothing.
func (s *Span) End() {
	if !s.lock() {
		return
	}
	s.end = s.c.now()
	s.ended = true
	s.mu.Unlock()
	s.c.send(s)
}

func encodeValue(v any) ([]byte, bool) {
	switch x := v.(type) {
	case string:
		return appendString(nil, x), true
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Appendf(nil, "%v", x), true
	case float64:
		return appendFloat(nil, x), true
	case float32:
		return appendFloat(nil, float64(x)), true
	case []string:
		b := []byte{'['}
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e)
		}
		return append(b, ']'), true
	case nil:
		return nil, false
	}
	raw, err := json.Marshal(v)
	return raw, err == nil
}

func encodePayload(name string, data any) (payload, bool) {
	switch x := data.(type) {
	case nil:
		return payload{}, false
	case string:
		return payload{name: name, contentType: "text/plain", data: appendString(nil, x)}, true
	case json.RawMessage:
		if json.Valid(x) {
			return payload{name: name, contentType: "application/json", data: append([]byte(nil), x...)}, true
		}
		return payload{}, false
	case []byte:
		if json.Valid(x) {
			return payload{name: name, contentType: "application/json", data: append([]byte(nil), x...)}, true
		}
		if utf8.Valid(x) {
			return payload{name: name, contentType: "text/plain", data: appendString(nil, string(x))}, true
		}
		return payload{}, false
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return payload{}, false
	}
	return payload{name: name, contentType: "application/json", data: raw}, true
}
