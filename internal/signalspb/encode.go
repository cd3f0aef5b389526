package signalspb

import (
	"maps"
	"math"
	"slices"

	"github.com/graphsignal/graphsignal/internal/wire"
)

// appender is implemented by the pointer to every message type; a nil
// pointer appends nothing (it encodes as an empty message).
type appender interface {
	AppendMarshal(b []byte) []byte
}

func appendString(b []byte, num wire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = wire.AppendTag(b, num, wire.BytesType)
	return wire.AppendString(b, s)
}

func appendStrings(b []byte, num wire.Number, ss []string) []byte {
	for _, s := range ss {
		b = wire.AppendTag(b, num, wire.BytesType)
		b = wire.AppendString(b, s)
	}
	return b
}

func appendVarint[T ~int32 | ~int64 | ~uint64](b []byte, num wire.Number, v T) []byte {
	if v == 0 {
		return b
	}
	b = wire.AppendTag(b, num, wire.VarintType)
	return wire.AppendVarint(b, uint64(v))
}

// appendDouble omits only +0 (proto3 implicit presence compares bits, so
// -0 is written, as protobuf-go does).
func appendDouble(b []byte, num wire.Number, v float64) []byte {
	if math.Float64bits(v) == 0 {
		return b
	}
	return appendFixed64(b, num, v)
}

func appendFixed64(b []byte, num wire.Number, v float64) []byte {
	b = wire.AppendTag(b, num, wire.Fixed64Type)
	return wire.AppendFixed64(b, math.Float64bits(v))
}

func appendPackedVarints[T ~int64 | ~uint64](b []byte, num wire.Number, vs []T) []byte {
	if len(vs) == 0 {
		return b
	}
	size := 0
	for _, v := range vs {
		size += wire.SizeVarint(uint64(v))
	}
	b = wire.AppendTag(b, num, wire.BytesType)
	b = wire.AppendVarint(b, uint64(size))
	for _, v := range vs {
		b = wire.AppendVarint(b, uint64(v))
	}
	return b
}

func appendPackedDoubles(b []byte, num wire.Number, vs []float64) []byte {
	if len(vs) == 0 {
		return b
	}
	b = wire.AppendTag(b, num, wire.BytesType)
	b = wire.AppendVarint(b, uint64(8*len(vs)))
	for _, v := range vs {
		b = wire.AppendFixed64(b, math.Float64bits(v))
	}
	return b
}

// appendMessage appends m as field num. The body is appended after a
// one-byte length that is widened in place when the body is 128 bytes or
// longer, so that no size pass is needed.
func appendMessage(b []byte, num wire.Number, m appender) []byte {
	b = wire.AppendTag(b, num, wire.BytesType)
	at := len(b)
	b = m.AppendMarshal(append(b, 0))
	size := len(b) - at - 1
	if size < 0x80 {
		b[at] = byte(size)
		return b
	}
	k := wire.SizeVarint(uint64(size))
	b = append(b, make([]byte, k-1)...)
	copy(b[at+k:], b[at+1:at+1+size])
	wire.AppendVarint(b[:at], uint64(size))
	return b
}

func appendMessages[P appender](b []byte, num wire.Number, ms []P) []byte {
	for _, m := range ms {
		b = appendMessage(b, num, m)
	}
	return b
}

// appendMap appends a map<string, string> field with its keys sorted; each
// entry has both its key and its value, as protobuf-go writes them.
func appendMap(b []byte, num wire.Number, m map[string]string) []byte {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		b = wire.AppendTag(b, num, wire.BytesType)
		b = wire.AppendVarint(b, uint64(wire.SizeTag(1)+wire.SizeBytes(len(k))+
			wire.SizeTag(2)+wire.SizeBytes(len(v))))
		b = wire.AppendTag(b, 1, wire.BytesType)
		b = wire.AppendString(b, k)
		b = wire.AppendTag(b, 2, wire.BytesType)
		b = wire.AppendString(b, v)
	}
	return b
}
