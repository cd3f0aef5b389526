// Package wire reads and writes the protobuf wire format: tags, varints,
// fixed32 and fixed64 values and length-delimited bytes, and skips a field
// of any wire type, groups included.
//
// It is the part of google.golang.org/protobuf/encoding/protowire that
// graphsignal uses, with the same semantics and the same result convention,
// but with no dependency outside the standard library and no package-level
// variables or initialisation: protowire imports protobuf's internal/detrand,
// whose package initialisation hashes the running executable on every start
// of the binary.
//
// The Append functions append an encoding to b and return the extended
// slice. The Consume functions parse a value at the start of b and return it
// with its length in bytes; a negative length is an error code, which
// ParseError turns into one of the Error constants (callers branch on those
// with errors.Is). No function panics on malformed input, and none allocates:
// a length read from the input is only ever compared with len(b). The package
// is safe for concurrent use.
package wire

import "math/bits"

// Number is a protobuf field number.
type Number int32

// MaxValidNumber is the largest field number that a message may use.
const MaxValidNumber Number = 1<<29 - 1

// DefaultRecursionLimit bounds how deeply ConsumeFieldValue follows nested
// groups: a group nested more than DefaultRecursionLimit+1 deep is
// ErrRecursionDepth, as in protowire.
const DefaultRecursionLimit = 10000

// Type is a protobuf wire type.
type Type int8

// The wire types; 6 and 7 are invalid (ErrWireType).
const (
	VarintType     Type = 0
	Fixed64Type    Type = 1
	BytesType      Type = 2
	StartGroupType Type = 3
	EndGroupType   Type = 4
	Fixed32Type    Type = 5
)

// Error is a parse error. Its values are the negative lengths that the
// Consume functions return, the same codes as protowire's.
type Error int

// The parse errors.
const (
	// ErrTruncated: the input ends inside a value, or a length runs past
	// the end of the input.
	ErrTruncated Error = -1 - iota
	// ErrFieldNumber: a tag's field number is 0 or above MaxValidNumber
	// (above 2^31-1 for the tags inside a group that ConsumeFieldValue skips,
	// as protowire allows).
	ErrFieldNumber
	// ErrOverflow: a varint is longer than 10 bytes or does not fit in 64
	// bits (its 10th byte is greater than 1).
	ErrOverflow
	// ErrWireType: the wire type is 6 or 7.
	ErrWireType
	// ErrEndGroup: an end-group tag without a start-group tag, or whose
	// field number is not that of the group it ends.
	ErrEndGroup
	// ErrRecursionDepth: groups nested more deeply than
	// DefaultRecursionLimit allows.
	ErrRecursionDepth
)

// Error describes e.
func (e Error) Error() string {
	switch e {
	case ErrTruncated:
		return "unexpected end of protobuf input"
	case ErrFieldNumber:
		return "invalid protobuf field number"
	case ErrOverflow:
		return "protobuf varint overflows 64 bits"
	case ErrWireType:
		return "invalid protobuf wire type"
	case ErrEndGroup:
		return "mismatched protobuf end group"
	case ErrRecursionDepth:
		return "protobuf groups nested too deeply"
	}
	return "protobuf parse error"
}

// ParseError returns the error that the negative length n stands for, or
// nil when n is not negative.
func ParseError(n int) error {
	if n >= 0 {
		return nil
	}
	return Error(n)
}

// AppendTag appends the tag of field num with wire type typ.
func AppendTag(b []byte, num Number, typ Type) []byte {
	return AppendVarint(b, uint64(num)<<3|uint64(typ&7))
}

// ConsumeTag parses a tag. It returns ErrFieldNumber for field number 0 or
// one above MaxValidNumber, but not for a wire type of 6 or 7: that is an
// error of ConsumeFieldValue.
func ConsumeTag(b []byte) (Number, Type, int) {
	num, typ, n := consumeTag(b)
	if n >= 0 && num > MaxValidNumber {
		return 0, 0, int(ErrFieldNumber)
	}
	return num, typ, n
}

// consumeTag is protowire.ConsumeTag: field numbers up to 2^31-1 pass.
func consumeTag(b []byte) (Number, Type, int) {
	v, n := ConsumeVarint(b)
	if n < 0 {
		return 0, 0, n
	}
	if v>>3 < 1 || v>>3 > 1<<31-1 {
		return 0, 0, int(ErrFieldNumber)
	}
	return Number(v >> 3), Type(v & 7), n
}

// SizeTag returns the encoded length of a tag of field num.
func SizeTag(num Number) int {
	return SizeVarint(uint64(num) << 3)
}

// AppendVarint appends v as a varint (base-128, least significant group
// first).
func AppendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// ConsumeVarint parses a varint. Overlong encodings (trailing 0x80 bytes)
// are accepted up to 10 bytes.
func ConsumeVarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < 10; i++ {
		if i >= len(b) {
			return 0, int(ErrTruncated)
		}
		c := b[i]
		if i == 9 && c > 1 {
			return 0, int(ErrOverflow)
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1
		}
	}
	return 0, int(ErrOverflow)
}

// SizeVarint returns the encoded length of v as a varint, from 1 to 10.
func SizeVarint(v uint64) int {
	return (bits.Len64(v|1) + 6) / 7
}

// AppendFixed32 appends v in 4 bytes, little-endian.
func AppendFixed32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

// ConsumeFixed32 parses a little-endian 4-byte value.
func ConsumeFixed32(b []byte) (uint32, int) {
	if len(b) < 4 {
		return 0, int(ErrTruncated)
	}
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24, 4
}

// AppendFixed64 appends v in 8 bytes, little-endian.
func AppendFixed64(b []byte, v uint64) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24),
		byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

// ConsumeFixed64 parses a little-endian 8-byte value.
func ConsumeFixed64(b []byte) (uint64, int) {
	if len(b) < 8 {
		return 0, int(ErrTruncated)
	}
	lo, _ := ConsumeFixed32(b)
	hi, _ := ConsumeFixed32(b[4:])
	return uint64(lo) | uint64(hi)<<32, 8
}

// AppendBytes appends v with its varint length before it.
func AppendBytes(b []byte, v []byte) []byte {
	return append(AppendVarint(b, uint64(len(v))), v...)
}

// AppendString appends v with its varint length before it.
func AppendString(b []byte, v string) []byte {
	return append(AppendVarint(b, uint64(len(v))), v...)
}

// ConsumeBytes parses a length-delimited value. The result aliases b.
func ConsumeBytes(b []byte) ([]byte, int) {
	m, n := ConsumeVarint(b)
	if n < 0 {
		return nil, n
	}
	if m > uint64(len(b)-n) {
		return nil, int(ErrTruncated)
	}
	return b[n : n+int(m)], n + int(m)
}

// SizeBytes returns the encoded length of a length-delimited value of n
// bytes.
func SizeBytes(n int) int {
	return SizeVarint(uint64(n)) + n
}

// ConsumeFieldValue returns the length of the value of field num, of wire
// type typ, at the start of b (the tag already consumed). For a group it is
// everything up to and including the matching end-group tag; the fields in
// the group are checked as protowire checks them.
func ConsumeFieldValue(num Number, typ Type, b []byte) int {
	return consumeFieldValue(num, typ, b, DefaultRecursionLimit)
}

func consumeFieldValue(num Number, typ Type, b []byte, depth int) int {
	var n int
	switch typ {
	case VarintType:
		_, n = ConsumeVarint(b)
	case Fixed32Type:
		_, n = ConsumeFixed32(b)
	case Fixed64Type:
		_, n = ConsumeFixed64(b)
	case BytesType:
		_, n = ConsumeBytes(b)
	case StartGroupType:
		n = consumeGroup(num, b, depth)
	case EndGroupType:
		n = int(ErrEndGroup)
	default:
		n = int(ErrWireType)
	}
	return n
}

// consumeGroup returns the length of the fields of group num and its
// end-group tag.
func consumeGroup(num Number, b []byte, depth int) int {
	if depth < 0 {
		return int(ErrRecursionDepth)
	}
	total := len(b)
	for {
		num2, typ2, n := consumeTag(b)
		if n < 0 {
			return n
		}
		b = b[n:]
		if typ2 == EndGroupType {
			if num2 != num {
				return int(ErrEndGroup)
			}
			return total - len(b)
		}
		if n = consumeFieldValue(num2, typ2, b, depth-1); n < 0 {
			return n
		}
		b = b[n:]
	}
}
