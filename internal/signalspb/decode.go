package signalspb

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/graphsignal/graphsignal/internal/wire"
)

// ErrMalformed is wrapped by every error that Unmarshal returns: b is not
// the protobuf encoding of the message (truncated or overlong data, an
// invalid tag, a length past the end, invalid UTF-8 in a string).
var ErrMalformed = errors.New("malformed signals protobuf")

// message is implemented by the pointer to every message type.
type message interface {
	// field decodes the value of field num, of wire type typ, at the start
	// of b into the message and returns its length. It returns 0 and no
	// error for an unknown field or an unexpected wire type: the caller
	// skips the value, as protobuf-go does.
	field(num wire.Number, typ wire.Type, b []byte) (int, error)
}

// decode merges the fields encoded in b into m.
func decode(b []byte, m message) error {
	for len(b) > 0 {
		num, typ, n := wire.ConsumeTag(b)
		if n < 0 {
			return malformed(n)
		}
		b = b[n:]
		n, err := m.field(num, typ, b)
		if err != nil {
			return fmt.Errorf("field %d: %w", num, err)
		}
		if n == 0 {
			if n = wire.ConsumeFieldValue(num, typ, b); n < 0 {
				return fmt.Errorf("field %d: %w", num, malformed(n))
			}
		}
		b = b[n:]
	}
	return nil
}

// malformed turns a wire error code into an error wrapping ErrMalformed.
func malformed(n int) error {
	return fmt.Errorf("%w: %w", ErrMalformed, wire.ParseError(n))
}

func bytesValue(b []byte) ([]byte, int, error) {
	v, n := wire.ConsumeBytes(b)
	if n < 0 {
		return nil, 0, malformed(n)
	}
	return v, n, nil
}

func stringValue(b []byte) (string, int, error) {
	v, n, err := bytesValue(b)
	if err != nil {
		return "", 0, err
	}
	if !utf8.Valid(v) {
		return "", 0, fmt.Errorf("%w: string is not valid UTF-8", ErrMalformed)
	}
	return string(v), n, nil
}

func decodeString(typ wire.Type, b []byte, dst *string) (int, error) {
	if typ != wire.BytesType {
		return 0, nil
	}
	s, n, err := stringValue(b)
	if err == nil {
		*dst = s
	}
	return n, err
}

func decodeStrings(typ wire.Type, b []byte, dst *[]string) (int, error) {
	if typ != wire.BytesType {
		return 0, nil
	}
	s, n, err := stringValue(b)
	if err == nil {
		*dst = append(*dst, s)
	}
	return n, err
}

// decodeVarint decodes int64, uint64 and enum (int32, truncating) fields.
func decodeVarint[T ~int32 | ~int64 | ~uint64](typ wire.Type, b []byte, dst *T) (int, error) {
	if typ != wire.VarintType {
		return 0, nil
	}
	v, n := wire.ConsumeVarint(b)
	if n < 0 {
		return 0, malformed(n)
	}
	*dst = T(v)
	return n, nil
}

func decodeDouble(typ wire.Type, b []byte, dst *float64) (int, error) {
	if typ != wire.Fixed64Type {
		return 0, nil
	}
	v, n := wire.ConsumeFixed64(b)
	if n < 0 {
		return 0, malformed(n)
	}
	*dst = math.Float64frombits(v)
	return n, nil
}

// decodeVarints decodes a repeated int64 or uint64 field, packed or not.
func decodeVarints[T ~int64 | ~uint64](typ wire.Type, b []byte, dst *[]T) (int, error) {
	switch typ {
	case wire.VarintType:
		v, n := wire.ConsumeVarint(b)
		if n < 0 {
			return 0, malformed(n)
		}
		*dst = append(*dst, T(v))
		return n, nil
	case wire.BytesType:
		p, n, err := bytesValue(b)
		if err != nil {
			return 0, err
		}
		count := 0
		for _, c := range p {
			if c < 0x80 {
				count++
			}
		}
		*dst = slices.Grow(*dst, count)
		for len(p) > 0 {
			v, k := wire.ConsumeVarint(p)
			if k < 0 {
				return 0, malformed(k)
			}
			*dst = append(*dst, T(v))
			p = p[k:]
		}
		return n, nil
	}
	return 0, nil
}

// decodeDoubles decodes a repeated double field, packed or not.
func decodeDoubles(typ wire.Type, b []byte, dst *[]float64) (int, error) {
	switch typ {
	case wire.Fixed64Type:
		v, n := wire.ConsumeFixed64(b)
		if n < 0 {
			return 0, malformed(n)
		}
		*dst = append(*dst, math.Float64frombits(v))
		return n, nil
	case wire.BytesType:
		p, n, err := bytesValue(b)
		if err != nil {
			return 0, err
		}
		*dst = slices.Grow(*dst, len(p)/8)
		for len(p) > 0 {
			v, k := wire.ConsumeFixed64(p)
			if k < 0 {
				return 0, malformed(k)
			}
			*dst = append(*dst, math.Float64frombits(v))
			p = p[k:]
		}
		return n, nil
	}
	return 0, nil
}

// decodeMessage merges an embedded message into m.
func decodeMessage(typ wire.Type, b []byte, m message) (int, error) {
	if typ != wire.BytesType {
		return 0, nil
	}
	v, n, err := bytesValue(b)
	if err != nil {
		return 0, err
	}
	return n, decode(v, m)
}

// decodeMessages appends an element to a repeated message field.
func decodeMessages[T any, P interface {
	*T
	message
}](typ wire.Type, b []byte, dst *[]P) (int, error) {
	if typ != wire.BytesType {
		return 0, nil
	}
	v, n, err := bytesValue(b)
	if err != nil {
		return 0, err
	}
	m := P(new(T))
	if err := decode(v, m); err != nil {
		return 0, err
	}
	*dst = append(*dst, m)
	return n, nil
}

// mapEntry is an entry of a map<string, string> field.
type mapEntry struct{ key, value string }

func (e *mapEntry) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 1:
		return decodeString(typ, b, &e.key)
	case 2:
		return decodeString(typ, b, &e.value)
	}
	return 0, nil
}

// decodeMap adds an entry to a map<string, string> field; a later entry
// with the same key replaces an earlier one.
func decodeMap(typ wire.Type, b []byte, dst *map[string]string) (int, error) {
	var e mapEntry
	n, err := decodeMessage(typ, b, &e)
	if n == 0 || err != nil {
		return 0, err
	}
	if *dst == nil {
		*dst = make(map[string]string)
	}
	(*dst)[e.key] = e.value
	return n, nil
}
