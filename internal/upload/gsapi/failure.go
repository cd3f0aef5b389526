package gsapi

import (
	"strings"
	"unicode/utf8"

	"github.com/graphsignal/graphsignal/internal/signalspb"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// failure records what a failed span says beyond the span itself: for a run
// span an Issue and one ERROR log entry (title and stderr tail); for any
// other span one ERROR log entry per exception (or one with the status
// message when it has none).
func (m *mapper) failure(sp *telemetry.Span) {
	when := sp.End
	if when.IsZero() {
		when = sp.Start
	}
	errLog := func(msg, exc string) {
		m.errLogs = append(m.errLogs, telemetry.Log{Time: when, Level: "error", Message: msg,
			Exception: exc, Tags: sp.Tags, TraceID: sp.TraceID, SpanID: sp.SpanID})
	}
	if !sp.IsRun() {
		for _, x := range sp.Exceptions {
			errLog(sp.Name+": "+joinNonEmpty(": ", x.Type, x.Message), x.StackTrace)
		}
		if len(sp.Exceptions) == 0 {
			errLog(sp.Name+": "+firstNonEmpty(sp.StatusMessage, "failed"), "")
		}
		return
	}
	kind, _ := sp.Attributes[telemetry.AttrErrorKind].(string)
	var x telemetry.Exception
	if len(sp.Exceptions) > 0 {
		x = sp.Exceptions[len(sp.Exceptions)-1]
	}
	kind = firstNonEmpty(kind, x.Type, "error")
	title := firstNonEmpty(x.Message, sp.StatusMessage, "run failed")
	if exe, _ := sp.Attributes[telemetry.AttrExecutableName].(string); exe != "" {
		title = exe + ": " + title
	}
	tail, _ := sp.Attributes[telemetry.AttrStderrTail].(string)
	desc := tailBytes(firstNonEmpty(tail, x.StackTrace), maxDescription)
	severity := "error"
	if kind == telemetry.ErrorKindOOMKill || kind == telemetry.ErrorKindCoreDump {
		severity = "critical"
	}
	m.req.Issues = append(m.req.Issues, &signalspb.Issue{
		IssueId:     sp.TraceID.String() + "-" + sp.SpanID.String(),
		Tags:        sortedTags(sp.Tags),
		Name:        kind,
		Severity:    severity,
		Title:       title,
		Description: desc,
		IssueTs:     telemetry.UnixNano(when),
	})
	errLog(title, desc)
}

// tailBytes returns at most n bytes from the end of s, starting on a rune
// boundary.
func tailBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	for len(s) > 0 && !utf8.RuneStart(s[0]) {
		s = s[1:]
	}
	return s
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func joinNonEmpty(sep string, s ...string) string {
	out := s[:0:0]
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return strings.Join(out, sep)
}
