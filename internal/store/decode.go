package store

import (
	"bytes"
	"encoding/base64"
	"math"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// columnDecoder decodes the store's JSON columns (the inverse of
// tagsText, encodeAttrs and spanColumns) through one reused fastjson
// parser, without copying the text first. Malformed text decodes to nil; a
// field of the wrong type to its zero value. Short strings are interned:
// the spans of a trace repeat their keys and most of their values. A
// columnDecoder is not safe for concurrent use.
type columnDecoder struct {
	p    fastjson.Parser
	strs map[string]string
	num  []byte
}

// internLimit is the longest string columnDecoder interns.
const internLimit = 64

// str returns v's string (empty for any other type), a copy that outlives
// the parser.
func (d *columnDecoder) str(v *fastjson.Value) string {
	if v == nil || v.Type() != fastjson.TypeString {
		return ""
	}
	return d.intern(v.GetStringBytes())
}

func (d *columnDecoder) intern(b []byte) string {
	if len(b) > internLimit {
		return string(b)
	}
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	d.strs[s] = s
	return s
}

// parse returns the value of col when it is JSON of type t.
func (d *columnDecoder) parse(col []byte, t fastjson.Type) *fastjson.Value {
	if len(col) == 0 {
		return nil
	}
	v, err := d.p.ParseBytes(col)
	if err != nil || v.Type() != t {
		return nil
	}
	return v
}

// array returns the elements of col when it is a JSON array.
func (d *columnDecoder) array(col []byte) ([]*fastjson.Value, bool) {
	v := d.parse(col, fastjson.TypeArray)
	if v == nil {
		return nil, false
	}
	a, _ := v.Array()
	return a, true
}

// strings decodes a JSON array of strings; other elements are left out.
func (d *columnDecoder) strings(col []byte) []string {
	a, _ := d.array(col)
	var out []string
	for _, e := range a {
		if e.Type() == fastjson.TypeString {
			out = append(out, d.intern(e.GetStringBytes()))
		}
	}
	return out
}

// tags decodes a tags column: an object of strings (null as "").
func (d *columnDecoder) tags(col []byte) telemetry.Tags {
	v := d.parse(col, fastjson.TypeObject)
	if v == nil {
		return nil
	}
	o, _ := v.Object()
	if o.Len() == 0 {
		return nil
	}
	t := make(telemetry.Tags, o.Len())
	ok := true
	o.Visit(func(k []byte, v *fastjson.Value) {
		switch v.Type() {
		case fastjson.TypeString, fastjson.TypeNull:
			t[d.intern(k)] = d.str(v)
		default:
			ok = false
		}
	})
	if !ok {
		return nil
	}
	return t
}

// attrs decodes an attributes column: integers (no decimal point or
// exponent) as int64, other numbers as float64, arrays of strings as
// []string, other arrays as []any, objects as map[string]any.
func (d *columnDecoder) attrs(col []byte) map[string]any {
	v := d.parse(col, fastjson.TypeObject)
	if v == nil {
		return nil
	}
	o, _ := v.Object()
	if o.Len() == 0 {
		return nil
	}
	return d.object(o)
}

func (d *columnDecoder) object(o *fastjson.Object) map[string]any {
	m := make(map[string]any, o.Len())
	o.Visit(func(k []byte, v *fastjson.Value) {
		m[d.intern(k)] = d.value(v)
	})
	return m
}

// value is v as decodeAttrs returns attribute values: integers as int64,
// other numbers as float64, arrays of strings as []string.
func (d *columnDecoder) value(v *fastjson.Value) any {
	switch v.Type() {
	case fastjson.TypeString:
		return d.str(v)
	case fastjson.TypeNumber:
		d.num = v.MarshalTo(d.num[:0])
		if !bytes.ContainsAny(d.num, ".eE") {
			if i, err := strconv.ParseInt(string(d.num), 10, 64); err == nil {
				return i
			}
		}
		f, _ := strconv.ParseFloat(string(d.num), 64)
		return f
	case fastjson.TypeTrue:
		return true
	case fastjson.TypeFalse:
		return false
	case fastjson.TypeArray:
		a, _ := v.Array()
		strs := make([]string, 0, len(a))
		for _, e := range a {
			if e.Type() == fastjson.TypeString {
				strs = append(strs, d.str(e))
			}
		}
		if len(strs) == len(a) {
			return strs
		}
		out := make([]any, len(a))
		for i, e := range a {
			out[i] = d.value(e)
		}
		return out
	case fastjson.TypeObject:
		o, _ := v.Object()
		return d.object(o)
	}
	return nil
}

// exceptions decodes an exceptions column.
func (d *columnDecoder) exceptions(col []byte) []telemetry.Exception {
	a, ok := d.array(col)
	if !ok {
		return nil
	}
	out := make([]telemetry.Exception, len(a))
	for i, e := range a {
		out[i] = telemetry.Exception{Type: d.str(e.Get("type")), Message: d.str(e.Get("message")),
			StackTrace: d.str(e.Get("stack_trace")), Time: telemetry.FromUnixNano(e.GetInt64("time_ns"))}
	}
	return out
}

// payloads decodes a payloads column (data in base64); nil when empty.
func (d *columnDecoder) payloads(col []byte) []telemetry.Payload {
	a, _ := d.array(col)
	if len(a) == 0 {
		return nil
	}
	out := make([]telemetry.Payload, len(a))
	for i, e := range a {
		out[i] = telemetry.Payload{Name: d.str(e.Get("name")), ContentType: d.str(e.Get("content_type"))}
		if data := e.Get("data"); data != nil && data.Type() == fastjson.TypeString {
			b64 := data.GetStringBytes()
			buf := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
			n, err := base64.StdEncoding.Decode(buf, b64)
			if err != nil {
				return nil
			}
			out[i].Data = buf[:n]
		}
	}
	return out
}

// usage decodes a usage column (NaN written as null); nil when empty.
func (d *columnDecoder) usage(col []byte) []telemetry.Usage {
	a, _ := d.array(col)
	if len(a) == 0 {
		return nil
	}
	out := make([]telemetry.Usage, len(a))
	for i, e := range a {
		out[i] = telemetry.Usage{PayloadName: d.str(e.Get("payload_name")), Name: d.str(e.Get("name")), Value: math.NaN()}
		if n := e.Get("value"); n != nil && n.Type() == fastjson.TypeNumber {
			out[i].Value = n.GetFloat64()
		}
	}
	return out
}

// newColumnDecoder returns a decoder with an empty intern table.
func newColumnDecoder() *columnDecoder {
	return &columnDecoder{strs: map[string]string{}}
}

// parseTags decodes one tags column; nil, empty or malformed text is nil.
func parseTags(s *string) telemetry.Tags { return newColumnDecoder().tags(text(s)) }

// decodeAttrs decodes one attributes column (columnDecoder.attrs).
func decodeAttrs(s *string) map[string]any { return newColumnDecoder().attrs(text(s)) }

// decodeExceptions decodes one exceptions column.
func decodeExceptions(s *string) []telemetry.Exception { return newColumnDecoder().exceptions(text(s)) }

func text(s *string) []byte {
	if s == nil {
		return nil
	}
	return []byte(*s)
}
