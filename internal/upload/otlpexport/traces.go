package otlpexport

import (
	"encoding/base64"
	"slices"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// scopeKey is an instrumentation scope.
type scopeKey struct{ name, version string }

// traceBuilder groups spans by resource and scope, in order of arrival.
type traceBuilder struct {
	c      *converter
	td     ptrace.Traces
	res    map[mapKey]ptrace.ResourceSpans
	scopes map[mapKey]map[scopeKey]ptrace.SpanSlice
}

// traces maps the spans of a batch. A run span that has not ended (the
// record written at the run's start) only contributes its resource: it is
// exported once, when it is rewritten at exit.
func (c *converter) traces(spans []telemetry.Span) (ptrace.Traces, int) {
	b := traceBuilder{
		c:      c,
		td:     ptrace.NewTraces(),
		res:    make(map[mapKey]ptrace.ResourceSpans),
		scopes: make(map[mapKey]map[scopeKey]ptrace.SpanSlice),
	}
	n := 0
	for i := range spans {
		sp := &spans[i]
		if sp.IsRun() && sp.End.IsZero() {
			continue
		}
		b.add(sp)
		n++
	}
	return b.td, n
}

func (b *traceBuilder) add(sp *telemetry.Span) {
	var own []kv
	scope := scopeKey{name: scopeName}
	for k, v := range sp.Attributes {
		switch {
		case strings.HasPrefix(k, intakeResourcePrefix):
			own = append(own, kv{strings.TrimPrefix(k, intakeResourcePrefix), v})
		case k == intakeScopeName:
			scope.name = attrString(v)
		case k == intakeScopeVersion:
			scope.version = attrString(v)
		}
	}
	slices.SortFunc(own, func(a, b kv) int { return strings.Compare(a.k, b.k) })
	key := b.c.keyFor(sp.TraceID, sp.Tags, own)
	mk := key.mapKey()
	rs, ok := b.res[mk]
	if !ok {
		rs = b.td.ResourceSpans().AppendEmpty()
		b.c.fillResource(rs.Resource(), key)
		b.res[mk] = rs
		b.scopes[mk] = make(map[scopeKey]ptrace.SpanSlice)
	}
	spans, ok := b.scopes[mk][scope]
	if !ok {
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName(scope.name)
		ss.Scope().SetVersion(scope.version)
		spans = ss.Spans()
		b.scopes[mk][scope] = spans
	}
	putSpan(spans.AppendEmpty(), sp)
}

// putSpan writes one span.
func putSpan(out ptrace.Span, sp *telemetry.Span) {
	out.SetTraceID(pcommon.TraceID(sp.TraceID))
	out.SetSpanID(pcommon.SpanID(sp.SpanID))
	out.SetParentSpanID(pcommon.SpanID(sp.ParentSpanID))
	out.SetName(sp.Name)
	out.SetStartTimestamp(timestamp(sp.Start))
	end := sp.End
	if end.IsZero() {
		end = sp.Start
	}
	out.SetEndTimestamp(timestamp(end))
	if sp.IsRun() {
		out.SetKind(ptrace.SpanKindInternal)
	}
	switch sp.Status {
	case telemetry.StatusOK:
		out.Status().SetCode(ptrace.StatusCodeOk)
	case telemetry.StatusError:
		out.Status().SetCode(ptrace.StatusCodeError)
		out.Status().SetMessage(sp.StatusMessage)
	}

	attrs := out.Attributes()
	attrs.EnsureCapacity(len(sp.Attributes) + len(sp.Tags) + len(sp.Usage) + 2*len(sp.Payloads))
	for _, k := range sortedKeys(sp.Attributes) {
		v := sp.Attributes[k]
		switch {
		case strings.HasPrefix(k, intakeResourcePrefix), k == intakeScopeName, k == intakeScopeVersion:
		case k == intakeSpanKind:
			out.SetKind(spanKind(attrString(v)))
		default:
			putValue(attrs, k, v)
		}
	}
	putTags(attrs, sp.Tags)
	putUsage(attrs, sp.Usage)
	for _, p := range sp.Payloads {
		putPayload(attrs, p)
	}

	evs := out.Events()
	evs.EnsureCapacity(len(sp.Events) + len(sp.Exceptions) + len(sp.Scores))
	for _, e := range sp.Events {
		ev := evs.AppendEmpty()
		ev.SetName(e.Name)
		ev.SetTimestamp(timestamp(e.Time))
		for _, k := range sortedKeys(e.Attributes) {
			putValue(ev.Attributes(), k, e.Attributes[k])
		}
	}
	for _, x := range sp.Exceptions {
		ev := evs.AppendEmpty()
		ev.SetName("exception")
		ev.SetTimestamp(timestamp(x.Time))
		putException(ev.Attributes(), x.Type, x.Message, x.StackTrace)
	}
	for i := range sp.Scores {
		ev := evs.AppendEmpty()
		ev.SetName(scoreEventName)
		ev.SetTimestamp(timestamp(sp.Scores[i].Time))
		putScore(ev.Attributes(), &sp.Scores[i])
	}
}

// spanKind is the inverse of the intake's otel.span.kind values.
func spanKind(s string) ptrace.SpanKind {
	switch s {
	case "internal":
		return ptrace.SpanKindInternal
	case "server":
		return ptrace.SpanKindServer
	case "client":
		return ptrace.SpanKindClient
	case "producer":
		return ptrace.SpanKindProducer
	case "consumer":
		return ptrace.SpanKindConsumer
	}
	return ptrace.SpanKindUnspecified
}

// putException writes the semconv exception.* attributes that are set.
func putException(m pcommon.Map, typ, msg, stack string) {
	if typ != "" {
		m.PutStr("exception.type", typ)
	}
	if msg != "" {
		m.PutStr("exception.message", msg)
	}
	if stack != "" {
		m.PutStr("exception.stacktrace", stack)
	}
}

// putScore writes a score's attributes (not its ids, time or tags).
func putScore(m pcommon.Map, s *telemetry.Score) {
	m.PutStr(attrScoreName, s.Name)
	m.PutDouble(attrScoreValue, s.Value)
	if s.Unit != "" {
		m.PutStr(attrScoreUnit, s.Unit)
	}
	if s.Comment != "" {
		m.PutStr(attrScoreComment, s.Comment)
	}
	if s.Severity != 0 {
		m.PutInt(attrScoreSeverity, int64(s.Severity))
	}
}

// usageKey maps a usage counter to its attribute: the GenAI semantic
// conventions' gen_ai.usage.* where one means the same thing, else
// graphsignal.usage.[<payload>.]<name>.
func usageKey(u telemetry.Usage) string {
	switch u.TokenKind() {
	case telemetry.TokensInput:
		return "gen_ai.usage.input_tokens"
	case telemetry.TokensOutput:
		return "gen_ai.usage.output_tokens"
	case telemetry.TokensCacheRead:
		return "gen_ai.usage.cache_read.input_tokens"
	case telemetry.TokensCacheCreation:
		return "gen_ai.usage.cache_creation.input_tokens"
	}
	if u.PayloadName != "" {
		return usageAttrPrefix + u.PayloadName + "." + u.Name
	}
	return usageAttrPrefix + u.Name
}

// putUsage writes usage counters; two counters with the same key add up.
// Token counts with an integral value are integers, as in the conventions.
func putUsage(m pcommon.Map, usage []telemetry.Usage) {
	if len(usage) == 0 {
		return
	}
	sums := make(map[string]float64, len(usage))
	var order []string
	for _, u := range usage {
		k := usageKey(u)
		if _, ok := sums[k]; !ok {
			order = append(order, k)
		}
		sums[k] += u.Value
	}
	for _, k := range order {
		v := sums[k]
		if strings.HasPrefix(k, "gen_ai.") && v == float64(int64(v)) {
			m.PutInt(k, int64(v))
		} else {
			m.PutDouble(k, v)
		}
	}
}

// putPayload writes a payload as graphsignal.payload.<name> (text, or
// bytes when not UTF-8) and its content type.
func putPayload(m pcommon.Map, p telemetry.Payload) {
	k := payloadAttrPrefix + p.Name
	if utf8.Valid(p.Data) {
		m.PutStr(k, string(p.Data))
	} else {
		m.PutStr(k, base64.StdEncoding.EncodeToString(p.Data))
		m.PutStr(k+".encoding", "base64")
	}
	if p.ContentType != "" {
		m.PutStr(k+".content_type", p.ContentType)
	}
}
