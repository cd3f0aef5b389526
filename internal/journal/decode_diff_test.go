package journal

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// referenceLines are lines encodeBatch never writes but that the reference
// decoder (encoding/json) reads in its own way; decodeBatch must read them
// the same way: both fail, or both give the same batch.
var referenceLines = []string{
	// Whole lines.
	``, ` `, `null`, ` null `, `nul`, `{}`, ` {} `, "{}\x00", `{}x`, `{}{}`, `[]`, `"x"`, `1`, `true`,
	`{"spans":[]}`, `{"spans":null}`, `{"spans":{}}`, `{"spans":[null]}`, `{"spans":[1]}`, `{"spans":[{},]}`,
	`{"spans":[{}],}`, `{,}`, `{"spans"}`, `{"spans":}`, `{"a" : [ 1 , { "b" : null } ] , "spans" : [ ] }`,
	`{"unknown":{"deep":[1,2.5e-3,-0,true,false,null,"s\u00e9"]}}`, `{"x":01}`, `{"x":1.}`, `{"x":.5}`, `{"x":1e}`,
	`{"x":-}`, `{"x":+1}`, `{"x":tru}`, `{"x":nulll}`, `{"x":"\x01"}`, `{"x":"\q"}`, `{"x":"\u12"}`,
	"{\"x\":\"\t\"}", `{"x":"unterminated}`, "\t\r\n{}\r\n",
	// Keys match field names case-insensitively, with Unicode folding.
	`{"SPANS":[{"NAME":"a","Trace_ID":"0102030405060708090a0b0c0d0e0f10"}]}`,
	`{"ſpans":[{"name":"long s"}],"metrics":[{"Kind":2,"KIND":3}]}`, // Kelvin sign
	`{"spans":[{"payloads":[{"name":"n","contenttype":"c","DATA":"eA=="}]}]}`,
	`{"spans":[{"payloads":[{"Name":"n","Content_Type":"c"}]}]}`, `{"Spans\u017f":[]}`, `{"sp\u0061ns":[{"name":"escaped key"}]}`,
	// A repeated key decodes over the first: lists element by element.
	`{"spans":[{"name":"a","status":2},{"name":"b"}],"spans":[{"name":"c"}]}`,
	`{"spans":[{"name":"a"},{"name":"b"},{"name":"c"}],"spans":[{"status":1}],"spans":[{},{}]}`,
	`{"spans":[{"tags":{"a":"1"},"tags":{"b":"2"},"attributes":{"x":{"s":"1"}},"attributes":{"y":{"i":2}}}]}`,
	`{"spans":[{"tags":{"a":"1"},"tags":null,"attributes":{"x":{"s":"1"}},"attributes":null}]}`,
	`{"spans":[{"tags":{"a":"1"}},{"tags":{"a":"1"},"tags":{"b":"2"}},{"tags":{"a":"1"}}]}`,
	`{"spans":[{"tags":{"a":"1"}},{"tags":{"a":"1"}}],"spans":[{"tags":{"b":"2"}}]}`,
	`{"spans":[{"tags":{"a":"1"}},{"tags":{"a":"1"}}],"spans":[{},{"tags":{"b":"2"}}]}`,
	`{"spans":[{"tags":{"a":"1"}},{"tags":{"a":"1"} }],"logs":[{"tags":{"a":"1"},"tags":{"a":null}}]}`,
	`{"spans":[{"trace_id":"zz","trace_id":"0102030405060708090a0b0c0d0e0f10"}]}`,
	`{"spans":[{"trace_id":"0102030405060708090a0b0c0d0e0f10","trace_id":null,"start":5,"start":null}]}`,
	`{"metrics":[{"counts":[1,2,3]}],"metrics":[{"counts":[null,null,null,null]}]}`,
	`{"metrics":[{"counts":[1,2,3],"counts":[4],"counts":[null,null,null]}]}`,
	`{"metrics":[{"buckets":[],"counts":[]}]}`, `{"metrics":[{"buckets":null,"counts":null}]}`,
	`{"spans":[{"attributes":{"k":{"a":["x","y"],"a":[null]}}}]}`,
	// Attribute values.
	`{"spans":[{"attributes":{"k":{"s":"x","i":1}}}]}`, `{"spans":[{"attributes":{"k":{"i":1,"f":2.5,"b":true}}}]}`,
	`{"spans":[{"attributes":{"k":{"s":"x","s":null,"b":false}}}]}`, `{"spans":[{"attributes":{"k":null,"l":{},"m":{"a":null}}}]}`,
	`{"spans":[{"attributes":{"k":{"f":null,"i":null}}}]}`, `{"spans":[{"attributes":{"k":{"S":"up","A":["x"]}}}]}`,
	`{"spans":[{"attributes":{"k":"bare"}}]}`, `{"spans":[{"attributes":{"k":{"i":1.5}}}]}`,
	`{"spans":[{"attributes":{"k":{"i":9223372036854775807},"l":{"i":-9223372036854775808}}}]}`,
	`{"spans":[{"attributes":{"k":{"i":9223372036854775808}}}]}`, `{"spans":[{"attributes":{"k":{"i":1e3}}}]}`,
	`{"spans":[{"attributes":{"k":{"i":-0},"l":{"f":-0},"m":{"f":1e-400}}}]}`, `{"spans":[{"attributes":{"k":{"f":1e400}}}]}`,
	`{"spans":[{"attributes":{"k":{"f":"NaN"},"l":{"f":"+Inf"},"m":{"f":"-Inf"}}}]}`, `{"spans":[{"attributes":{"k":{"f":"Inf"}}}]}`,
	`{"spans":[{"attributes":{"k":{"f":"\u004eaN"}}}]}`, `{"spans":[{"attributes":{"k":{"a":["x",1]}}}]}`,
	`{"spans":[{"attributes":{"k":{"b":"true"}}}]}`, `{"spans":[{"attributes":{"k":{"a":[]}}}]}`, `{"spans":[{"attributes":{}}]}`,
	// Floats.
	`{"metrics":[{"value":null}]}`, `{"metrics":[{"value":"1"}]}`, `{"metrics":[{"value":{}}]}`, `{"metrics":[{"value":[1]}]}`,
	`{"metrics":[{"buckets":[1,null]}]}`, `{"metrics":[{"value":1E+2,"sum":-1.5e-7,"buckets":[0,"NaN"]}]}`,
	`{"metrics":[{"value":true}]}`, `{"scores":[{"value":"-Inf"}]}`, `{"spans":[{"usage":[{"value":null}]}]}`,
	// Integers.
	`{"metrics":[{"count":-1}]}`, `{"metrics":[{"count":18446744073709551615}]}`, `{"metrics":[{"count":18446744073709551616}]}`,
	`{"metrics":[{"count":-0}]}`, `{"metrics":[{"count":1.0}]}`, `{"metrics":[{"kind":"gauge"}]}`, `{"spans":[{"status":null,"start":null}]}`,
	`{"spans":[{"start":-1,"end":9223372036854775807}]}`, `{"spans":[{"start":"1"}]}`, `{"logs":[{"time":1e9}]}`,
	// Booleans and strings.
	`{"logs":[{"in_sdk_upload":1}]}`, `{"logs":[{"in_sdk_upload":null,"level":null}]}`, `{"logs":[{"message":1}]}`,
	`{"logs":[{"message":"\ud83d\ude00 \ud800 \udc00 \ud800\u0041 \ud800\ud800\udc00 \u0000 \/ \b\f\n\r\t"}]}`,
	"{\"logs\":[{\"message\":\"bad \xff\xfe utf8 \xed\xa0\x80 surrogate \xc0\x80\"}]}",
	"{\"logs\":[{\"tags\":{\"k\xff\":\"v\xfe\"}}]}", `{"logs":[{"tags":{"a":null,"b":1}}]}`, `{"logs":[{"tags":[]}]}`,
	// Ids.
	`{"logs":[{"trace_id":"0102030405060708090A0B0C0D0E0F10","span_id":"0102030405060708"}]}`,
	`{"logs":[{"span_id":"0000000000000000"}]}`, `{"logs":[{"span_id":"010203040506070"}]}`,
	`{"logs":[{"span_id":"\u0030102030405060708"}]}`, `{"logs":[{"span_id":""}]}`, `{"logs":[{"span_id":1}]}`,
	`{"scores":[{"trace_id":"0102030405060708090a0b0c0d0e0f1g"}]}`, `{"spans":[{"scores":[{"span_id":"zz"}]}]}`,
	// Bytes.
	`{"sdk_uploads":[{"body":"CgI6AA=="},{"body":null},{"body":""},{}]}`, `{"sdk_uploads":[{"body":"CgI6AA"}]}`,
	`{"sdk_uploads":[{"body":"Cg\nI6\r\nAA=="}]}`, `{"sdk_uploads":[{"body":"Cg\u0049\u0036AA=="}]}`, `{"sdk_uploads":[{"body":"!!!!"}]}`,
	`{"sdk_uploads":[{"body":[1,2,255]}]}`, `{"sdk_uploads":[{"body":[256]}]}`, `{"sdk_uploads":[{"body":[]}]}`,
	`{"sdk_uploads":[{"body":"AAAA","body":[null,1]}]}`, `{"sdk_uploads":[{"body":"AA==","body":[null,null,null]}]}`,
	`{"sdk_uploads":[{"body":1}]}`, `{"spans":[{"payloads":[{"Data":null},{"Data":""},{}]}]}`,
	`{"spans":[{"payloads":[]}]}`, `{"spans":[{"events":[],"exceptions":[],"usage":[],"scores":[]}]}`,
	`{"spans":[{"events":[{"attributes":{}},{"attributes":{"k":{"b":true}}},null]}]}`,
}

func TestDecodeMatchesReference(t *testing.T) {
	lines := append([]string(nil), referenceLines...)
	for _, b := range []telemetry.Batch{fullBatch(), {Spans: []telemetry.Span{{Name: "s"}}}} {
		lines = append(lines, strings.TrimSuffix(string(encodeBatch(&b)), "\n"))
	}
	lines = append(lines, strings.Repeat("[", maxDepth-1)+strings.Repeat("]", maxDepth-1),
		`{"x":`+strings.Repeat("[", maxDepth-1)+strings.Repeat("]", maxDepth-1)+`}`,
		`{"x":`+strings.Repeat("[", maxDepth)+strings.Repeat("]", maxDepth)+`}`)
	for _, line := range lines {
		checkAgainstReference(t, []byte(line))
	}
}

// FuzzDecodeBatchDifferential: for any line, decodeBatch and the reference
// decoder (encoding/json, decode_ref_test.go) both fail or give equal
// batches.
func FuzzDecodeBatchDifferential(f *testing.F) {
	b := fullBatch()
	f.Add(bytes.TrimSuffix(encodeBatch(&b), []byte("\n")))
	for _, line := range referenceLines {
		f.Add([]byte(line))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		checkAgainstReference(t, line)
	})
}

func checkAgainstReference(t *testing.T, line []byte) {
	t.Helper()
	got, err := decodeBatch(line)
	want, wantErr := decodeBatchJSON(line)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("decodeBatch(%.200q) error = %v, reference error = %v", line, err, wantErr)
	}
	if d := cmp.Diff(want, got, cmpopts.EquateNaNs()); d != "" {
		t.Fatalf("decodeBatch(%.200q) (-reference +got):\n%s", line, d)
	}
}

// TestDecodeKeepsNegativeZero: EquateNaNs treats -0 and 0 alike; the
// decoder keeps the sign as the reference does.
func TestDecodeKeepsNegativeZero(t *testing.T) {
	b, err := decodeBatch([]byte(`{"metrics":[{"value":-0,"sum":0}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if m := b.Metrics[0]; !math.Signbit(m.Value) || math.Signbit(m.Sum) {
		t.Errorf("value %v sum %v: want -0 and 0", m.Value, m.Sum)
	}
}
