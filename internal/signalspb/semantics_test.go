package signalspb

import (
	"bytes"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protowire"
)

// Wire builders for hand-made inputs.

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func tg(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }

func str(num protowire.Number, s string) []byte {
	return protowire.AppendString(tg(num, protowire.BytesType), s)
}

func msg(num protowire.Number, parts ...[]byte) []byte {
	return protowire.AppendBytes(tg(num, protowire.BytesType), cat(parts...))
}

func vint(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(tg(num, protowire.VarintType), v)
}

func f64(num protowire.Number, v float64) []byte {
	return protowire.AppendFixed64(tg(num, protowire.Fixed64Type), math.Float64bits(v))
}

func packed(num protowire.Number, vs ...uint64) []byte {
	var p []byte
	for _, v := range vs {
		p = protowire.AppendVarint(p, v)
	}
	return protowire.AppendBytes(tg(num, protowire.BytesType), p)
}

// groups nests n unknown groups of field 99 inside field 15 of UploadRequest.
func groups(n int) []byte {
	return cat(bytes.Repeat(tg(99, protowire.StartGroupType), n), bytes.Repeat(tg(99, protowire.EndGroupType), n))
}

func dp(parts ...[]byte) []byte { return msg(2, msg(6, parts...)) } // a DataPoint in a Metric

// TestUnmarshalLikeProtobufGo decodes hand-made inputs that exercise proto3
// decoding rules, checks the result against protobuf-go's, and against
// the expected message where the rule is worth spelling out.
func TestUnmarshalLikeProtobufGo(t *testing.T) {
	summary := func(c int64, s float64) *DataPoint_Summary_ {
		return &DataPoint_Summary_{Summary: &DataPoint_Summary{Count: c, Sum: s}}
	}
	metric := func(dps ...*DataPoint) *UploadRequest { return &UploadRequest{Metrics: []*Metric{{Datapoints: dps}}} }
	tests := []struct {
		name string
		in   []byte
		want *UploadRequest // nil: only compared with protobuf-go
	}{
		{"last scalar wins", cat(vint(5, 1), vint(5, 2)), &UploadRequest{UploadTs: 2}},
		{"last string wins", msg(1, str(7, "a"), str(7, "b")), &UploadRequest{Spans: []*Span{{Name: "b"}}}},
		{"repeated message fields append", cat(msg(1, str(7, "a")), vint(5, 3), msg(1, str(7, "b"))),
			&UploadRequest{UploadTs: 3, Spans: []*Span{{Name: "a"}, {Name: "b"}}}},
		{"packed and unpacked mixed", dp(msg(4, packed(2, 1, 2), vint(2, 3), packed(2), f64(1, 1.5), protowire.AppendBytes(tg(1, protowire.BytesType), protowire.AppendFixed64(nil, math.Float64bits(2))))),
			metric(&DataPoint{Value: &DataPoint_Histogram_{Histogram: &DataPoint_Histogram{Counts: []int64{1, 2, 3}, Bins: []float64{1.5, 2}}}})},
		{"oneof message merges", dp(msg(3, vint(1, 4)), msg(3, f64(2, 8))), metric(&DataPoint{Value: summary(4, 8)})},
		{"oneof case replaces", dp(msg(3, vint(1, 4)), f64(1, 2), msg(3, f64(2, 8))), metric(&DataPoint{Value: summary(0, 8)})},
		{"oneof scalar last wins", dp(f64(1, 2), f64(2, 3)), metric(&DataPoint{Value: &DataPoint_Total{Total: 3}})},
		{"oneof empty message", dp(msg(5)), metric(&DataPoint{Value: &DataPoint_Profile_{Profile: &DataPoint_Profile{}}})},
		{"oneof wrong wire type skipped", dp(f64(1, 2), vint(3, 1), vint(1, 5)), metric(&DataPoint{Value: &DataPoint_Gauge{Gauge: 2}})},
		{"known field wrong wire type skipped", cat(msg(1, vint(1, 5), f64(7, 1), str(5, "x")), str(5, "y")), &UploadRequest{Spans: []*Span{{}}}},
		{"unknown fields of every wire type", cat(vint(100, 1), f64(101, 2), str(102, "x"),
			protowire.AppendFixed32(tg(103, protowire.Fixed32Type), 7), groups(3), vint(5, 9), msg(1, vint(99, 1), str(7, "n"))),
			&UploadRequest{UploadTs: 9, Spans: []*Span{{Name: "n"}}}},
		{"unknown field with invalid UTF-8", str(200, "\xff"), &UploadRequest{}},
		{"unknown group holding invalid data", cat(tg(99, protowire.StartGroupType), str(1, "\xff"), tg(99, protowire.EndGroupType)), &UploadRequest{}},
		{"groups 1000 deep", groups(1000), &UploadRequest{}},
		{"max field number", vint(protowire.MaxValidNumber, 1), &UploadRequest{}},
		{"map entries", msg(2, msg(7, msg(3, str(1, "k"), str(2, "1")), msg(3, str(2, "v only")), msg(3, str(1, "k"), str(2, "2")),
			msg(3, str(1, "no value")), msg(3, vint(1, 5), vint(9, 1), str(2, "bad key type")), vint(3, 1))), nil},
		{"open enums", cat(msg(2, vint(4, 99)), msg(4, msg(2, vint(2, math.MaxUint64)), msg(2, vint(2, 1<<32+3)))), nil},
		{"negative zero and NaN", dp(f64(1, math.Copysign(0, -1))), nil},
		{"NaN payload", dp(msg(4, protowire.AppendFixed64(tg(1, protowire.Fixed64Type), 0x7ff8_0000_dead_beef))), nil},
		{"overlong but valid varint", cat(tg(5, protowire.VarintType), []byte{0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}), &UploadRequest{UploadTs: 1}},
		{"deep bytes in unknown field", bytes.Repeat(str(50, "x"), 100), &UploadRequest{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := compareWithGenerated(t, tt.in); err != nil {
				t.Fatalf("Unmarshal(%.64x) = %v", tt.in, err)
			}
			if tt.want == nil {
				return
			}
			var got UploadRequest
			_ = got.Unmarshal(tt.in)
			if diff := cmp.Diff(tt.want, &got); diff != "" {
				t.Errorf("Unmarshal(%.64x) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestUnmarshalMalformed: malformed input is an error wrapping ErrMalformed
// (protobuf-go rejects it too), never a panic or a huge allocation.
func TestUnmarshalMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"truncated tag", []byte{0x80}},
		{"truncated varint", []byte{0x28, 0x80}},
		{"varint of 11 bytes", cat([]byte{0x28}, bytes.Repeat([]byte{0x80}, 10), []byte{0x01})},
		{"varint overflowing 64 bits", cat([]byte{0x28}, bytes.Repeat([]byte{0xff}, 9), []byte{0x02})},
		{"truncated fixed64", []byte{0x12, 0x0a, 0x32, 0x09, 0x09, 1, 2, 3}},
		{"length past end", []byte{0x0a, 0x05, 'a'}},
		{"huge length", protowire.AppendVarint([]byte{0x0a}, 1<<62)},
		{"length past end of nested message", msg(1, []byte{0x3a, 0x09, 'x'})},
		{"field number 0", []byte{0x00, 0x01}},
		{"field number too large", vint(protowire.MaxValidNumber+1, 1)},
		{"wire type 6", tg(3, 6)},
		{"wire type 7", tg(3, 7)},
		{"end group without start", tg(5, protowire.EndGroupType)},
		{"unterminated group", tg(9, protowire.StartGroupType)},
		{"mismatched end group", cat(tg(9, protowire.StartGroupType), tg(8, protowire.EndGroupType))},
		{"groups nested too deep", groups(2 * protowire.DefaultRecursionLimit)},
		{"invalid UTF-8 in span name", msg(1, str(7, "ok\xffok"))},
		{"invalid UTF-8 in linked span id", msg(1, str(4, "\xc3"))},
		{"invalid UTF-8 in tag", msg(4, msg(1, str(2, "\xed\xa0\x80")))},
		{"invalid UTF-8 in map key", msg(2, msg(7, msg(3, str(1, "\xff"))))},
		{"invalid UTF-8 in map value", msg(2, msg(7, msg(3, str(2, "\xff"))))},
		{"invalid UTF-8 in log message", msg(4, msg(2, str(3, "\x80")))},
		{"packed doubles not a multiple of 8", dp(msg(4, protowire.AppendBytes(tg(1, protowire.BytesType), make([]byte, 9))))},
		{"packed varint truncated", dp(msg(4, protowire.AppendBytes(tg(2, protowire.BytesType), []byte{0x01, 0x80})))},
		{"malformed unknown field inside a span", msg(1, tg(20, protowire.VarintType))},
		{"malformed map entry", msg(2, msg(7, msg(3, []byte{0x0a, 0x05})))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := compareWithGenerated(t, tt.in); err == nil {
				t.Errorf("Unmarshal(%.64x) = nil, want an error", tt.in)
			}
		})
	}
}
