package gsapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/graphsignal/graphsignal/internal/signalspb"
	"github.com/graphsignal/graphsignal/internal/telemetry"
	"github.com/graphsignal/graphsignal/internal/upload"
)

// Names used in the request, as the Graphsignal SDK and the intake's
// inverse mapping (docs/intake.md) use them.
const (
	tagSpanStatus     = "span.status"    // "error" marks a failed span
	tagExceptionName  = "exception.name" // the SDK's tag: type of the last exception
	attrStatusMessage = "span.status.message"
	attrLinkedSpanIDs = "graphsignal.linked_span_ids"
	attrPayloadPrefix = "payload."
	eventException    = "exception"
	eventScore        = "score"
	scoreSpanName     = "score"
	spanKindScore     = "score"
	contentTypeJSON   = "application/json"
	maxDescription    = 4096 // bytes of stderr tail in an Issue or an error log
)

// mapper builds one UploadRequest from one batch. It reads the delta state
// of counters and histograms already delivered and collects the updates
// that commit applies once the request was accepted.
type mapper struct {
	now       time.Time
	cpuFactor float64
	sent      seriesState            // read only
	index     *upload.RunIndex       // read only; nil: points keep their own tags
	next      map[string]seriesPoint // this request's updates
	runs      []telemetry.TraceID
	errLogs   []telemetry.Log
	req       signalspb.UploadRequest
}

func newMapper(now time.Time, cpuFactor float64, sent seriesState, runs *upload.RunIndex) *mapper {
	return &mapper{now: now, cpuFactor: cpuFactor, sent: sent, index: runs, next: map[string]seriesPoint{}}
}

// request maps every record of b that is not InSDKUpload.
func (m *mapper) request(b *telemetry.Batch) *signalspb.UploadRequest {
	m.req.UploadTs = m.now.UnixNano()
	m.req.Spans = make([]*signalspb.Span, 0, len(b.Spans)+len(b.Scores))
	for i := range b.Spans {
		if !b.Spans[i].InSDKUpload {
			m.span(&b.Spans[i])
		}
	}
	for i := range b.Scores {
		m.score(&b.Scores[i])
	}
	m.metrics(b.Metrics)
	m.logs(b.Logs, m.errLogs)
	return &m.req
}

// span maps one span, and for a run span its resources, its Issue and its
// error log.
func (m *mapper) span(sp *telemetry.Span) {
	ps := &signalspb.Span{
		SpanId:       sp.SpanID.String(),
		TraceId:      sp.TraceID.String(),
		ParentSpanId: sp.ParentSpanID.String(),
		StartTs:      telemetry.UnixNano(sp.Start),
		EndTs:        telemetry.UnixNano(sp.End),
		Name:         sp.Name,
		Tags:         sortedTags(spanTags(sp)),
		Counters:     counters(sp.Usage),
		Events:       m.spanEvents(sp),
	}
	ps.Attributes, ps.LinkedSpanIds = spanAttributes(sp)
	m.req.Spans = append(m.req.Spans, ps)
	if sp.IsRun() {
		m.runs = append(m.runs, sp.TraceID)
		m.resources(sp)
		m.gpuResources(sp)
	}
	if sp.Status == telemetry.StatusError {
		m.failure(sp)
	}
}

// spanTags are the span's tags with, for a failed span, span.status=error
// and exception.name (unless set), as the SDK tags a failed span.
func spanTags(sp *telemetry.Span) telemetry.Tags {
	if sp.Status != telemetry.StatusError {
		return sp.Tags
	}
	tags := sp.Tags.Merge(telemetry.Tags{tagSpanStatus: "error"})
	if n := len(sp.Exceptions); n > 0 && sp.Exceptions[n-1].Type != "" {
		if _, ok := tags[tagExceptionName]; !ok {
			tags[tagExceptionName] = sp.Exceptions[n-1].Type
		}
	}
	return tags
}

// spanAttributes returns the span's attributes as text with its status
// message and payloads, sorted, and its linked span ids.
func spanAttributes(sp *telemetry.Span) ([]*signalspb.Attribute, []string) {
	var linked []string
	attrs := make(attrList, 0, len(sp.Attributes)+2*len(sp.Payloads)+1)
	for k, v := range sp.Attributes {
		if k == attrLinkedSpanIDs {
			if ids, ok := v.([]string); ok {
				linked = ids
				continue
			}
		}
		attrs.add(k, attrString(v))
	}
	if sp.StatusMessage != "" {
		attrs.add(attrStatusMessage, sp.StatusMessage)
	}
	for _, p := range sp.Payloads {
		payloadAttrs(&attrs, p)
	}
	return attrs.sorted(), linked
}

// counters maps usage: "<payload_name>.<name>" when tied to a payload.
func counters(usage []telemetry.Usage) []*signalspb.Counter {
	if len(usage) == 0 {
		return nil
	}
	vals := make([]signalspb.Counter, len(usage))
	out := make([]*signalspb.Counter, len(usage))
	for i, u := range usage {
		vals[i] = signalspb.Counter{Name: u.Name, Value: u.Value}
		if u.PayloadName != "" {
			vals[i].Name = u.PayloadName + "." + u.Name
		}
		out[i] = &vals[i]
	}
	return out
}

// spanEvents maps events, then exceptions ("exception" events), then scores
// ("score" events); an exception or score without a time gets the span's
// end.
func (m *mapper) spanEvents(sp *telemetry.Span) []*signalspb.SpanEvent {
	n := len(sp.Events) + len(sp.Exceptions) + len(sp.Scores)
	if n == 0 {
		return nil
	}
	out := make([]*signalspb.SpanEvent, 0, n)
	for _, e := range sp.Events {
		ev := &signalspb.SpanEvent{Name: e.Name, EventTs: telemetry.UnixNano(e.Time)}
		if len(e.Attributes) > 0 {
			ea := make(attrList, 0, len(e.Attributes))
			for k, v := range e.Attributes {
				ea.add(k, attrString(v))
			}
			ev.Attributes = ea.sorted()
		}
		out = append(out, ev)
	}
	at := func(t time.Time) int64 {
		for _, c := range []time.Time{t, sp.End, sp.Start} {
			if !c.IsZero() {
				return c.UnixNano()
			}
		}
		return m.now.UnixNano()
	}
	for _, x := range sp.Exceptions {
		out = append(out, &signalspb.SpanEvent{Name: eventException, EventTs: at(x.Time), Attributes: nonEmpty(
			"exception.type", x.Type, "exception.message", x.Message, "exception.stacktrace", x.StackTrace)})
	}
	for i := range sp.Scores {
		sc := &sp.Scores[i]
		out = append(out, &signalspb.SpanEvent{Name: eventScore, EventTs: at(sc.Time), Attributes: scoreAttrs(sc)})
	}
	return out
}

// score maps a score that is not part of a span: a zero-duration span
// named "score", child of the scored span, with one "score" event. Its id
// is derived from the score, so that a resent score keeps it.
func (m *mapper) score(sc *telemetry.Score) {
	ts := telemetry.UnixNano(sc.Time)
	if ts == 0 {
		ts = m.now.UnixNano()
	}
	m.req.Spans = append(m.req.Spans, &signalspb.Span{
		SpanId:       scoreSpanID(sc).String(),
		TraceId:      sc.TraceID.String(),
		ParentSpanId: sc.SpanID.String(),
		StartTs:      ts,
		EndTs:        ts,
		Name:         scoreSpanName,
		Tags:         sortedTags(sc.Tags),
		Attributes:   []*signalspb.Attribute{{Name: telemetry.AttrSpanKind, Value: spanKindScore}},
		Events:       []*signalspb.SpanEvent{{Name: eventScore, EventTs: ts, Attributes: scoreAttrs(sc)}},
	})
}

// scoreSpanID is the first 8 bytes of a hash of the score's identity.
func scoreSpanID(sc *telemetry.Score) telemetry.SpanID {
	var id telemetry.SpanID
	copy(id[:], digest("score", sc.TraceID.String(), sc.SpanID.String(), sc.Name,
		strconv.FormatInt(telemetry.UnixNano(sc.Time), 10), formatFloat(sc.Value), sc.Comment))
	if id.IsZero() {
		id[7] = 1
	}
	return id
}

func scoreAttrs(sc *telemetry.Score) []*signalspb.Attribute {
	a := []*signalspb.Attribute{{Name: "name", Value: sc.Name}, {Name: "score", Value: formatFloat(sc.Value)}}
	if sc.Unit != "" {
		a = append(a, &signalspb.Attribute{Name: "unit", Value: sc.Unit})
	}
	if sc.Severity != 0 {
		a = append(a, &signalspb.Attribute{Name: "severity", Value: strconv.Itoa(sc.Severity)})
	}
	if sc.Comment != "" {
		a = append(a, &signalspb.Attribute{Name: "comment", Value: sc.Comment})
	}
	return a
}

// payloadAttrs carries a payload as the SDK carries content: an attribute,
// "payload.<name>", holding the data as text (base64 when it is not UTF-8),
// and "payload.<name>.content_type" unless it is JSON.
func payloadAttrs(attrs *attrList, p telemetry.Payload) {
	key := attrPayloadPrefix + p.Name
	ct := p.ContentType
	val := string(p.Data)
	if !utf8.Valid(p.Data) {
		val = base64.StdEncoding.EncodeToString(p.Data)
		ct += ";base64"
	}
	attrs.add(key, val)
	if ct != "" && ct != contentTypeJSON {
		attrs.add(key+".content_type", ct)
	}
}

// nonEmpty returns attributes for the name/value pairs whose value is set.
func nonEmpty(kv ...string) []*signalspb.Attribute {
	var a []*signalspb.Attribute
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			a = append(a, &signalspb.Attribute{Name: kv[i], Value: kv[i+1]})
		}
	}
	return a
}

// sortedTags returns t's entries sorted by key (nil for none), allocated
// together.
func sortedTags(t telemetry.Tags) []*signalspb.Tag {
	if len(t) == 0 {
		return nil
	}
	vals := make([]signalspb.Tag, 0, len(t))
	for k, v := range t {
		vals = append(vals, signalspb.Tag{Key: k, Value: v})
	}
	out := make([]*signalspb.Tag, len(vals))
	for i := range vals {
		out[i] = &vals[i]
	}
	slices.SortFunc(out, func(a, b *signalspb.Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// attrList collects attributes, allocated together, and returns them sorted
// by name.
type attrList []signalspb.Attribute

func (l *attrList) add(name, value string) {
	*l = append(*l, signalspb.Attribute{Name: name, Value: value})
}

func (l attrList) sorted() []*signalspb.Attribute {
	if len(l) == 0 {
		return nil
	}
	out := make([]*signalspb.Attribute, len(l))
	for i := range l {
		out[i] = &l[i]
	}
	sortAttrs(out)
	return out
}

func sortAttrs(a []*signalspb.Attribute) {
	slices.SortFunc(a, func(x, y *signalspb.Attribute) int { return strings.Compare(x.Name, y.Name) })
}

// attrString is an attribute value as text: strings as they are, booleans
// "true"/"false", integers in decimal, floats as JSON writes them, string
// lists as a JSON array.
func attrString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return formatFloat(x)
	case []string:
		b, _ := json.Marshal(x)
		return string(b)
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// formatFloat writes f as encoding/json does (NaN and infinities as Go
// spells them).
func formatFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// tagsKey is a canonical form of a tag set, for grouping.
func tagsKey(t telemetry.Tags) string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(t[k])
		b.WriteByte(0)
	}
	return b.String()
}
