package journal

import (
	"bytes"
	"encoding/base64"
	"maps"
	"math"
	"strconv"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Field values, decoded as encoding/json decoded the reference's Go types
// (decode_ref_test.go): null leaves a string, number or bool as it was and
// sets a map, slice or pointer to nil; a value of another JSON type is an
// error.

func (d *decoder) str(dst *string) error {
	if null, err := d.s.null(); null || err != nil {
		return err
	}
	v, _, err := d.s.str()
	if err != nil {
		return err
	}
	*dst = d.intern(v)
	return nil
}

// intern returns v as a string, the same string for the same short text
// within a long line: names, tag and attribute keys and values repeat
// from record to record, and one copy of each saves an allocation per
// use.
func (d *decoder) intern(v []byte) string {
	const maxLen, maxStrings = 64, 4096
	if len(v) == 0 {
		return ""
	}
	if len(v) > maxLen || len(d.s.data) < 4096 {
		return string(v)
	}
	if s, ok := d.strs[string(v)]; ok {
		return s
	}
	s := string(v)
	if d.strs == nil {
		d.strs = make(map[string]string, 64)
	}
	if len(d.strs) < maxStrings {
		d.strs[s] = s
	}
	return s
}

// number returns the text of a number, or nil for null.
func (d *decoder) number() ([]byte, error) {
	if null, err := d.s.null(); null || err != nil {
		return nil, err
	}
	return d.s.number()
}

func (d *decoder) int64(dst *int64) error {
	lit, err := d.number()
	if lit == nil || err != nil {
		return err
	}
	v, err := parseInt(lit)
	if err != nil {
		return d.s.typeErr("an integer")
	}
	*dst = v
	return nil
}

func (d *decoder) int(dst *int) error {
	var v int64
	lit, err := d.number()
	if lit == nil || err != nil {
		return err
	}
	if v, err = parseInt(lit); err != nil || int64(int(v)) != v {
		return d.s.typeErr("an int")
	}
	*dst = int(v)
	return nil
}

func (d *decoder) uint(dst *uint64) error {
	lit, err := d.number()
	if lit == nil || err != nil {
		return err
	}
	v, err := parseUint(lit)
	if err != nil {
		return d.s.typeErr("an unsigned integer")
	}
	*dst = v
	return nil
}

// byte is an element of a []byte given as an array of numbers.
func (d *decoder) byte(dst *byte) error {
	var v uint64
	lit, err := d.number()
	if lit == nil || err != nil {
		return err
	}
	if v, err = parseUint(lit); err != nil || v > math.MaxUint8 {
		return d.s.typeErr("a byte")
	}
	*dst = byte(v)
	return nil
}

// time reads Unix nanoseconds (0: the zero time).
func (d *decoder) time(dst *time.Time) error {
	lit, err := d.number()
	if lit == nil || err != nil {
		return err
	}
	v, err := parseInt(lit)
	if err != nil {
		return d.s.typeErr("an integer")
	}
	*dst = telemetry.FromUnixNano(v)
	return nil
}

func (d *decoder) bool(dst *bool) error {
	if null, err := d.s.null(); null || err != nil {
		return err
	}
	v, err := d.s.boolean()
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

// float reads a number, or NaN or ±Inf as the strings "NaN", "+Inf" and
// "-Inf" written exactly so; null is an error, as it was for the
// reference's UnmarshalJSON.
func (d *decoder) float(dst *float64) error {
	s := &d.s
	switch s.ws() {
	case '"':
		start := s.pos
		if _, _, err := s.str(); err != nil {
			return err
		}
		switch string(s.data[start:s.pos]) {
		case `"NaN"`:
			*dst = math.NaN()
		case `"+Inf"`:
			*dst = math.Inf(1)
		case `"-Inf"`:
			*dst = math.Inf(-1)
		default:
			return s.typeErr("a number")
		}
		return nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		lit, err := s.number()
		if err != nil {
			return err
		}
		v, err := strconv.ParseFloat(string(lit), 64)
		if err != nil {
			return s.typeErr("a float64")
		}
		*dst = v
		return nil
	}
	return s.wrongType("a number")
}

// bytes reads base64 (as base64.StdEncoding.Decode reads it, line breaks
// ignored), or an array of byte values.
func (d *decoder) bytes(dst *[]byte) error {
	s := &d.s
	if s.ws() != '"' {
		return list(d, dst, d.byte)
	}
	v, _, err := s.str()
	if err != nil {
		return err
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(v)))
	n, err := base64.StdEncoding.Decode(b, v)
	if err != nil {
		return s.typeErr("base64")
	}
	*dst = b[:n]
	return nil
}

// tags reads an object of strings into *dst, adding to the map already
// there; null sets nil, and a null value is "". A record whose tags are
// written exactly as the previous record's gets the same map: the records
// of a run carry the same tags, and a decoded batch is read-only.
func (d *decoder) tags(dst *telemetry.Tags) error {
	s := &d.s
	switch s.ws() {
	case 'n':
		*dst = nil
		return s.literal("null")
	case '{':
	default:
		return s.wrongType("an object")
	}
	start := s.pos
	if *dst == nil && d.lastTags != nil && bytes.HasPrefix(s.data[start:], d.lastTagsText) {
		// The same text is the same object: it ends at its last brace.
		*dst = d.lastTags
		s.pos += len(d.lastTagsText)
		return nil
	}
	fresh := *dst == nil
	if err := s.open(); err != nil {
		return err
	}
	if fresh {
		*dst = telemetry.Tags{}
	} else {
		// A repeated key adds to the map, which another record may share.
		*dst = maps.Clone(*dst)
	}
	for n := 0; ; {
		key, ok, err := s.nextKey(&n)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		k := d.intern(key)
		var v string
		if err := d.str(&v); err != nil {
			return err
		}
		(*dst)[k] = v
	}
	if fresh {
		d.lastTags, d.lastTagsText = *dst, s.data[start:s.pos]
	}
	return nil
}

// attrs reads typed attribute values into *dst, adding to the map already
// there; null sets nil.
func (d *decoder) attrs(dst *map[string]any) error {
	s := &d.s
	switch s.ws() {
	case 'n':
		*dst = nil
		return s.literal("null")
	case '{':
	default:
		return s.wrongType("an object")
	}
	if err := s.open(); err != nil {
		return err
	}
	if *dst == nil {
		*dst = map[string]any{}
	}
	for n := 0; ; {
		key, ok, err := s.nextKey(&n)
		if err != nil || !ok {
			return err
		}
		k := d.intern(key)
		v, err := d.value()
		if err != nil {
			return err
		}
		(*dst)[k] = v
	}
}

// value reads one typed attribute value: {"s":…}, {"i":…}, {"f":…},
// {"b":…} or {"a":[…]}. Where several are given the first of s, i, f, b
// wins; none (or null) is an empty []string.
func (d *decoder) value() (any, error) {
	var (
		str                    string
		i                      int64
		f                      float64
		b                      bool
		a                      []string
		hasS, hasI, hasF, hasB bool
	)
	err := d.fields(valueKeys, func(key []byte) error {
		name := string(key) // no allocation for one byte
		switch name {
		case "s", "i", "f", "b", "a":
		default:
			return errNoField
		}
		if null, err := d.s.null(); null || err != nil {
			switch name {
			case "s":
				hasS = false
			case "i":
				hasI = false
			case "f":
				hasF = false
			case "b":
				hasB = false
			default:
				a = nil
			}
			return err
		}
		switch name {
		case "s":
			hasS = true
			return d.str(&str)
		case "i":
			hasI = true
			return d.int64(&i)
		case "f":
			hasF = true
			return d.float(&f)
		case "b":
			hasB = true
			return d.bool(&b)
		default:
			return list(d, &a, d.str)
		}
	})
	switch {
	case err != nil:
		return nil, err
	case hasS:
		return str, nil
	case hasI:
		return i, nil
	case hasF:
		return f, nil
	case hasB:
		return b, nil
	case a == nil:
		return []string{}, nil
	}
	return a, nil
}

// parseInt is strconv.ParseInt(string(lit), 10, 64) for the text of a JSON
// number, without the conversion for the common ones (times in
// nanoseconds have 19 digits).
func parseInt(lit []byte) (int64, error) {
	digits := lit
	if len(lit) > 0 && lit[0] == '-' {
		digits = lit[1:]
	}
	if len(digits) == 0 || len(digits) > 19 {
		return strconv.ParseInt(string(lit), 10, 64)
	}
	var v uint64
	for _, c := range digits {
		if !isDigit(c) {
			return strconv.ParseInt(string(lit), 10, 64)
		}
		v = v*10 + uint64(c-'0')
	}
	if v > math.MaxInt64 {
		return strconv.ParseInt(string(lit), 10, 64) // out of range, or MinInt64
	}
	if len(digits) < len(lit) {
		return -int64(v), nil
	}
	return int64(v), nil
}

// parseUint is strconv.ParseUint(string(lit), 10, 64), likewise.
func parseUint(lit []byte) (uint64, error) {
	if len(lit) == 0 || len(lit) > 19 {
		return strconv.ParseUint(string(lit), 10, 64)
	}
	var v uint64
	for _, c := range lit {
		if !isDigit(c) {
			return strconv.ParseUint(string(lit), 10, 64)
		}
		v = v*10 + uint64(c-'0')
	}
	return v, nil
}
