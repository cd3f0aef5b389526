package store

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestColumnDecoder checks that the JSON columns decode back to what was
// encoded, and that empty, null and malformed text decode to nothing.
func TestColumnDecoder(t *testing.T) {
	sp := telemetry.Span{
		Exceptions: []telemetry.Exception{{Type: "E", Message: "m", StackTrace: "s", Time: time.Unix(5, 6)}, {Type: "F"}},
		Payloads: []telemetry.Payload{{Name: "in", ContentType: "application/json", Data: []byte(`{"a":1}`)},
			{Name: "bin", Data: []byte{0, 0xff}}},
		Usage: []telemetry.Usage{{PayloadName: "in", Name: "tokens", Value: 3}, {Name: "cost", Value: math.NaN()}},
	}
	cols, err := spanColumns(&sp)
	if err != nil {
		t.Fatal(err)
	}
	text := func(v any) string { s, _ := v.(string); return s }
	tags := telemetry.Tags{"a": "1", "é": "ü"}
	attrs := map[string]any{"s": "x", "i": int64(-3), "f": 2.0, "big": 1e300, "b": true, "strs": []string{"a", "b"},
		"mixed": []any{"a", int64(1)}, "obj": map[string]any{"k": 1.5}, "nan": "NaN"}
	excs := []telemetry.Exception{{Type: "E", Message: "m", StackTrace: "s", Time: telemetry.FromUnixNano(time.Unix(5, 6).UnixNano())},
		{Type: "F", Time: telemetry.FromUnixNano(0)}}
	tests := []struct {
		name              string
		tags, attrs, excs string
		payloads, usage   string
		want              TraceSpan
	}{
		{name: "encoded", tags: text(tagsText(tags)), attrs: text(encodeAttrs(attrs)),
			excs: text(cols[1]), payloads: text(cols[2]), usage: text(cols[3]),
			want: TraceSpan{Tags: tags, Attributes: attrs, Exceptions: excs, Payloads: sp.Payloads, Usage: sp.Usage}},
		{name: "empty", tags: "{}", attrs: "{}", excs: "[]", payloads: "[]", usage: "[]",
			want: TraceSpan{Exceptions: []telemetry.Exception{}}},
		{name: "null values", tags: `{"a":null}`, attrs: `{"a":null}`, excs: `[{}]`,
			want: TraceSpan{Tags: telemetry.Tags{"a": ""}, Attributes: map[string]any{"a": nil},
				Exceptions: []telemetry.Exception{{Time: telemetry.FromUnixNano(0)}}}},
		{name: "malformed", tags: `{"a":1}`, attrs: `[1]`, excs: `{`, payloads: `[{"data":"%%"}]`, usage: "nul"},
		{name: "truncated", tags: `{"a":"1"`, attrs: `{"a":`, excs: `[{"type":"E"}`, payloads: `[`, usage: `[{`},
		{name: "null", tags: "", attrs: "", excs: "", payloads: "", usage: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newColumnDecoder()
			var got TraceSpan
			got.Tags = d.tags([]byte(tt.tags))
			got.Attributes = d.attrs([]byte(tt.attrs))
			got.Exceptions = d.exceptions([]byte(tt.excs))
			got.Payloads = d.payloads([]byte(tt.payloads))
			got.Usage = d.usage([]byte(tt.usage))
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateNaNs(), cmpopts.IgnoreUnexported(TraceSpan{})); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
			// The one-column functions decode the same way.
			ref := func(s string) *string {
				if s == "" {
					return nil
				}
				return &s
			}
			one := TraceSpan{Tags: parseTags(ref(tt.tags)), Attributes: decodeAttrs(ref(tt.attrs)),
				Exceptions: decodeExceptions(ref(tt.excs))}
			if diff := cmp.Diff(TraceSpan{Tags: tt.want.Tags, Attributes: tt.want.Attributes, Exceptions: tt.want.Exceptions},
				one, cmpopts.IgnoreUnexported(TraceSpan{})); diff != "" {
				t.Errorf("parseTags, decodeAttrs, decodeExceptions (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzColumnDecoder feeds any text to every column decoder: none may
// panic, and decoded tags and attributes encode again.
func FuzzColumnDecoder(f *testing.F) {
	for _, seed := range []string{`{"a":"1"}`, `{"i":1,"f":1.5,"s":["a"],"o":{"k":[1,"x"]}}`,
		`[{"type":"E","message":"m","stack_trace":"s","time_ns":5}]`, `[{"name":"in","data":"AAE="}]`,
		`[{"payload_name":"in","name":"t","value":null}]`, `{`, `[1e999]`, `{"a":null}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, col []byte) {
		d := newColumnDecoder()
		tags := d.tags(col)
		attrs := d.attrs(col)
		_ = d.exceptions(col)
		_ = d.payloads(col)
		_ = d.usage(col)
		_ = d.strings(col)
		if tags != nil && tagsText(tags) == nil {
			t.Errorf("tags %v do not re-encode", tags)
		}
		if attrs != nil && encodeAttrs(attrs) == nil {
			t.Errorf("attributes %v do not re-encode", attrs)
		}
	})
}
