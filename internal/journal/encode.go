package journal

import (
	"fmt"
	"slices"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// The line format: one JSON object per batch. It keeps every field of the
// telemetry model exactly: times as Unix nanoseconds (0 = zero time), ids as
// hex, floats that JSON cannot hold (NaN, ±Inf) as strings, and attribute
// values with their type ({"s":…}, {"i":…}, {"f":…}, {"b":…}, {"a":[…]}) so
// that an int64 stays an int64; an SDK upload's body and a payload's data
// are base64. The format is private: only this package reads what it
// writes (append.go), and a journal lives until its readers are done.
//
// The keys, in the order encodeBatch writes them (all may be left out;
// see append.go for which are written when):
//
//	batch:      spans metrics scores logs sdk_uploads
//	span:       trace_id span_id parent_span_id name start end tags attributes
//	            status status_message events exceptions payloads usage scores
//	            in_sdk_upload
//	event:      name time attributes
//	exception:  type message stack_trace time
//	payload:    Name ContentType Data
//	usage:      payload_name name value
//	score:      name value unit comment severity tags trace_id span_id time
//	metric:     trace_id name kind unit tags time value buckets counts count
//	            sum in_sdk_upload
//	log:        time level message exception tags trace_id span_id
//	            in_sdk_upload
//	sdk upload: time body
//
// The journal's first decoder was encoding/json into Go types with these
// keys; decodeBatch reads the same lines into the same values in one pass
// without reflection (about 7 times faster, BENCHMARKS.md), including what
// encoding/json would make of lines encodeBatch never writes: keys matched
// case-insensitively, unknown keys skipped, null leaving a field as it was,
// a repeated key decoding over the first. FuzzDecodeBatchDifferential holds
// it to that reference, kept in decode_ref_test.go.

// decodeBatch reads one line (without its newline) written by encodeBatch
// (append.go). It does not retain line.
func decodeBatch(line []byte) (telemetry.Batch, error) {
	d := decoder{s: scanner{data: line}}
	b, err := d.batch()
	if err != nil {
		return telemetry.Batch{}, fmt.Errorf("decode batch: %w", err)
	}
	return b, nil
}

// decoder decodes one line.
type decoder struct {
	s    scanner
	strs map[string]string // interned strings (intern)
}

// idFlags marks the ids of a record whose last text was not an id
// (encoding/json decoded them as strings, checked once the whole line was
// read: a key given twice counts as its last value).
type idFlags uint8

const (
	badTrace idFlags = 1 << iota
	badSpan
	badParent
)

// spanAux is what a span needs beside its telemetry.Span while decoding.
type spanAux struct {
	bad    idFlags
	scores []idFlags // of the span's scores, in step with Span.Scores
}

// batchAux holds the id flags of the records of a batch, in step with
// their lists.
type batchAux struct {
	spans                 []spanAux
	metrics, scores, logs []idFlags
}

// Field names by record, for keys that are not exactly one of them.
var (
	batchKeys     = []string{"spans", "metrics", "scores", "logs", "sdk_uploads"}
	spanKeys      = []string{"trace_id", "span_id", "parent_span_id", "name", "start", "end", "tags", "attributes", "status", "status_message", "events", "exceptions", "payloads", "usage", "scores", "in_sdk_upload"}
	eventKeys     = []string{"name", "time", "attributes"}
	exceptionKeys = []string{"type", "message", "stack_trace", "time"}
	payloadKeys   = []string{"Name", "ContentType", "Data"}
	usageKeys     = []string{"payload_name", "name", "value"}
	scoreKeys     = []string{"name", "value", "unit", "comment", "severity", "tags", "trace_id", "span_id", "time"}
	metricKeys    = []string{"trace_id", "name", "kind", "unit", "tags", "time", "value", "buckets", "counts", "count", "sum", "in_sdk_upload"}
	logKeys       = []string{"time", "level", "message", "exception", "tags", "trace_id", "span_id", "in_sdk_upload"}
	uploadKeys    = []string{"time", "body"}
	valueKeys     = []string{"s", "i", "f", "b", "a"}
)

func (d *decoder) batch() (telemetry.Batch, error) {
	var b telemetry.Batch
	var aux batchAux
	s := &d.s
	switch s.ws() {
	case 'n':
		if err := s.literal("null"); err != nil {
			return telemetry.Batch{}, err
		}
	case '{':
		if err := d.fields(batchKeys, func(name string) error {
			switch name {
			case "spans":
				return list2(d, &b.Spans, &aux.spans, d.span)
			case "metrics":
				return list2(d, &b.Metrics, &aux.metrics, d.metric)
			case "scores":
				return list2(d, &b.Scores, &aux.scores, d.score)
			case "logs":
				return list2(d, &b.Logs, &aux.logs, d.log)
			default: // sdk_uploads
				return list(d, &b.SDKUploads, d.upload)
			}
		}); err != nil {
			return telemetry.Batch{}, err
		}
	default:
		return telemetry.Batch{}, s.wrongType("an object")
	}
	if s.ws(); s.pos != len(s.data) {
		return telemetry.Batch{}, s.syntaxErr()
	}
	if err := finish(&b, &aux); err != nil {
		return telemetry.Batch{}, err
	}
	return b, nil
}

// fields decodes an object whose keys name the fields in names: field is
// called with the name, the scanner at the value; values of other keys are
// skipped. null leaves everything as it was.
func (d *decoder) fields(names []string, field func(name string) error) error {
	s := &d.s
	switch s.ws() {
	case 'n':
		return s.literal("null")
	case '{':
	default:
		return s.wrongType("an object")
	}
	if err := s.open(); err != nil {
		return err
	}
	for n := 0; ; {
		key, ok, err := s.nextKey(&n)
		if err != nil || !ok {
			return err
		}
		if name := fieldName(key, names); name != "" {
			err = field(name)
		} else {
			err = s.skip()
		}
		if err != nil {
			return err
		}
	}
}

// list decodes an array into *dst as encoding/json does: null sets nil;
// elements decode over those already in *dst (a repeated key), past its
// length into its spare capacity (whatever an earlier, longer array left
// there), and the slice ends at the last element given (empty, not nil,
// for []).
func list[T any](d *decoder, dst *[]T, elem func(*T) error) error {
	aux := make([]struct{}, len(*dst))
	return list2(d, dst, &aux, func(v *T, _ *struct{}) error { return elem(v) })
}

// list2 is list with a second slice, aux, kept in step with *dst: the
// same length, and element i of both decoded together.
func list2[T, A any](d *decoder, dst *[]T, aux *[]A, elem func(*T, *A) error) error {
	s := &d.s
	switch s.ws() {
	case 'n':
		*dst, *aux = nil, nil
		return s.literal("null")
	case '[':
	default:
		return s.wrongType("an array")
	}
	if err := s.open(); err != nil {
		return err
	}
	v, a, i := *dst, *aux, 0
	for n := 0; ; i++ {
		ok, err := s.nextElem(&n)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if i >= len(v) {
			// Capacity doubles, and what lies past the length is kept:
			// which elements hold data does not depend on capacity.
			v, a = grow(v, i), grow(a, i)
		}
		if err := elem(&v[i], &a[i]); err != nil {
			return err
		}
	}
	switch {
	case i == 0:
		v, a = make([]T, 0), make([]A, 0)
	case i < len(v):
		v, a = v[:i], a[:i]
	}
	*dst, *aux = v, a
	return nil
}

// grow returns v with length i+1 (i == len(v)), its capacity doubled when
// full.
func grow[T any](v []T, i int) []T {
	if i >= cap(v) {
		v = slices.Grow(v[:cap(v)], max(cap(v), 4))[:len(v)]
	}
	return v[:i+1]
}

func (d *decoder) span(sp *telemetry.Span, aux *spanAux) error {
	return d.fields(spanKeys, func(name string) error {
		switch name {
		case "trace_id":
			return d.traceID(&sp.TraceID, &aux.bad, badTrace)
		case "span_id":
			return d.spanID(&sp.SpanID, &aux.bad, badSpan)
		case "parent_span_id":
			return d.spanID(&sp.ParentSpanID, &aux.bad, badParent)
		case "name":
			return d.str(&sp.Name)
		case "start":
			return d.time(&sp.Start)
		case "end":
			return d.time(&sp.End)
		case "tags":
			return d.tags(&sp.Tags)
		case "attributes":
			return d.attrs(&sp.Attributes)
		case "status":
			return d.int((*int)(&sp.Status))
		case "status_message":
			return d.str(&sp.StatusMessage)
		case "events":
			return list(d, &sp.Events, d.event)
		case "exceptions":
			return list(d, &sp.Exceptions, d.exception)
		case "payloads":
			return list(d, &sp.Payloads, d.payload)
		case "usage":
			return list(d, &sp.Usage, d.usage)
		case "scores":
			return list2(d, &sp.Scores, &aux.scores, d.score)
		default: // in_sdk_upload
			return d.bool(&sp.InSDKUpload)
		}
	})
}

func (d *decoder) event(e *telemetry.Event) error {
	return d.fields(eventKeys, func(name string) error {
		switch name {
		case "name":
			return d.str(&e.Name)
		case "time":
			return d.time(&e.Time)
		default: // attributes
			return d.attrs(&e.Attributes)
		}
	})
}

func (d *decoder) exception(x *telemetry.Exception) error {
	return d.fields(exceptionKeys, func(name string) error {
		switch name {
		case "type":
			return d.str(&x.Type)
		case "message":
			return d.str(&x.Message)
		case "stack_trace":
			return d.str(&x.StackTrace)
		default: // time
			return d.time(&x.Time)
		}
	})
}

func (d *decoder) payload(p *telemetry.Payload) error {
	return d.fields(payloadKeys, func(name string) error {
		switch name {
		case "Name":
			return d.str(&p.Name)
		case "ContentType":
			return d.str(&p.ContentType)
		default: // Data
			return d.bytes(&p.Data)
		}
	})
}

func (d *decoder) usage(u *telemetry.Usage) error {
	return d.fields(usageKeys, func(name string) error {
		switch name {
		case "payload_name":
			return d.str(&u.PayloadName)
		case "name":
			return d.str(&u.Name)
		default: // value
			return d.float(&u.Value)
		}
	})
}

func (d *decoder) score(sc *telemetry.Score, bad *idFlags) error {
	return d.fields(scoreKeys, func(name string) error {
		switch name {
		case "name":
			return d.str(&sc.Name)
		case "value":
			return d.float(&sc.Value)
		case "unit":
			return d.str(&sc.Unit)
		case "comment":
			return d.str(&sc.Comment)
		case "severity":
			return d.int(&sc.Severity)
		case "tags":
			return d.tags(&sc.Tags)
		case "trace_id":
			return d.traceID(&sc.TraceID, bad, badTrace)
		case "span_id":
			return d.spanID(&sc.SpanID, bad, badSpan)
		default: // time
			return d.time(&sc.Time)
		}
	})
}

func (d *decoder) metric(m *telemetry.Metric, bad *idFlags) error {
	return d.fields(metricKeys, func(name string) error {
		switch name {
		case "trace_id":
			return d.traceID(&m.TraceID, bad, badTrace)
		case "name":
			return d.str(&m.Name)
		case "kind":
			return d.int((*int)(&m.Kind))
		case "unit":
			return d.str(&m.Unit)
		case "tags":
			return d.tags(&m.Tags)
		case "time":
			return d.time(&m.Time)
		case "value":
			return d.float(&m.Value)
		case "buckets":
			return list(d, &m.Buckets, d.float)
		case "counts":
			return list(d, &m.Counts, d.uint)
		case "count":
			return d.uint(&m.Count)
		case "sum":
			return d.float(&m.Sum)
		default: // in_sdk_upload
			return d.bool(&m.InSDKUpload)
		}
	})
}

func (d *decoder) log(l *telemetry.Log, bad *idFlags) error {
	return d.fields(logKeys, func(name string) error {
		switch name {
		case "time":
			return d.time(&l.Time)
		case "level":
			return d.str(&l.Level)
		case "message":
			return d.str(&l.Message)
		case "exception":
			return d.str(&l.Exception)
		case "tags":
			return d.tags(&l.Tags)
		case "trace_id":
			return d.traceID(&l.TraceID, bad, badTrace)
		case "span_id":
			return d.spanID(&l.SpanID, bad, badSpan)
		default: // in_sdk_upload
			return d.bool(&l.InSDKUpload)
		}
	})
}

func (d *decoder) upload(u *telemetry.SDKUpload) error {
	return d.fields(uploadKeys, func(name string) error {
		if name == "time" {
			return d.time(&u.Time)
		}
		return d.bytes(&u.Body)
	})
}

// finish fails on a bad id and gives the batch the shape the reference
// decoder gave it: empty lists of records, events, exceptions, usage,
// scores and buckets and empty attribute sets as nil; tags, payloads,
// counts and bytes as decoded.
func finish(b *telemetry.Batch, aux *batchAux) error {
	if len(b.Spans) == 0 {
		b.Spans = nil
	}
	for i := range b.Spans {
		if err := finishSpan(&b.Spans[i], &aux.spans[i]); err != nil {
			return err
		}
	}
	if len(b.Metrics) == 0 {
		b.Metrics = nil
	}
	for i := range b.Metrics {
		if aux.metrics[i] != 0 {
			return badID(aux.metrics[i])
		}
		if len(b.Metrics[i].Buckets) == 0 {
			b.Metrics[i].Buckets = nil
		}
	}
	if len(b.Scores) == 0 {
		b.Scores = nil
	}
	if len(b.Logs) == 0 {
		b.Logs = nil
	}
	for _, bad := range slices.Concat(aux.scores, aux.logs) {
		if bad != 0 {
			return badID(bad)
		}
	}
	if len(b.SDKUploads) == 0 {
		b.SDKUploads = nil
	}
	return nil
}

func finishSpan(s *telemetry.Span, aux *spanAux) error {
	if aux.bad != 0 {
		return badID(aux.bad)
	}
	for _, bad := range aux.scores {
		if bad != 0 {
			return badID(bad)
		}
	}
	if len(s.Attributes) == 0 {
		s.Attributes = nil
	}
	if len(s.Events) == 0 {
		s.Events = nil
	}
	for i := range s.Events {
		if len(s.Events[i].Attributes) == 0 {
			s.Events[i].Attributes = nil
		}
	}
	if len(s.Exceptions) == 0 {
		s.Exceptions = nil
	}
	if len(s.Usage) == 0 {
		s.Usage = nil
	}
	if len(s.Scores) == 0 {
		s.Scores = nil
	}
	return nil
}

func badID(f idFlags) error {
	if f&badTrace != 0 {
		return fmt.Errorf("trace id: %w", telemetry.ErrBadID)
	}
	return fmt.Errorf("span id: %w", telemetry.ErrBadID)
}

// traceID and spanID read an id: "" for none, else exactly the hex of a
// non-zero id (telemetry.ParseTraceID, ParseSpanID). Other text leaves the
// id zero and sets flag in bad (cleared by a later valid one): the line
// is rejected once read.
func (d *decoder) traceID(dst *telemetry.TraceID, bad *idFlags, flag idFlags) error {
	return d.id(dst[:], bad, flag)
}

func (d *decoder) spanID(dst *telemetry.SpanID, bad *idFlags, flag idFlags) error {
	return d.id(dst[:], bad, flag)
}

func (d *decoder) id(dst []byte, bad *idFlags, flag idFlags) error {
	if null, err := d.s.null(); null || err != nil {
		return err
	}
	text, _, err := d.s.str()
	if err != nil {
		return err
	}
	if parseID(text, dst) {
		*bad &^= flag
	} else {
		clear(dst)
		*bad |= flag
	}
	return nil
}

// parseID decodes text into dst and reports whether it is an id: empty,
// or 2*len(dst) hex digits not all zero.
func parseID(text, dst []byte) bool {
	if len(text) == 0 {
		clear(dst)
		return true
	}
	if len(text) != 2*len(dst) {
		return false
	}
	zero := true
	for i := range dst {
		hi, ok1 := unhex(text[2*i])
		lo, ok2 := unhex(text[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
		zero = zero && dst[i] == 0
	}
	return !zero
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
