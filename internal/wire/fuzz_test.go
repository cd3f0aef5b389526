package wire

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// FuzzConsume checks every Consume function against protowire's on the
// same bytes: the same value and the same length or error code. The only
// intended difference: ConsumeTag rejects field numbers above
// MaxValidNumber, which protowire.ConsumeTag returns.
func FuzzConsume(f *testing.F) {
	for _, seed := range [][]byte{
		nil,
		{0x08, 0x96, 0x01},
		cat(tag(9, StartGroupType), tag(1, Fixed32Type), make([]byte, 4), tag(9, EndGroupType)),
		nested(40),
		bytes.Repeat([]byte{0xff}, 11),
		AppendVarint(nil, uint64(MaxValidNumber+1)<<3),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n := ConsumeVarint(b)
		if wv, wn := protowire.ConsumeVarint(b); v != wv || n != wn {
			t.Errorf("ConsumeVarint(%x) = %d, %d, want %d, %d", b, v, n, wv, wn)
		}
		v32, n := ConsumeFixed32(b)
		if wv, wn := protowire.ConsumeFixed32(b); v32 != wv || n != wn {
			t.Errorf("ConsumeFixed32(%x) = %d, %d, want %d, %d", b, v32, n, wv, wn)
		}
		v, n = ConsumeFixed64(b)
		if wv, wn := protowire.ConsumeFixed64(b); v != wv || n != wn {
			t.Errorf("ConsumeFixed64(%x) = %d, %d, want %d, %d", b, v, n, wv, wn)
		}
		p, n := ConsumeBytes(b)
		if wp, wn := protowire.ConsumeBytes(b); !bytes.Equal(p, wp) || n != wn {
			t.Errorf("ConsumeBytes(%x) = %x, %d, want %x, %d", b, p, n, wp, wn)
		}
		checkTag(t, b)
		for typ := range Type(8) {
			n := ConsumeFieldValue(9, typ, b)
			if wn := protowire.ConsumeFieldValue(9, protowire.Type(typ), b); n != wn {
				t.Errorf("ConsumeFieldValue(9, %d, %x) = %d, want %d", typ, b, n, wn)
			}
		}
		// The stream as a message body: tag, value, tag, value...
		for len(b) > 0 {
			num, typ, n := checkTag(t, b)
			if n < 0 {
				return
			}
			m := ConsumeFieldValue(num, typ, b[n:])
			if wm := protowire.ConsumeFieldValue(protowire.Number(num), protowire.Type(typ), b[n:]); m != wm {
				t.Fatalf("ConsumeFieldValue(%d, %d, %x) = %d, want %d", num, typ, b[n:], m, wm)
			}
			if m < 0 {
				return
			}
			b = b[n+m:]
		}
	})
}

// checkTag compares ConsumeTag(b) with protowire's and returns its results.
func checkTag(t *testing.T, b []byte) (Number, Type, int) {
	t.Helper()
	num, typ, n := ConsumeTag(b)
	wnum, wtyp, wn := protowire.ConsumeTag(b)
	if wn >= 0 && wnum > protowire.MaxValidNumber {
		wnum, wtyp, wn = 0, 0, int(ErrFieldNumber)
	}
	if int32(num) != int32(wnum) || int8(typ) != int8(wtyp) || n != wn {
		t.Fatalf("ConsumeTag(%x) = %d, %d, %d, want %d, %d, %d", b, num, typ, n, wnum, wtyp, wn)
	}
	if (ParseError(n) == nil) != (protowire.ParseError(wn) == nil) {
		t.Fatalf("ParseError(%d) = %v, protowire's %v", n, ParseError(n), protowire.ParseError(wn))
	}
	return num, typ, n
}
