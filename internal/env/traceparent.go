package env

import (
	"errors"
	"fmt"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// ErrBadTraceparent is wrapped by the errors of ParseTraceparent.
var ErrBadTraceparent = errors.New("invalid traceparent")

// Traceparent returns the W3C trace context header value for a span:
// version 00, the sampled flag set ("00-<trace>-<span>-01"). Both ids must be
// non-zero; a zero id gives "".
func Traceparent(trace telemetry.TraceID, span telemetry.SpanID) string {
	if trace.IsZero() || span.IsZero() {
		return ""
	}
	return "00-" + trace.String() + "-" + span.String() + "-01"
}

// ParseTraceparent parses a W3C traceparent value and returns its trace id
// and parent span id. Following the W3C Trace Context recommendation, it
// rejects version ff, upper-case hex, ids that are all zeros, fields of the
// wrong length, and a version-00 value with trailing data; a value of a
// later version may carry more fields after a '-', which are ignored. The
// flags are not interpreted. Errors wrap ErrBadTraceparent.
func ParseTraceparent(s string) (telemetry.TraceID, telemetry.SpanID, error) {
	const n = 2 + 1 + 32 + 1 + 16 + 1 + 2
	fail := func(why string) (telemetry.TraceID, telemetry.SpanID, error) {
		q := s
		if len(q) > 64 {
			q = q[:64] + "..."
		}
		return telemetry.TraceID{}, telemetry.SpanID{}, fmt.Errorf("%w %q: %s", ErrBadTraceparent, q, why)
	}
	if len(s) < n || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return fail("want 00-<32 hex>-<16 hex>-<2 hex>")
	}
	version, traceHex, spanHex, flags := s[:2], s[3:35], s[36:52], s[53:55]
	for _, f := range []string{version, traceHex, spanHex, flags} {
		if !isLowerHex(f) {
			return fail("want lower-case hex")
		}
	}
	switch {
	case version == "ff":
		return fail("version ff")
	case version == "00" && len(s) != n:
		return fail("trailing data")
	case len(s) > n && s[n] != '-':
		return fail("trailing data")
	}
	trace, err := telemetry.ParseTraceID(traceHex)
	if err != nil {
		return fail("zero trace id")
	}
	span, err := telemetry.ParseSpanID(spanHex)
	if err != nil {
		return fail("zero parent id")
	}
	return trace, span, nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
