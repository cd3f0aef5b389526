package sockmsg_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/ipc"
	"github.com/graphsignal/graphsignal/internal/sockmsg"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// The run the decoder reads for: ids that no filled record uses, so that
// no default of the decoder can pass for a value that was written.
var (
	rc = ipc.RunContext{
		TraceID:        telemetry.TraceID{0xee, 0xee, 1},
		SpanID:         telemetry.SpanID{0xee, 0xee, 2},
		RecordPayloads: true,
	}
	receipt = time.Unix(1_800_000_000, 0)
)

// filler sets every field of a value to a distinct non-zero value by
// reflection, so that a field added to the model and not to the protocol
// comes back zero and fails the round trip.
type filler struct {
	t *testing.T
	n int
}

func (f *filler) next() int { f.n++; return f.n }

var (
	timeType  = reflect.TypeFor[time.Time]()
	attrsType = reflect.TypeFor[map[string]any]()
)

func (f *filler) fill(v reflect.Value, path string) {
	f.t.Helper()
	switch {
	case v.Type() == timeType:
		n := f.next()
		v.Set(reflect.ValueOf(time.Unix(1_700_000_000+int64(n), int64(n)*1000)))
		return
	case v.Type() == attrsType:
		// One value of each attribute type of the model; a float with no
		// fraction must stay a float.
		n := f.next()
		v.Set(reflect.ValueOf(map[string]any{
			fmt.Sprint("s", n): fmt.Sprint("v", n), fmt.Sprint("b", n): true, fmt.Sprint("i", n): int64(n),
			fmt.Sprint("f", n): float64(n) + 0.5, fmt.Sprint("g", n): float64(n), fmt.Sprint("l", n): []string{"a", fmt.Sprint(n)},
		}))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			if !sf.IsExported() {
				f.t.Fatalf("%s.%s: unexported field; teach the round-trip test its values", path, sf.Name)
			}
			f.fill(v.Field(i), path+"."+sf.Name)
		}
	case reflect.String:
		v.SetString(fmt.Sprintf("%s-%d \"é\"", path[len(path)-min(len(path), 12):], f.next()))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.next()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(f.next()))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(f.next()) + 0.25)
	case reflect.Array:
		n := f.next()
		for i := range v.Len() {
			f.fill(v.Index(i), path)
			if v.Index(i).Kind() == reflect.Uint8 {
				v.Index(i).SetUint(uint64(n + i))
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 { // payload data: JSON text
			v.SetBytes(fmt.Appendf(nil, `{"k%d":[1,"x"]}`, f.next()))
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			f.fill(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String || v.Type().Elem().Kind() != reflect.String {
			f.t.Fatalf("%s: map of %v; teach the round-trip test its values", path, v.Type())
		}
		v.Set(reflect.MakeMap(v.Type()))
		for range 2 {
			n := f.next()
			v.SetMapIndex(reflect.ValueOf(fmt.Sprint("k", n)), reflect.ValueOf(fmt.Sprint("v", n)))
		}
	default:
		f.t.Fatalf("%s: a field of kind %v; teach the round-trip test its values", path, v.Kind())
	}
}

func filled[T any](t *testing.T) T {
	t.Helper()
	var x T
	(&filler{t: t}).fill(reflect.ValueOf(&x).Elem(), reflect.TypeFor[T]().Name())
	return x
}

// sameTime compares instants: the decoder's times are in the local zone.
var sameTime = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func decode(t *testing.T, line []byte) ipc.Message {
	t.Helper()
	if len(line) == 0 || line[len(line)-1] != '\n' || bytes.Count(line, []byte{'\n'}) != 1 {
		t.Fatalf("line %q: want one line ending in a newline", line)
	}
	m, err := ipc.DecodeLine(line[:len(line)-1], &rc, receipt)
	if err != nil {
		t.Fatalf("DecodeLine(%s) = %v", line, err)
	}
	return m
}

// TestSpanRoundTrip encodes a span with every field of the model set and
// decodes it with the intake's decoder. The only changes allowed are the
// model's own constraints, each set here by name: a status and a kind are
// values of their enums, a span's scores are that span's (its ids, its tags
// under their own), and InSDKUpload marks records of SDK uploads, which no
// socket message is.
func TestSpanRoundTrip(t *testing.T) {
	for _, status := range []telemetry.Status{telemetry.StatusError, telemetry.StatusOK, telemetry.StatusUnset} {
		t.Run(status.String(), func(t *testing.T) {
			want := filled[telemetry.Span](t)
			want.Status = status
			want.InSDKUpload = false
			for i := range want.Scores {
				sc := &want.Scores[i]
				sc.TraceID, sc.SpanID, sc.Tags = want.TraceID, want.SpanID, want.Tags.Merge(sc.Tags)
			}
			line := sockmsg.AppendSpan(nil, &want)
			m := decode(t, line)
			if m.Type != ipc.TypeSpan {
				t.Fatalf("type = %v, want span", m.Type)
			}
			if diff := cmp.Diff(want, m.Span, sameTime); diff != "" {
				t.Errorf("span round trip (-sent +decoded):\n%s\nline: %s", diff, line)
			}
		})
	}
}

func TestScoreRoundTrip(t *testing.T) {
	want := filled[telemetry.Score](t)
	m := decode(t, sockmsg.AppendScore(nil, &want))
	if diff := cmp.Diff(want, m.Score, sameTime); m.Type != ipc.TypeScore || diff != "" {
		t.Errorf("score round trip, type %v (-sent +decoded):\n%s", m.Type, diff)
	}
}

func TestLogRoundTrip(t *testing.T) {
	want := filled[telemetry.Log](t)
	want.InSDKUpload = false
	m := decode(t, sockmsg.AppendLog(nil, &want))
	if diff := cmp.Diff(want, m.Log, sameTime); m.Type != ipc.TypeLog || diff != "" {
		t.Errorf("log round trip, type %v (-sent +decoded):\n%s", m.Type, diff)
	}
}

// TestMetricRoundTrip covers each kind; only a histogram has buckets.
func TestMetricRoundTrip(t *testing.T) {
	for _, kind := range []telemetry.MetricKind{telemetry.Histogram, telemetry.Gauge, telemetry.Counter} {
		t.Run(kind.String(), func(t *testing.T) {
			want := filled[telemetry.Metric](t)
			want.Kind = kind
			want.InSDKUpload = false
			if kind == telemetry.Histogram {
				want.Counts = append(want.Counts, 7) // one per bucket, and +Inf
			} else {
				want.Buckets, want.Counts, want.Count, want.Sum = nil, nil, 0, 0
			}
			m := decode(t, sockmsg.AppendMetric(nil, &want))
			if diff := cmp.Diff(want, m.Metric, sameTime); m.Type != ipc.TypeMetric || diff != "" {
				t.Errorf("metric round trip, type %v (-sent +decoded):\n%s", m.Type, diff)
			}
		})
	}
}

func TestTagRoundTrip(t *testing.T) {
	tests := []struct {
		line       []byte
		key, value string
		remove     bool
	}{
		{sockmsg.AppendTag(nil, "session_id", "chat-42"), "session_id", "chat-42", false},
		{sockmsg.AppendTag(nil, "k\n\"", ""), "k\n\"", "", false},
		{sockmsg.AppendTagRemove(nil, "user_id"), "user_id", "", true},
	}
	for _, tt := range tests {
		m := decode(t, tt.line)
		if m.Type != ipc.TypeTag || m.TagKey != tt.key || m.TagValue != tt.value || m.TagRemove != tt.remove {
			t.Errorf("DecodeLine(%q) = tag %q=%q remove=%v, want %q=%q remove=%v",
				tt.line, m.TagKey, m.TagValue, m.TagRemove, tt.key, tt.value, tt.remove)
		}
	}
}

// TestLossy pins what the protocol cannot carry, as the package documents.
func TestLossy(t *testing.T) {
	nan := 0.0
	nan /= nan
	s := telemetry.Span{Name: "x", Attributes: map[string]any{"nan": nan, "n": 2, "u": uint8(3), "m": map[string]int{"a": 1}},
		Payloads: []telemetry.Payload{{Name: "p", ContentType: "application/json", Data: []byte("not json")}},
		End:      receipt.Add(-time.Second)}
	m := decode(t, sockmsg.AppendSpan(nil, &s))
	want := map[string]any{"n": int64(2), "u": int64(3), "m": `{"a":1}`}
	if diff := cmp.Diff(want, m.Span.Attributes); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
	if got := string(m.Span.Payloads[0].Data); got != `"not json"` {
		t.Errorf("invalid JSON payload data = %s, want it as a JSON string", got)
	}
	l := telemetry.Log{Message: "m"}
	if got := decode(t, sockmsg.AppendLog(nil, &l)).Log.Level; got != "info" {
		t.Errorf("log without level decoded with level %q, want info", got)
	}
}

func TestLineLimitIsTheIntakes(t *testing.T) {
	if sockmsg.MaxLineBytes != ipc.MaxLineBytes {
		t.Errorf("sockmsg.MaxLineBytes = %d, ipc.MaxLineBytes = %d: want one limit", sockmsg.MaxLineBytes, ipc.MaxLineBytes)
	}
}
