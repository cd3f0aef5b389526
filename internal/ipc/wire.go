package ipc

import (
	"encoding/json"
	"math"
	"sync"

	"github.com/valyala/fastjson"
)

// wire is the union of the fields of every message type, read from the
// parsed line by fill. Fields unknown to this version are ignored. Values
// kept as *fastjson.Value point into the parser and are only valid until
// DecodeLine returns.
type wire struct {
	Type          []byte // these four point into the parser, not copied
	TraceID       []byte
	SpanID        []byte
	ParentSpanID  []byte
	Name          string
	StartNs       int64
	EndNs         int64
	TsNs          int64
	Tags          *fastjson.Object // checked to hold only strings
	Attributes    *fastjson.Object
	Payloads      []wirePayload
	Usage         []wireUsage
	Events        []wireEvent
	Exceptions    []wireException
	Scores        []wireScore
	Status        string
	StatusMessage string
	Score         float64
	Unit          string
	Comment       string
	Severity      int
	Key           string
	Value         *fastjson.Value // tag: string or null; metric: number
	Level         string
	Message       string
	Exception     string
	Kind          string
	Buckets       []float64
	Counts        []uint64
	Count         uint64
	Sum           float64
	// sdk_upload's fields, checked by decodeSDKUploadChunk alone so that
	// other messages keep ignoring fields of these names.
	UploadID   *fastjson.Value
	UploadSeq  *fastjson.Value
	UploadLast *fastjson.Value
	UploadData *fastjson.Value
}

type wirePayload struct {
	Name        string
	ContentType string
	Data        *fastjson.Value
}

type wireUsage struct {
	PayloadName string
	Name        string
	Value       float64
}

type wireEvent struct {
	Name       string
	TsNs       int64
	Attributes *fastjson.Object
}

type wireException struct {
	Type       string
	Message    string
	StackTrace string
	TsNs       int64
}

type wireScore struct {
	Name     string
	Score    float64
	Unit     string
	Comment  string
	Severity int
	Tags     *fastjson.Object
	TsNs     int64
}

var parsers sync.Pool // of *fastjson.Parser

// pooledLineBytes is the longest line parsed with a pooled parser: a
// parser keeps memory in proportion to the largest line it parsed, so
// long lines get a parser of their own that is then dropped.
const pooledLineBytes = 64 << 10

// putParser returns p to the pool after parsing line.
func putParser(p *fastjson.Parser, line []byte) {
	if len(line) <= pooledLineBytes {
		parsers.Put(p)
	}
}

// parseLine validates line strictly (RFC 8259) and parses it, with a pooled
// parser for lines up to pooledLineBytes. The caller calls putParser once v
// is no longer used.
func parseLine(line []byte) (v *fastjson.Value, p *fastjson.Parser, err error) {
	if err := fastjson.ValidateBytes(line); err != nil {
		return nil, nil, &DecodeError{Reason: ReasonInvalidJSON, Err: err}
	}
	// fastjson accepts control characters inside strings, which RFC 8259
	// forbids; the rare line that has any is checked by encoding/json.
	if hasControl(line) && !json.Valid(line) {
		return nil, nil, badLine(ReasonInvalidJSON, "unescaped control character in a string")
	}
	if len(line) <= pooledLineBytes {
		p, _ = parsers.Get().(*fastjson.Parser)
	}
	if p == nil {
		p = new(fastjson.Parser)
	}
	v, err = p.ParseBytes(line)
	if err != nil {
		putParser(p, line)
		return nil, nil, &DecodeError{Reason: ReasonInvalidJSON, Err: err}
	}
	return v, p, nil
}

// hasControl reports whether line has a byte below 0x20 (tab and carriage
// return included: JSON allows them between tokens, not in strings).
func hasControl(line []byte) bool {
	for _, c := range line {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// typeError is the error for a field of the wrong JSON type.
func typeError(field, want string) error {
	return badLine(ReasonWrongType, "field %q: want %s", field, want)
}

// rangeError is the error for a number of the right JSON type whose value
// is out of range: a float beyond float64 (1e400), an integer beyond its
// Go type, a negative count.
func rangeError(field string, v *fastjson.Value) error {
	return badLine(ReasonBadValue, "field %q: %s out of range", field, truncate(v.MarshalTo(nil)))
}

// fields decodes JSON values into Go values, remembering the first error.
type fields struct{ err error }

func (f *fields) fail(field, want string) {
	if f.err == nil {
		f.err = typeError(field, want)
	}
}

// failNumber records the error for a number that did not convert: out of
// range when it is written as an integer (or, for a float field, whatever
// its form), else of the wrong type (a fraction or exponent where an
// integer is wanted).
func (f *fields) failNumber(field, want string, v *fastjson.Value, isFloat bool) {
	if f.err != nil {
		return
	}
	if v.Type() == fastjson.TypeNumber && (isFloat || isIntegerLiteral(v)) {
		f.err = rangeError(field, v)
		return
	}
	f.err = typeError(field, want)
}

// isIntegerLiteral reports whether a number is written as an integer: an
// optional minus and digits only.
func isIntegerLiteral(v *fastjson.Value) bool {
	s := v.MarshalTo(nil)
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(s) > 0
}

func isNull(v *fastjson.Value) bool { return v.Type() == fastjson.TypeNull }

// raw reads a string without copying it.
func (f *fields) raw(field string, v *fastjson.Value, dst *[]byte) {
	if isNull(v) {
		return
	}
	b, err := v.StringBytes()
	if err != nil {
		f.fail(field, "string")
		return
	}
	*dst = b
}

func (f *fields) str(field string, v *fastjson.Value, dst *string) {
	if isNull(v) {
		return
	}
	b, err := v.StringBytes()
	if err != nil {
		f.fail(field, "string")
		return
	}
	*dst = string(b)
}

func (f *fields) int64(field string, v *fastjson.Value, dst *int64) {
	if isNull(v) {
		return
	}
	n, err := v.Int64()
	if err != nil {
		f.failNumber(field, "integer", v, false)
		return
	}
	*dst = n
}

func (f *fields) int(field string, v *fastjson.Value, dst *int) {
	if isNull(v) {
		return
	}
	n, err := v.Int()
	if err != nil {
		f.failNumber(field, "integer", v, false)
		return
	}
	*dst = n
}

func (f *fields) uint64(field string, v *fastjson.Value, dst *uint64) {
	if isNull(v) {
		return
	}
	n, err := v.Uint64()
	if err != nil {
		f.failNumber(field, "non-negative integer", v, false)
		return
	}
	*dst = n
}

func (f *fields) float(field string, v *fastjson.Value, dst *float64) {
	if isNull(v) {
		return
	}
	if v.Type() != fastjson.TypeNumber {
		f.fail(field, "number")
		return
	}
	n, err := v.Float64()
	if err != nil || math.IsInf(n, 0) {
		f.failNumber(field, "number", v, true)
		return
	}
	*dst = n
}

func (f *fields) tags(field string, v *fastjson.Value, dst **fastjson.Object) {
	if isNull(v) {
		return
	}
	o, err := v.Object()
	if err != nil {
		f.fail(field, "object of strings")
		return
	}
	o.Visit(func(_ []byte, tv *fastjson.Value) {
		if tv.Type() != fastjson.TypeString {
			f.fail(field, "object of strings")
		}
	})
	*dst = o
}

// array returns the elements of an array field (nil for null).
func (f *fields) array(field string, v *fastjson.Value) []*fastjson.Value {
	if isNull(v) {
		return nil
	}
	a, err := v.Array()
	if err != nil {
		f.fail(field, "array")
	}
	return a
}

// member returns the member key of an element of an array of objects, or
// nil (also for null) when absent.
func (f *fields) member(field string, e *fastjson.Value, key string) *fastjson.Value {
	if e.Type() != fastjson.TypeObject {
		f.fail(field, "array of objects")
		return nil
	}
	v := e.Get(key)
	if v == nil || isNull(v) {
		return nil
	}
	return v
}

// fill reads the top-level object into w.
func fill(w *wire, top *fastjson.Value) error {
	o, err := top.Object()
	if err != nil {
		return badLine(ReasonWrongType, "line is a JSON %s, want an object", top.Type())
	}
	var f fields
	o.Visit(func(kb []byte, v *fastjson.Value) {
		switch string(kb) { // no allocation: the switch compares bytes
		case "type":
			f.raw("type", v, &w.Type)
		case "name":
			f.str("name", v, &w.Name)
		case "trace_id":
			f.raw("trace_id", v, &w.TraceID)
		case "span_id":
			f.raw("span_id", v, &w.SpanID)
		case "parent_span_id":
			f.raw("parent_span_id", v, &w.ParentSpanID)
		case "start_ns":
			f.int64("start_ns", v, &w.StartNs)
		case "end_ns":
			f.int64("end_ns", v, &w.EndNs)
		case "ts_ns":
			f.int64("ts_ns", v, &w.TsNs)
		case "tags":
			f.tags("tags", v, &w.Tags)
		case "attributes":
			if !isNull(v) {
				a, err := v.Object()
				if err != nil {
					f.fail("attributes", "object")
				}
				w.Attributes = a
			}
		case "payloads":
			for _, e := range f.array("payloads", v) {
				w.Payloads = append(w.Payloads, f.payload(e))
			}
		case "usage":
			for _, e := range f.array("usage", v) {
				w.Usage = append(w.Usage, f.usage(e))
			}
		case "events":
			for _, e := range f.array("events", v) {
				w.Events = append(w.Events, f.event(e))
			}
		case "exceptions":
			for _, e := range f.array("exceptions", v) {
				w.Exceptions = append(w.Exceptions, f.exception(e))
			}
		case "scores":
			for _, e := range f.array("scores", v) {
				w.Scores = append(w.Scores, f.score(e))
			}
		case "status":
			f.str("status", v, &w.Status)
		case "status_message":
			f.str("status_message", v, &w.StatusMessage)
		case "score":
			f.float("score", v, &w.Score)
		case "unit":
			f.str("unit", v, &w.Unit)
		case "comment":
			f.str("comment", v, &w.Comment)
		case "severity":
			f.int("severity", v, &w.Severity)
		case "key":
			f.str("key", v, &w.Key)
		case "value":
			w.Value = v
		case "level":
			f.str("level", v, &w.Level)
		case "message":
			f.str("message", v, &w.Message)
		case "exception":
			f.str("exception", v, &w.Exception)
		case "kind":
			f.str("kind", v, &w.Kind)
		case "buckets":
			for _, e := range f.array("buckets", v) {
				var x float64
				f.float("buckets", e, &x)
				w.Buckets = append(w.Buckets, x)
			}
		case "counts":
			for _, e := range f.array("counts", v) {
				var x uint64
				f.uint64("counts", e, &x)
				w.Counts = append(w.Counts, x)
			}
		case "count":
			f.uint64("count", v, &w.Count)
		case "sum":
			f.float("sum", v, &w.Sum)
		case "id":
			w.UploadID = v
		case "seq":
			w.UploadSeq = v
		case "last":
			w.UploadLast = v
		case "data":
			w.UploadData = v
		}
	})
	return f.err
}

func (f *fields) payload(e *fastjson.Value) wirePayload {
	var p wirePayload
	if v := f.member("payloads", e, "name"); v != nil {
		f.str("payloads.name", v, &p.Name)
	}
	if v := f.member("payloads", e, "content_type"); v != nil {
		f.str("payloads.content_type", v, &p.ContentType)
	}
	p.Data = f.member("payloads", e, "data")
	return p
}

func (f *fields) usage(e *fastjson.Value) wireUsage {
	var u wireUsage
	if v := f.member("usage", e, "payload_name"); v != nil {
		f.str("usage.payload_name", v, &u.PayloadName)
	}
	if v := f.member("usage", e, "name"); v != nil {
		f.str("usage.name", v, &u.Name)
	}
	if v := f.member("usage", e, "value"); v != nil {
		f.float("usage.value", v, &u.Value)
	}
	return u
}

func (f *fields) exception(e *fastjson.Value) wireException {
	var x wireException
	if v := f.member("exceptions", e, "type"); v != nil {
		f.str("exceptions.type", v, &x.Type)
	}
	if v := f.member("exceptions", e, "message"); v != nil {
		f.str("exceptions.message", v, &x.Message)
	}
	if v := f.member("exceptions", e, "stack_trace"); v != nil {
		f.str("exceptions.stack_trace", v, &x.StackTrace)
	}
	if v := f.member("exceptions", e, "ts_ns"); v != nil {
		f.int64("exceptions.ts_ns", v, &x.TsNs)
	}
	return x
}

func (f *fields) event(e *fastjson.Value) wireEvent {
	var x wireEvent
	if v := f.member("events", e, "name"); v != nil {
		f.str("events.name", v, &x.Name)
	}
	if v := f.member("events", e, "ts_ns"); v != nil {
		f.int64("events.ts_ns", v, &x.TsNs)
	}
	if v := f.member("events", e, "attributes"); v != nil {
		a, err := v.Object()
		if err != nil {
			f.fail("events.attributes", "object")
		}
		x.Attributes = a
	}
	return x
}

func (f *fields) score(e *fastjson.Value) wireScore {
	var s wireScore
	if v := f.member("scores", e, "name"); v != nil {
		f.str("scores.name", v, &s.Name)
	}
	if v := f.member("scores", e, "score"); v != nil {
		f.float("scores.score", v, &s.Score)
	}
	if v := f.member("scores", e, "unit"); v != nil {
		f.str("scores.unit", v, &s.Unit)
	}
	if v := f.member("scores", e, "comment"); v != nil {
		f.str("scores.comment", v, &s.Comment)
	}
	if v := f.member("scores", e, "severity"); v != nil {
		f.int("scores.severity", v, &s.Severity)
	}
	if v := f.member("scores", e, "tags"); v != nil {
		f.tags("scores.tags", v, &s.Tags)
	}
	if v := f.member("scores", e, "ts_ns"); v != nil {
		f.int64("scores.ts_ns", v, &s.TsNs)
	}
	return s
}
