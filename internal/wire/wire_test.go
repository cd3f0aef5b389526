package wire

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func tag(num Number, typ Type) []byte { return AppendTag(nil, num, typ) }

func TestAppend(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"varint 0", AppendVarint(nil, 0), []byte{0}},
		{"varint 127", AppendVarint(nil, 127), []byte{0x7f}},
		{"varint 128", AppendVarint(nil, 128), []byte{0x80, 0x01}},
		{"varint 300", AppendVarint(nil, 300), []byte{0xac, 0x02}},
		{"varint max", AppendVarint(nil, math.MaxUint64), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"varint appends", AppendVarint([]byte{9}, 1), []byte{9, 1}},
		{"tag 1 varint", tag(1, VarintType), []byte{0x08}},
		{"tag 2 bytes", tag(2, BytesType), []byte{0x12}},
		{"tag 16 fixed32", tag(16, Fixed32Type), []byte{0x85, 0x01}},
		{"tag max", tag(MaxValidNumber, EndGroupType), []byte{0xfc, 0xff, 0xff, 0xff, 0x0f}},
		{"fixed32", AppendFixed32(nil, 0x01020304), []byte{4, 3, 2, 1}},
		{"fixed64", AppendFixed64(nil, 0x0102030405060708), []byte{8, 7, 6, 5, 4, 3, 2, 1}},
		{"bytes empty", AppendBytes(nil, nil), []byte{0}},
		{"bytes", AppendBytes([]byte{7}, []byte("ab")), []byte{7, 2, 'a', 'b'}},
		{"string", AppendString(nil, "abc"), []byte{3, 'a', 'b', 'c'}},
		{"string 128", AppendString(nil, string(make([]byte, 128)))[:2], []byte{0x80, 0x01}},
	}
	for _, tt := range tests {
		if !bytes.Equal(tt.got, tt.want) {
			t.Errorf("%s: got %x, want %x", tt.name, tt.got, tt.want)
		}
	}
}

func TestSize(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 1<<14 - 1, 1 << 14, 1<<35 - 1, 1 << 35, 1<<63 - 1, 1 << 63, math.MaxUint64} {
		if got, want := SizeVarint(v), len(AppendVarint(nil, v)); got != want {
			t.Errorf("SizeVarint(%d) = %d, want %d", v, got, want)
		}
	}
	for _, num := range []Number{1, 15, 16, 2047, 2048, MaxValidNumber} {
		if got, want := SizeTag(num), len(tag(num, BytesType)); got != want {
			t.Errorf("SizeTag(%d) = %d, want %d", num, got, want)
		}
	}
	for _, n := range []int{0, 1, 127, 128, 20000} {
		if got, want := SizeBytes(n), len(AppendBytes(nil, make([]byte, n))); got != want {
			t.Errorf("SizeBytes(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestConsumeVarint(t *testing.T) {
	tests := []struct {
		in    []byte
		want  uint64
		wantN int
	}{
		{nil, 0, int(ErrTruncated)},
		{[]byte{0}, 0, 1},
		{[]byte{0x7f, 0xff}, 127, 1},
		{[]byte{0xac, 0x02}, 300, 2},
		{[]byte{0x80}, 0, int(ErrTruncated)},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80}, 0, int(ErrTruncated)},
		{[]byte{0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 1, 10},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, math.MaxUint64, 10},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, 0, int(ErrOverflow)},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0, int(ErrOverflow)},
	}
	for _, tt := range tests {
		if v, n := ConsumeVarint(tt.in); v != tt.want || n != tt.wantN {
			t.Errorf("ConsumeVarint(%x) = %d, %d, want %d, %d", tt.in, v, n, tt.want, tt.wantN)
		}
	}
}

func TestConsumeTag(t *testing.T) {
	tests := []struct {
		in      []byte
		num     Number
		typ     Type
		wantN   int
		wantErr error
	}{
		{[]byte{0x08}, 1, VarintType, 1, nil},
		{[]byte{0x0e}, 1, 6, 1, nil},
		{[]byte{0xfc, 0xff, 0xff, 0xff, 0x0f}, MaxValidNumber, EndGroupType, 5, nil},
		{nil, 0, 0, int(ErrTruncated), ErrTruncated},
		{[]byte{0x02}, 0, 0, int(ErrFieldNumber), ErrFieldNumber},
		{AppendVarint(nil, uint64(MaxValidNumber+1)<<3), 0, 0, int(ErrFieldNumber), ErrFieldNumber},
		{AppendVarint(nil, math.MaxUint64), 0, 0, int(ErrFieldNumber), ErrFieldNumber},
		{bytes.Repeat([]byte{0xff}, 11), 0, 0, int(ErrOverflow), ErrOverflow},
	}
	for _, tt := range tests {
		num, typ, n := ConsumeTag(tt.in)
		if num != tt.num || typ != tt.typ || n != tt.wantN {
			t.Errorf("ConsumeTag(%x) = %d, %d, %d, want %d, %d, %d", tt.in, num, typ, n, tt.num, tt.typ, tt.wantN)
		}
		if err := ParseError(n); !errors.Is(err, tt.wantErr) {
			t.Errorf("ParseError(%d) = %v, want %v", n, err, tt.wantErr)
		}
	}
}

func TestConsumeFixed(t *testing.T) {
	tests := []struct {
		in      []byte
		want32  uint32
		wantN32 int
		want64  uint64
		wantN64 int
	}{
		{nil, 0, int(ErrTruncated), 0, int(ErrTruncated)},
		{[]byte{1, 2, 3}, 0, int(ErrTruncated), 0, int(ErrTruncated)},
		{[]byte{4, 3, 2, 1}, 0x01020304, 4, 0, int(ErrTruncated)},
		{[]byte{8, 7, 6, 5, 4, 3, 2}, 0x05060708, 4, 0, int(ErrTruncated)},
		{[]byte{8, 7, 6, 5, 4, 3, 2, 1, 0}, 0x05060708, 4, 0x0102030405060708, 8},
	}
	for _, tt := range tests {
		if v, n := ConsumeFixed32(tt.in); v != tt.want32 || n != tt.wantN32 {
			t.Errorf("ConsumeFixed32(%x) = %#x, %d, want %#x, %d", tt.in, v, n, tt.want32, tt.wantN32)
		}
		if v, n := ConsumeFixed64(tt.in); v != tt.want64 || n != tt.wantN64 {
			t.Errorf("ConsumeFixed64(%x) = %#x, %d, want %#x, %d", tt.in, v, n, tt.want64, tt.wantN64)
		}
	}
}

func TestConsumeBytes(t *testing.T) {
	tests := []struct {
		in    []byte
		want  []byte
		wantN int
	}{
		{[]byte{0}, []byte{}, 1},
		{[]byte{2, 'a', 'b', 'c'}, []byte("ab"), 3},
		{[]byte{3, 'a', 'b'}, nil, int(ErrTruncated)},
		{nil, nil, int(ErrTruncated)},
		{[]byte{0x80}, nil, int(ErrTruncated)},
		{AppendVarint(nil, 1<<62), nil, int(ErrTruncated)},
		{AppendVarint(nil, math.MaxUint64), nil, int(ErrTruncated)},
		{bytes.Repeat([]byte{0xff}, 10), nil, int(ErrOverflow)},
	}
	for _, tt := range tests {
		v, n := ConsumeBytes(tt.in)
		if !bytes.Equal(v, tt.want) || (v == nil) != (tt.want == nil) || n != tt.wantN {
			t.Errorf("ConsumeBytes(%x) = %q, %d, want %q, %d", tt.in, v, n, tt.want, tt.wantN)
		}
	}
}

// nested returns depth groups of field 9 nested in one another.
func nested(depth int) []byte {
	return cat(bytes.Repeat(tag(9, StartGroupType), depth-1), bytes.Repeat(tag(9, EndGroupType), depth))
}

func TestConsumeFieldValue(t *testing.T) {
	tests := []struct {
		name  string
		num   Number
		typ   Type
		in    []byte
		wantN int
	}{
		{"varint", 1, VarintType, []byte{0xac, 0x02, 0xff}, 2},
		{"varint truncated", 1, VarintType, []byte{0xac}, int(ErrTruncated)},
		{"varint overflow", 1, VarintType, bytes.Repeat([]byte{0xff}, 10), int(ErrOverflow)},
		{"fixed32", 1, Fixed32Type, []byte{1, 2, 3, 4, 5}, 4},
		{"fixed32 truncated", 1, Fixed32Type, []byte{1, 2, 3}, int(ErrTruncated)},
		{"fixed64", 1, Fixed64Type, make([]byte, 9), 8},
		{"fixed64 truncated", 1, Fixed64Type, make([]byte, 7), int(ErrTruncated)},
		{"bytes", 1, BytesType, []byte{1, 0, 0}, 2},
		{"bytes past the end", 1, BytesType, []byte{2, 0}, int(ErrTruncated)},
		{"wire type 6", 1, 6, []byte{0}, int(ErrWireType)},
		{"wire type 7", 1, 7, []byte{0}, int(ErrWireType)},
		{"end group alone", 1, EndGroupType, []byte{0}, int(ErrEndGroup)},
		{"empty group", 5, StartGroupType, cat(tag(5, EndGroupType), []byte{0}), 1},
		{"group with fields", 5, StartGroupType, cat(tag(1, VarintType), []byte{1}, tag(2, BytesType), []byte{1, 'x'},
			tag(3, Fixed32Type), make([]byte, 4), tag(4, Fixed64Type), make([]byte, 8), tag(5, EndGroupType)), 20},
		{"nested groups", 9, StartGroupType, nested(3), 5},
		{"field number above max in group", 9, StartGroupType, cat(AppendVarint(nil, uint64(MaxValidNumber+1)<<3), []byte{0}, tag(9, EndGroupType)), 7},
		{"field number 0 in group", 9, StartGroupType, cat([]byte{0}, tag(9, EndGroupType)), int(ErrFieldNumber)},
		{"unterminated group", 9, StartGroupType, tag(1, VarintType), int(ErrTruncated)},
		{"group of nothing", 9, StartGroupType, nil, int(ErrTruncated)},
		{"mismatched end group", 9, StartGroupType, tag(8, EndGroupType), int(ErrEndGroup)},
		{"invalid wire type in group", 9, StartGroupType, cat(tag(1, 7), tag(9, EndGroupType)), int(ErrWireType)},
		{"bytes past the end in group", 9, StartGroupType, cat(tag(1, BytesType), []byte{5}, tag(9, EndGroupType)), int(ErrTruncated)},
		{"deepest groups", 9, StartGroupType, nested(DefaultRecursionLimit + 1), 2*(DefaultRecursionLimit+1) - 1},
		{"groups too deep", 9, StartGroupType, nested(DefaultRecursionLimit + 2), int(ErrRecursionDepth)},
	}
	for _, tt := range tests {
		if n := ConsumeFieldValue(tt.num, tt.typ, tt.in); n != tt.wantN {
			t.Errorf("%s: ConsumeFieldValue(%d, %d, %.40x) = %d (%v), want %d (%v)",
				tt.name, tt.num, tt.typ, tt.in, n, ParseError(n), tt.wantN, ParseError(tt.wantN))
		}
	}
}

func TestParseError(t *testing.T) {
	tests := []struct {
		n    int
		want error
	}{
		{0, nil},
		{5, nil},
		{-1, ErrTruncated},
		{-2, ErrFieldNumber},
		{-3, ErrOverflow},
		{-4, ErrWireType},
		{-5, ErrEndGroup},
		{-6, ErrRecursionDepth},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		err := ParseError(tt.n)
		if err != tt.want {
			t.Errorf("ParseError(%d) = %v, want %v", tt.n, err, tt.want)
		}
		if err != nil {
			if msg := err.Error(); msg == "" || seen[msg] {
				t.Errorf("ParseError(%d).Error() = %q: empty or not unique", tt.n, msg)
			} else {
				seen[msg] = true
			}
		}
	}
	if err := ParseError(-99); err == nil || err.Error() == "" {
		t.Errorf("ParseError(-99) = %v, want an error", err)
	}
}
