package ipc

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeLine checks that no input crashes the decoder, that every
// failure is a *DecodeError with a known reason, and that every success
// honours the protocol's guarantees. Seeds live in
// testdata/fuzz/FuzzDecodeLine: one valid line of each type plus edge cases.
func FuzzDecodeLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, line []byte) {
		rc := testRC()
		m, err := DecodeLine(line, rc, testNow)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Reason < 0 || de.Reason >= numReasons {
				t.Fatalf("DecodeLine(%q) error %v is not a *DecodeError with a known reason", line, err)
			}
			return
		}
		if !utf8.Valid(line) || len(line) > MaxLineBytes || !json.Valid(line) {
			t.Fatalf("DecodeLine(%q) accepted invalid JSON, invalid UTF-8 or an over-long line", line)
		}
		if rc.Tags["session_id"] != "s-1" || len(rc.Tags) != 2 {
			t.Fatalf("DecodeLine(%q) modified the run context: %v", line, rc.Tags)
		}
		switch m.Type {
		case TypeSpan:
			s := m.Span
			if s.Name == "" || s.TraceID.IsZero() || s.SpanID.IsZero() || s.End.Before(s.Start) || s.Start.IsZero() {
				t.Fatalf("DecodeLine(%q) span %+v breaks an invariant", line, s)
			}
			if s.TraceID == testTrace && s.ParentSpanID.IsZero() && s.SpanID != testSpan {
				t.Fatalf("DecodeLine(%q) span of the run's trace without a parent", line)
			}
			for _, p := range s.Payloads {
				if p.ContentType == "application/json" && len(p.Data) > 0 && !json.Valid(p.Data) {
					t.Fatalf("DecodeLine(%q) JSON payload %q is not valid JSON", line, p.Data)
				}
			}
		case TypeScore:
			if m.Score.Name == "" || m.Score.TraceID.IsZero() || m.Score.Time.IsZero() {
				t.Fatalf("DecodeLine(%q) score %+v breaks an invariant", line, m.Score)
			}
		case TypeTag:
			if m.TagKey == "" || (m.TagRemove && m.TagValue != "") {
				t.Fatalf("DecodeLine(%q) tag %q=%q remove=%v", line, m.TagKey, m.TagValue, m.TagRemove)
			}
		case TypeLog:
			if m.Log.Level == "" || m.Log.TraceID.IsZero() {
				t.Fatalf("DecodeLine(%q) log %+v breaks an invariant", line, m.Log)
			}
		case TypeMetric:
			mt := m.Metric
			if mt.Name == "" || mt.Kind == 0 || (mt.Kind.String() == "histogram" && len(mt.Counts) != len(mt.Buckets)+1) {
				t.Fatalf("DecodeLine(%q) metric %+v breaks an invariant", line, mt)
			}
		case TypeSDKUpload:
			c := m.Chunk
			if c.ID == "" || len(c.ID) > MaxSDKUploadIDBytes || c.Seq < 0 || c.TraceID.IsZero() || c.RunSpan.IsZero() || c.Time.IsZero() || len(c.Data) > MaxLineBytes {
				t.Fatalf("DecodeLine(%q) sdk_upload piece %+v breaks an invariant", line, c)
			}
		default:
			t.Fatalf("DecodeLine(%q) type %v", line, m.Type)
		}
	})
}
