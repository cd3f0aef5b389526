package ipc

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

const (
	hexTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	hexSpan  = "00f067aa0ba902b7"
	hexSpan2 = "00f067aa0ba902b8"
)

func mustTrace(s string) telemetry.TraceID {
	id, err := telemetry.ParseTraceID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func mustSpan(s string) telemetry.SpanID {
	id, err := telemetry.ParseSpanID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func TestDecodeLineSpan(t *testing.T) {
	line := `{"type":"span","name":"generate","trace_id":"` + hexTrace + `","span_id":"` + hexSpan +
		`","parent_span_id":"` + hexSpan2 + `","start_ns":1000,"end_ns":3000,"future_field":[1,2],` +
		`"tags":{"model_type":"chat","deployment":"override"},"attributes":{"s":"v","i":3,"f":1.5,"b":true,"l":["a","b"],"o":{"x": 1},"n":null},` +
		`"payloads":[{"name":"input","content_type":"application/json","data":{"messages": []}},{"name":"text","content_type":"text/plain","data":"hi"}],` +
		`"usage":[{"payload_name":"input","name":"token_count","value":12}],` +
		`"exceptions":[{"type":"ValueError","message":"bad input","stack_trace":"st"}],` +
		`"scores":[{"name":"prompt_injection","score":0.7,"unit":"","severity":2,"comment":"c"}]}`
	got, err := DecodeLine([]byte(line), testRC(), testNow)
	if err != nil {
		t.Fatalf("DecodeLine: %v", err)
	}
	tags := telemetry.Tags{"session_id": "s-1", "deployment": "override", "model_type": "chat"}
	end := time.Unix(0, 3000)
	want := telemetry.Span{
		TraceID: mustTrace(hexTrace), SpanID: mustSpan(hexSpan), ParentSpanID: mustSpan(hexSpan2),
		Name: "generate", Start: time.Unix(0, 1000), End: end, Tags: tags,
		Attributes: map[string]any{"s": "v", "i": int64(3), "f": 1.5, "b": true, "l": []string{"a", "b"}, "o": `{"x":1}`},
		Status:     telemetry.StatusError,
		Exceptions: []telemetry.Exception{{Type: "ValueError", Message: "bad input", StackTrace: "st", Time: end}},
		Payloads: []telemetry.Payload{
			{Name: "input", ContentType: "application/json", Data: []byte(`{"messages":[]}`)},
			{Name: "text", ContentType: "text/plain", Data: []byte("hi")},
		},
		Usage: []telemetry.Usage{{PayloadName: "input", Name: "token_count", Value: 12}},
		Scores: []telemetry.Score{{Name: "prompt_injection", Value: 0.7, Severity: 2, Comment: "c",
			Tags: tags, TraceID: mustTrace(hexTrace), SpanID: mustSpan(hexSpan), Time: end}},
	}
	if got.Type != TypeSpan {
		t.Fatalf("Type = %v, want span", got.Type)
	}
	if diff := cmp.Diff(want, got.Span); diff != "" {
		t.Errorf("span mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodeLineDefaults(t *testing.T) {
	rc := testRC()
	got, err := DecodeLine([]byte(`{"type":"span","name":"x"}`), rc, testNow)
	if err != nil {
		t.Fatalf("DecodeLine: %v", err)
	}
	s := got.Span
	if s.TraceID != testTrace || s.ParentSpanID != testSpan || s.SpanID.IsZero() {
		t.Errorf("ids = %v %v %v, want run trace, generated span, run span parent", s.TraceID, s.SpanID, s.ParentSpanID)
	}
	if !s.Start.Equal(testNow) || !s.End.Equal(testNow) {
		t.Errorf("times = %v..%v, want receipt time %v", s.Start, s.End, testNow)
	}
	if diff := cmp.Diff(rc.Tags, s.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	s.Tags["mutated"] = "x"
	if _, ok := rc.Tags["mutated"]; ok {
		t.Errorf("span tags alias the run context's tags")
	}
	// A span of another trace gets no default parent.
	got, err = DecodeLine([]byte(`{"type":"span","name":"x","trace_id":"`+hexTrace+`"}`), rc, testNow)
	if err != nil || !got.Span.ParentSpanID.IsZero() {
		t.Errorf("foreign trace span: parent %v err %v, want none", got.Span.ParentSpanID, err)
	}
	// Without payload recording, payloads go and usage stays.
	rc.RecordPayloads = false
	got, err = DecodeLine([]byte(`{"type":"span","name":"x","payloads":[{"name":"in","data":"secret"}],"usage":[{"name":"token_count","value":3}]}`), rc, testNow)
	if err != nil || got.Span.Payloads != nil || len(got.Span.Usage) != 1 {
		t.Errorf("no-payload span: payloads %v usage %v err %v", got.Span.Payloads, got.Span.Usage, err)
	}
}

func TestDecodeLineOtherTypes(t *testing.T) {
	rc := testRC()
	ts := time.Unix(0, 5000)
	tests := []struct {
		line string
		want Message
	}{
		{`{"type":"score","name":"user_feedback","score":1,"comment":"thumbs up","unit":"u","severity":1,"tags":{"run_id":"abc"},"span_id":"` + hexSpan + `","ts_ns":5000}`,
			Message{Type: TypeScore, Score: telemetry.Score{Name: "user_feedback", Value: 1, Comment: "thumbs up", Unit: "u", Severity: 1,
				Tags: telemetry.Tags{"session_id": "s-1", "deployment": "d", "run_id": "abc"}, TraceID: testTrace, SpanID: mustSpan(hexSpan), Time: ts}}},
		{`{"type":"score","name":"s","span_id":""}`,
			Message{Type: TypeScore, Score: telemetry.Score{Name: "s", Tags: rc.Tags, TraceID: testTrace, Time: testNow}}},
		{`{"type":"tag","key":"session_id","value":"s-42"}`, Message{Type: TypeTag, TagKey: "session_id", TagValue: "s-42"}},
		{`{"type":"tag","key":"session_id","value":null}`, Message{Type: TypeTag, TagKey: "session_id", TagRemove: true}},
		{`{"type":"tag","key":"k"}`, Message{Type: TypeTag, TagKey: "k", TagRemove: true}},
		{`{"type":"log","level":"error","message":"m","exception":"e","tags":{"a":"b"},"ts_ns":5000,"span_id":"` + hexSpan + `"}`,
			Message{Type: TypeLog, Log: telemetry.Log{Time: ts, Level: "error", Message: "m", Exception: "e",
				Tags: telemetry.Tags{"session_id": "s-1", "deployment": "d", "a": "b"}, TraceID: testTrace, SpanID: mustSpan(hexSpan)}}},
		{`{"type":"log","message":"m"}`,
			Message{Type: TypeLog, Log: telemetry.Log{Time: testNow, Level: "info", Message: "m", Tags: rc.Tags, TraceID: testTrace}}},
		{`{"type":"metric","name":"queue.depth","kind":"gauge","value":3,"unit":"{item}","tags":{},"ts_ns":5000}`,
			Message{Type: TypeMetric, Metric: telemetry.Metric{TraceID: testTrace, Name: "queue.depth", Kind: telemetry.Gauge, Unit: "{item}", Tags: rc.Tags, Time: ts, Value: 3}}},
		{`{"type":"metric","name":"c","kind":"counter","value":7.5}`,
			Message{Type: TypeMetric, Metric: telemetry.Metric{TraceID: testTrace, Name: "c", Kind: telemetry.Counter, Tags: rc.Tags, Time: testNow, Value: 7.5}}},
		{`{"type":"metric","name":"h","kind":"histogram","buckets":[1,2],"counts":[1,0,2],"sum":9}`,
			Message{Type: TypeMetric, Metric: telemetry.Metric{TraceID: testTrace, Name: "h", Kind: telemetry.Histogram, Tags: rc.Tags, Time: testNow,
				Buckets: []float64{1, 2}, Counts: []uint64{1, 0, 2}, Count: 3, Sum: 9}}},
	}
	for _, tt := range tests {
		got, err := DecodeLine([]byte(tt.line), rc, testNow)
		if err != nil {
			t.Errorf("DecodeLine(%q) error %v", tt.line, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("DecodeLine(%q) mismatch (-want +got):\n%s", tt.line, diff)
		}
	}
}

func TestDecodeLineBad(t *testing.T) {
	tests := []struct {
		line string
		want Reason
	}{
		{`{"type":"span","name":"x"`, ReasonInvalidJSON},
		{`not json`, ReasonInvalidJSON},
		{`[1,2]`, ReasonWrongType},
		{`"span"`, ReasonWrongType},
		{`{"type":"span","name":"x"} trailing`, ReasonInvalidJSON},
		{`{"type":"span","name":7}`, ReasonWrongType},
		{`{"type":"span","name":"x","tags":{"a":1}}`, ReasonWrongType},
		{`{"type":"span","name":"x","start_ns":1.5}`, ReasonWrongType},
		{`{"type":"span","name":"x","start_ns":"1"}`, ReasonWrongType},
		{`{"type":"score","name":"x","score":"high"}`, ReasonWrongType},
		{`{"type":"tag","key":"k","value":3}`, ReasonWrongType},
		{`{"type":"metric","name":"m","value":"3"}`, ReasonWrongType},
		{"{\"type\":\"span\",\"name\":\"\xff\xfe\"}", ReasonInvalidUTF8},
		{`{"name":"x"}`, ReasonMissingField},
		{`{"type":"span"}`, ReasonMissingField},
		{`{"type":"score","score":1}`, ReasonMissingField},
		{`{"type":"metric","value":1}`, ReasonMissingField},
		{`{"type":"tag","value":"v"}`, ReasonMissingField},
		{`{"type":"span","name":"x","payloads":[{"data":1}]}`, ReasonMissingField},
		{`{"type":"span","name":"x","usage":[{"value":1}]}`, ReasonMissingField},
		{`{"type":"span","name":"x","scores":[{"score":1}]}`, ReasonMissingField},
		{`{"type":"span","name":"x","span_id":"xyz"}`, ReasonBadID},
		{`{"type":"span","name":"x","trace_id":"00000000000000000000000000000000"}`, ReasonBadID},
		{`{"type":"span","name":"x","parent_span_id":"00f067aa0ba902"}`, ReasonBadID},
		{`{"type":"score","name":"x","span_id":"zzzzzzzzzzzzzzzz"}`, ReasonBadID},
		{`{"type":"log","trace_id":"abc"}`, ReasonBadID},
		{`{"type":"span","name":"x","start_ns":-1}`, ReasonBadValue},
		{`{"type":"span","name":"x","start_ns":10,"end_ns":5}`, ReasonBadValue},
		{`{"type":"span","name":"x","status":"maybe"}`, ReasonBadValue},
		{`{"type":"metric","name":"m","kind":"summary"}`, ReasonBadValue},
		{`{"type":"metric","name":"m","kind":"histogram","buckets":[1],"counts":[1]}`, ReasonBadValue},
		{`{"type":"trace","name":"x"}`, ReasonUnknownType},
		{`{"type":"span","name":"x","scores":[` + strings.Repeat(`{"name":"s"},`, MaxSpanScores) + `{"name":"s"}]}`, ReasonBadValue},
		{`{"type":"span","name":"` + strings.Repeat("a", MaxLineBytes) + `"}`, ReasonTooLong},
	}
	for _, tt := range tests {
		_, err := DecodeLine([]byte(tt.line), testRC(), testNow)
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Errorf("DecodeLine(%.80q) = %v, want a *DecodeError %v", tt.line, err, tt.want)
			continue
		}
		if de.Reason != tt.want {
			t.Errorf("DecodeLine(%.80q) reason = %v (%v), want %v", tt.line, de.Reason, err, tt.want)
		}
	}
}

func TestReasonAndTypeNames(t *testing.T) {
	for r := range numReasons {
		if r.String() == "unknown" || r.String() == "" {
			t.Errorf("Reason(%d) has no name", r)
		}
	}
	if Reason(-1).String() != "unknown" || MessageType(99).String() != "unknown" {
		t.Errorf("out-of-range names not %q", "unknown")
	}
}
