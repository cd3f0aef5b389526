package report

import (
	"strconv"

	"github.com/graphsignal/graphsignal/internal/store"
)

// maxTextLogLines caps the log lines listed in text, and maxTextErrorGroups
// the error groups; JSON lists more (docs/json.md).
const (
	maxTextLogLines    = 30
	maxTextErrorGroups = 20
)

type (
	logLineJSON struct {
		Time     *jsonTime `json:"time"`
		Kind     string    `json:"kind"`
		Level    *string   `json:"level"`
		Type     *string   `json:"type"`
		Message  string    `json:"message"`
		SpanName *string   `json:"span_name"`
		TraceID  *string   `json:"trace_id"`
		SpanID   *string   `json:"span_id"`
	}

	errorGroupJSON struct {
		Kind    string    `json:"kind"`
		Type    *string   `json:"type"`
		Message string    `json:"message"`
		Count   int       `json:"count"`
		First   *jsonTime `json:"first"`
		Last    *jsonTime `json:"last"`
	}
)

// errorGroupsText lists the session's errors grouped by kind, type and
// message, most frequent first.
func errorGroupsText(ew *errWriter, groups []store.ErrorGroup, more int) {
	if len(groups) == 0 {
		return
	}
	ew.printf("\nErrors by type\n")
	t := table{indent: "  ", right: map[int]bool{0: true}}
	t.add("COUNT", "KIND", "TYPE", "MESSAGE")
	for _, g := range groups[:min(len(groups), maxTextErrorGroups)] {
		t.add(strconv.Itoa(g.Count), g.Kind, orDash(clean(g.Type)), clean(firstLine(g.Message)))
	}
	ew.table(&t)
	if n := max(len(groups)-maxTextErrorGroups, 0) + more; n > 0 {
		ew.printf("  ... %d more (see --json)\n", n)
	}
}

// logLinesText lists the session's logs and span exceptions, newest first.
// logLineText is a log line's level and message as the reports show
// them: an exception's level is "exception", its message "Type: message".
func logLineText(l *store.LogLine) (level, msg string) {
	if l.Kind != "exception" {
		return l.Level, l.Message
	}
	switch {
	case l.Type != "" && l.Message != "":
		return "exception", l.Type + ": " + l.Message
	case l.Type != "":
		return "exception", l.Type
	}
	return "exception", l.Message
}

func logLinesText(ew *errWriter, lines []store.LogLine, more int, opts Options) {
	if len(lines) == 0 {
		return
	}
	ew.printf("\nLogs and exceptions (newest first)\n")
	t := table{indent: "  "}
	t.add("TIME", "LEVEL", "SPAN", "MESSAGE")
	for _, l := range lines[:min(len(lines), maxTextLogLines)] {
		level, msg := logLineText(&l)
		t.add(when(l.Time, opts), orDash(clean(level)), orDash(clean(l.SpanName)), clean(firstLine(msg)))
	}
	ew.table(&t)
	if n := max(len(lines)-maxTextLogLines, 0) + more; n > 0 {
		ew.printf("  ... %d more (see --json)\n", n)
	}
}

func logLinesDoc(lines []store.LogLine) []logLineJSON {
	out := make([]logLineJSON, 0, len(lines))
	for _, l := range lines {
		out = append(out, logLineJSON{Time: tp(l.Time), Kind: l.Kind, Level: sp(l.Level), Type: sp(l.Type),
			Message: l.Message, SpanName: sp(l.SpanName), TraceID: sp(l.TraceID.String()), SpanID: sp(l.SpanID.String())})
	}
	return out
}

func errorGroupsDoc(groups []store.ErrorGroup) []errorGroupJSON {
	out := make([]errorGroupJSON, 0, len(groups))
	for _, g := range groups {
		out = append(out, errorGroupJSON{Kind: g.Kind, Type: sp(g.Type), Message: g.Message, Count: g.Count,
			First: tp(g.First), Last: tp(g.Last)})
	}
	return out
}
