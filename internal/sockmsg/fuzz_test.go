package sockmsg_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/ipc"
	"github.com/graphsignal/graphsignal/internal/sockmsg"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// FuzzSpan encodes spans of arbitrary text and numbers and checks that the
// intake decodes every line and gets back what was sent: text with invalid
// UTF-8 replaced (byte by byte), a non-finite float attribute dropped. Seeds live in
// testdata/fuzz/FuzzSpan.
func FuzzSpan(f *testing.F) {
	f.Fuzz(func(t *testing.T, name, key, value string, x float64, n int64, data []byte) {
		if name == "" {
			name = "x"
		}
		end := time.Unix(1_700_000_000, 0)
		s := telemetry.Span{
			Name: name, TraceID: telemetry.TraceID{1}, SpanID: telemetry.SpanID{2}, ParentSpanID: telemetry.SpanID{3},
			Start: end.Add(-time.Second), End: end, Tags: telemetry.Tags{"k" + key: value},
			Attributes: map[string]any{"s" + key: value, "f": x, "n": n, "l": []string{key, value}},
			Payloads:   []telemetry.Payload{{Name: "p", ContentType: "text/plain", Data: data}},
			Scores:     []telemetry.Score{{Name: "q" + name, Value: x, Comment: value}},
		}
		line := sockmsg.AppendSpan(nil, &s)
		m, err := ipc.DecodeLine(line[:len(line)-1], &rc, receipt)
		if len(line)-1 > sockmsg.MaxLineBytes {
			return
		}
		if err != nil {
			t.Fatalf("DecodeLine(%q) = %v", line, err)
		}
		v := func(s string) string { // each invalid byte becomes U+FFFD
			var b strings.Builder
			for _, r := range s {
				b.WriteRune(r)
			}
			return b.String()
		}
		want := map[string]any{"s" + v(key): v(value), "n": n, "l": []string{v(key), v(value)}}
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			want["f"] = x
		}
		if diff := cmp.Diff(want, m.Span.Attributes); diff != "" {
			t.Errorf("attributes of %q (-want +got):\n%s", line, diff)
		}
		got := m.Span
		if got.Name != v(name) || got.Tags["k"+v(key)] != v(value) || string(got.Payloads[0].Data) != v(string(data)) {
			t.Errorf("span %q decoded as %+v", line, got)
		}
		if sc := got.Scores[0]; sc.Name != "q"+v(name) || sc.Comment != v(value) || (sc.Value != x && !math.IsNaN(x) && !math.IsInf(x, 0)) {
			t.Errorf("span score of %q decoded as %+v", line, sc)
		}
	})
}
