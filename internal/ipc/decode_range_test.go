package ipc

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestOutOfRangeIsBadValue: a number of the right JSON type whose value
// does not fit (1e400 anywhere, an integer beyond its type, a negative
// count or time) is counted as bad_value, never silently dropped; a number
// of the wrong form stays wrong_type.
func TestOutOfRangeIsBadValue(t *testing.T) {
	tests := []struct {
		line string
		want Reason
	}{
		{`{"type":"span","name":"x","attributes":{"a":1e400}}`, ReasonBadValue},
		{`{"type":"span","name":"x","attributes":{"a":-1e400}}`, ReasonBadValue},
		{`{"type":"span","name":"x","events":[{"name":"e","attributes":{"a":1e400}}]}`, ReasonBadValue},
		{`{"type":"score","name":"x","score":1e400}`, ReasonBadValue},
		{`{"type":"span","name":"x","usage":[{"name":"n","value":1e400}]}`, ReasonBadValue},
		{`{"type":"span","name":"x","scores":[{"name":"n","score":-1e400}]}`, ReasonBadValue},
		{`{"type":"metric","name":"m","value":1e400}`, ReasonBadValue},
		{`{"type":"metric","name":"m","kind":"histogram","buckets":[1e400],"counts":[1,2]}`, ReasonBadValue},
		{`{"type":"metric","name":"m","kind":"histogram","buckets":[1],"counts":[1,-2]}`, ReasonBadValue},
		{`{"type":"span","name":"x","start_ns":99999999999999999999}`, ReasonBadValue},
		{`{"type":"score","name":"x","severity":99999999999999999999}`, ReasonBadValue},
		{`{"type":"span","name":"x","exceptions":[{"type":"E","ts_ns":-1}]}`, ReasonBadValue},
		{`{"type":"span","name":"x","events":[{"name":"e","ts_ns":-5}]}`, ReasonBadValue},
		{`{"type":"span","name":"x","scores":[{"name":"s","ts_ns":-5}]}`, ReasonBadValue},
		{`{"type":"span","name":"x","start_ns":1e400}`, ReasonWrongType},
		{`{"type":"span","name":"x","start_ns":1.5}`, ReasonWrongType},
		{`{"type":"score","name":"x","score":"1"}`, ReasonWrongType},
		{`{"type":"span","name":"x","events":[{"ts_ns":5}]}`, ReasonMissingField},
		{`{"type":"span","name":"x","events":[{"name":"e","attributes":[1]}]}`, ReasonWrongType},
		{`{"type":"span","name":"x","scores":[{"name":"s","tags":{"a":1}}]}`, ReasonWrongType},
	}
	for _, tt := range tests {
		_, err := DecodeLine([]byte(tt.line), testRC(), testNow)
		var de *DecodeError
		if !errors.As(err, &de) || de.Reason != tt.want {
			t.Errorf("DecodeLine(%s) = %v, want reason %v", tt.line, err, tt.want)
		}
	}
}

// TestInRangeNumbersKept: the largest finite values, an integer beyond
// int64 (a float) and a float written with a fraction stay.
func TestInRangeNumbersKept(t *testing.T) {
	m, err := DecodeLine([]byte(`{"type":"span","name":"x","attributes":{"max":1.7976931348623157e308,"big":99999999999999999999,"f":3.0,"i":3,"tiny":1e-400}}`), testRC(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"max": 1.7976931348623157e308, "big": 1e20, "f": 3.0, "i": int64(3), "tiny": 0.0}
	if diff := cmp.Diff(want, m.Span.Attributes); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
}

// TestSpanListTimesAndScoreTags: events, exception and score times default
// to the span's end; a span score's own tags go over the span's.
func TestSpanListTimesAndScoreTags(t *testing.T) {
	line := `{"type":"span","name":"x","start_ns":100,"end_ns":200,"tags":{"run_id":"r"},` +
		`"events":[{"name":"e","ts_ns":150,"attributes":{"k":"v"}},{"name":"e2"}],` +
		`"exceptions":[{"type":"E","ts_ns":160},{"type":"F"}],` +
		`"scores":[{"name":"s","ts_ns":300,"tags":{"user_id":"u","run_id":"r2"}},{"name":"t"}]}`
	m, err := DecodeLine([]byte(line), testRC(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Span
	at := func(ns int64) time.Time { return time.Unix(0, ns) }
	if len(s.Events) != 2 || !s.Events[0].Time.Equal(at(150)) || s.Events[0].Attributes["k"] != "v" || !s.Events[1].Time.Equal(at(200)) {
		t.Errorf("events = %+v", s.Events)
	}
	if !s.Exceptions[0].Time.Equal(at(160)) || !s.Exceptions[1].Time.Equal(at(200)) {
		t.Errorf("exceptions = %+v", s.Exceptions)
	}
	sc, sc2 := s.Scores[0], s.Scores[1]
	if !sc.Time.Equal(at(300)) || sc.Tags["run_id"] != "r2" || sc.Tags["user_id"] != "u" || sc.Tags["session_id"] != "s-1" {
		t.Errorf("score = %+v", sc)
	}
	if !sc2.Time.Equal(at(200)) || sc2.Tags["run_id"] != "r" || sc2.Tags["user_id"] != "" {
		t.Errorf("score without own tags or time = %+v", sc2)
	}
}

// TestOutOfRangeCounted: the server counts such a line under bad_value and
// keeps the lines around it.
func TestOutOfRangeCounted(t *testing.T) {
	srv, col := startServer(t, Config{})
	srv.Serve()
	send(t, srv, `{"type":"span","name":"a"}`+"\n"+`{"type":"span","name":"x","attributes":{"a":1e400}}`+"\n"+`{"type":"span","name":"b"}`+"\n")
	settle(t, srv)
	if got := srv.Stats().BadLines[ReasonBadValue.String()]; got != 1 {
		t.Errorf("bad_value = %d, want 1", got)
	}
	if n := len(col.snapshot().Spans); n != 2 {
		t.Errorf("spans = %d, want the 2 around the bad line", n)
	}
}

// TestControlCharacterInString: RFC 8259 forbids an unescaped control
// character in a string, which the JSON parser alone lets through.
func TestControlCharacterInString(t *testing.T) {
	for _, line := range []string{"{\"type\":\"log\",\"message\":\"a\x01b\"}", "{\"type\":\"log\",\"message\":\"a\tb\"}"} {
		_, err := DecodeLine([]byte(line), testRC(), testNow)
		var de *DecodeError
		if !errors.As(err, &de) || de.Reason != ReasonInvalidJSON {
			t.Errorf("DecodeLine(%q) = %v, want invalid_json", line, err)
		}
	}
	if _, err := DecodeLine([]byte("{\"type\":\"log\",\t\"message\":\"a\\tb\"}\r"), testRC(), testNow); err != nil {
		t.Errorf("tab between tokens and escaped in a string: %v", err)
	}
}
