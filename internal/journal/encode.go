package journal

import (
	"errors"
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
// keys. decodeBatch reads the same lines into the same values in one pass
// without reflection or intermediate types, in about a third of the CPU
// time and a fifth of the allocations (BenchmarkDecodeSpans; on the
// delivery path decoding had taken three quarters of the time). It keeps
// what encoding/json made of lines encodeBatch never writes: keys matched
// case-insensitively, unknown keys skipped, null leaving a field as it was,
// a repeated key decoding over the first. FuzzDecodeBatchDifferential holds
// it to that reference, kept in decode_ref_test.go.

// decodeBatch reads one line (without its newline) written by encodeBatch
// (append.go). It does not retain line. Records of the batch may share one
// Tags map: the batch is read-only (Chunk).
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
	// lastTags is the last tags object decoded into a new map, and
	// lastTagsText its text (tags).
	lastTags     telemetry.Tags
	lastTagsText []byte
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
		if err := d.fields(batchKeys, func(key []byte) error {
			switch string(key) {
			case "spans":
				return list2(d, &b.Spans, &aux.spans, d.span)
			case "metrics":
				return list2(d, &b.Metrics, &aux.metrics, d.metric)
			case "scores":
				return list2(d, &b.Scores, &aux.scores, d.score)
			case "logs":
				return list2(d, &b.Logs, &aux.logs, d.log)
			case "sdk_uploads":
				return list(d, &b.SDKUploads, d.upload)
			default:
				return errNoField
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

// errNoField is what a field function returns for a key that is not
// exactly one of its fields' names.
var errNoField = errors.New("no such field")

// fields decodes an object whose keys name the fields in names. field is
// called with each key, the scanner at its value, and returns errNoField
// (consuming nothing) for a key that is not exactly a name; such a key
// that folds to a name (fieldName) is passed to field again as that name,
// and the value of any other key is skipped. null leaves everything as it
// was.
func (d *decoder) fields(names []string, field func(key []byte) error) error {
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
		if err = field(key); err == errNoField {
			if name := fieldName(key, names); name != "" {
				err = field([]byte(name))
			} else {
				err = s.skip()
			}
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
