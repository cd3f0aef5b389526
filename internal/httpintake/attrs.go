package httpintake

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Attribute keys added by the intake.
const (
	attrIntake         = "graphsignal.intake" // "otlp" or "graphsignal_sdk"
	attrScopeName      = "otel.scope.name"
	attrScopeVersion   = "otel.scope.version"
	attrSpanKind       = "otel.span.kind"
	attrLinkedSpanIDs  = "graphsignal.linked_span_ids"
	resourceAttrPrefix = "resource."
	tagServiceName     = "service.name"
)

// contentAttrPrefixes name attributes that carry prompts, completions and
// other payload content (OpenTelemetry GenAI and OpenInference conventions).
// They are removed unless Config.RecordPayloads.
var contentAttrPrefixes = []string{
	"gen_ai.prompt", "gen_ai.completion",
	"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
	"gen_ai.tool.call.arguments", "gen_ai.tool.call.result",
	"llm.input_messages", "llm.output_messages", "llm.prompts",
	"input.value", "output.value",
}

// contentEventNames name span events that carry payload content.
var contentEventNames = []string{
	"gen_ai.content.prompt", "gen_ai.content.completion",
	"gen_ai.system.message", "gen_ai.user.message", "gen_ai.assistant.message",
	"gen_ai.tool.message", "gen_ai.choice", "gen_ai.client.inference.operation.details",
}

func isContentAttr(key string) bool {
	if !strings.HasPrefix(key, "gen_ai.") && !strings.HasPrefix(key, "llm.") &&
		!strings.HasPrefix(key, "input.") && !strings.HasPrefix(key, "output.") {
		return false
	}
	for _, p := range contentAttrPrefixes {
		if key == p || (strings.HasPrefix(key, p) && key[len(p)] == '.') {
			return true
		}
	}
	return false
}

func isContentEvent(name string) bool {
	for _, n := range contentEventNames {
		if name == n {
			return true
		}
	}
	return false
}

// attrValue converts an OTLP value to one of the attribute types of
// telemetry.Span: string, bool, int64, float64 or []string. Maps and byte
// strings become their string form (JSON, base64); arrays become []string.
func attrValue(v pcommon.Value) any {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return v.Str()
	case pcommon.ValueTypeBool:
		return v.Bool()
	case pcommon.ValueTypeInt:
		return v.Int()
	case pcommon.ValueTypeDouble:
		return v.Double()
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		out := make([]string, s.Len())
		for i := range s.Len() {
			out[i] = s.At(i).AsString()
		}
		return out
	default:
		return v.AsString()
	}
}

// putAttrs copies m into dst under prefix, skipping content attributes when
// payloads are not recorded.
func (s *Server) putAttrs(dst map[string]any, m pcommon.Map, prefix string) {
	m.Range(func(k string, v pcommon.Value) bool {
		if !s.cfg.RecordPayloads && isContentAttr(k) {
			return true
		}
		dst[prefix+k] = attrValue(v)
		return true
	})
}

// stringTags converts OTLP attributes to tags (values in string form).
func stringTags(dst telemetry.Tags, m pcommon.Map) {
	m.Range(func(k string, v pcommon.Value) bool {
		dst[k] = v.AsString()
		return true
	})
}

// runTags adds the run's tags to t where t has no value of its own (a tag
// the SDK set on the record is more specific, as on the socket; a session
// the program set is the record's session, docs/store.md "Sessions"). It
// returns t.
func (s *Server) runTags(t telemetry.Tags) telemetry.Tags {
	run := s.tags()
	if t == nil {
		t = make(telemetry.Tags, len(run))
	}
	for k, v := range run {
		if _, ok := t[k]; !ok {
			t[k] = v
		}
	}
	return t
}

// semconvTags are the OpenTelemetry attributes that name a record's
// session and user, and the tags they set.
var semconvTags = [...]struct{ attr, tag string }{
	{"session.id", telemetry.TagSessionID},
	{"user.id", telemetry.TagUserID},
	{"enduser.id", telemetry.TagUserID},
}

// sessionTags returns the session_id and user_id tags that OTLP attributes
// m set (session.id, user.id or enduser.id), nil when none.
func sessionTags(m pcommon.Map) telemetry.Tags {
	var t telemetry.Tags
	for _, st := range semconvTags {
		if v, ok := m.Get(st.attr); ok && v.AsString() != "" {
			if t == nil {
				t = telemetry.Tags{}
			}
			if _, set := t[st.tag]; !set {
				t[st.tag] = v.AsString()
			}
		}
	}
	return t
}

// timeOr converts Unix nanoseconds, using def for 0 or negative values.
func timeOr(ns int64, def time.Time) time.Time {
	if ns <= 0 {
		return def
	}
	return time.Unix(0, ns)
}

// exceptionFrom builds an Exception from exception.* attributes.
func exceptionFrom(get func(string) string, at time.Time) telemetry.Exception {
	return telemetry.Exception{
		Type:       get("exception.type"),
		Message:    get("exception.message"),
		StackTrace: get("exception.stacktrace"),
		Time:       at,
	}
}

// parentFor returns the parent a span gets: its own, or the run span when it
// is a root in the run's trace.
func (s *Server) parentFor(trace telemetry.TraceID, span, parent telemetry.SpanID) telemetry.SpanID {
	return s.ownRun().parentFor(trace, span, parent)
}

// parentFor returns the parent a span gets in run: its own, or run's span
// when it is a root in run's trace.
func (r sdkRun) parentFor(trace telemetry.TraceID, span, parent telemetry.SpanID) telemetry.SpanID {
	if parent.IsZero() && trace == r.trace && span != r.runSpan {
		return r.runSpan
	}
	return parent
}
