package env

import (
	"errors"
	"strings"
	"testing"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestTraceparentRoundTrip(t *testing.T) {
	for range 100 {
		trace, span := telemetry.NewTraceID(), telemetry.NewSpanID()
		s := Traceparent(trace, span)
		if want := "00-" + trace.String() + "-" + span.String() + "-01"; s != want {
			t.Fatalf("Traceparent = %q, want %q", s, want)
		}
		gt, gs, err := ParseTraceparent(s)
		if err != nil || gt != trace || gs != span {
			t.Fatalf("ParseTraceparent(%q) = %v, %v, %v; want %v, %v", s, gt, gs, err, trace, span)
		}
	}
	if s := Traceparent(telemetry.TraceID{}, telemetry.NewSpanID()); s != "" {
		t.Errorf("Traceparent with zero trace = %q, want empty", s)
	}
	if s := Traceparent(telemetry.NewTraceID(), telemetry.SpanID{}); s != "" {
		t.Errorf("Traceparent with zero span = %q, want empty", s)
	}
}

func TestParseTraceparent(t *testing.T) {
	const (
		trace = "4bf92f3577b34da6a3ce929d0e0e4736"
		span  = "00f067aa0ba902b7"
	)
	tests := []struct {
		in string
		ok bool
	}{
		{"00-" + trace + "-" + span + "-01", true},
		{"00-" + trace + "-" + span + "-00", true},
		{"01-" + trace + "-" + span + "-01", true},
		{"01-" + trace + "-" + span + "-01-future", true},
		{"cc-" + trace + "-" + span + "-09-x", true},
		{"", false},
		{"00", false},
		{"ff-" + trace + "-" + span + "-01", false},
		{"00-" + trace + "-" + span + "-01-", false},
		{"00-" + trace + "-" + span + "-01x", false},
		{"01-" + trace + "-" + span + "-01x", false},
		{"00-" + strings.ToUpper(trace) + "-" + span + "-01", false},
		{"00-" + trace + "-" + strings.ToUpper(span) + "-01", false},
		{"0A-" + trace + "-" + span + "-01", false},
		{"00-" + trace + "-" + span + "-0A", false},
		{"00-" + strings.Repeat("0", 32) + "-" + span + "-01", false},
		{"00-" + trace + "-" + strings.Repeat("0", 16) + "-01", false},
		{"00-" + trace[:31] + "-" + span + "-01", false},
		{"00-" + trace + "-" + span[:15] + "-01", false},
		{"00-" + trace + "0-" + span + "-01", false},
		{"00_" + trace + "_" + span + "_01", false},
		{"00-" + trace[:30] + "zz-" + span + "-01", false},
		{" 00-" + trace + "-" + span + "-01", false},
	}
	for _, tt := range tests {
		gt, gs, err := ParseTraceparent(tt.in)
		if tt.ok {
			if err != nil || gt.String() != trace || gs.String() != span {
				t.Errorf("ParseTraceparent(%q) = %v, %v, %v; want %s, %s", tt.in, gt, gs, err, trace, span)
			}
			continue
		}
		if !errors.Is(err, ErrBadTraceparent) {
			t.Errorf("ParseTraceparent(%q) error = %v, want ErrBadTraceparent", tt.in, err)
		}
		if !gt.IsZero() || !gs.IsZero() {
			t.Errorf("ParseTraceparent(%q) returned ids with an error", tt.in)
		}
	}
}

func TestParseTraceparentErrorIsBounded(t *testing.T) {
	_, _, err := ParseTraceparent(strings.Repeat("x", 1<<20))
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("error for a 1 MiB value: %d bytes, want a short error", len(err.Error()))
	}
}

func FuzzParseTraceparent(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Add("ff-")
	f.Fuzz(func(t *testing.T, s string) {
		trace, span, err := ParseTraceparent(s)
		if err != nil {
			return
		}
		if trace.IsZero() || span.IsZero() {
			t.Fatalf("ParseTraceparent(%q) accepted a zero id", s)
		}
		if s[:2] == "00" && Traceparent(trace, span)[:52] != s[:52] {
			t.Fatalf("ParseTraceparent(%q) = %v, %v: does not match", s, trace, span)
		}
	})
}
