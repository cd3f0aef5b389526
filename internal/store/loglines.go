package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// MaxLogLines bounds SessionDetail.LogLines.
const MaxLogLines = 200

// MaxErrorGroups bounds SessionDetail.ErrorGroups.
const MaxErrorGroups = 100

// LogLine is a log record of the session (any level), or an exception
// recorded on one of its spans.
type LogLine struct {
	Time time.Time
	// Kind is "log" or "exception".
	Kind string
	// Level is the log's level; empty for an exception.
	Level string
	// Type is the exception's type; empty for a log.
	Type string
	// Message is the log's message (the first line of its exception when
	// it has no message), or the exception's message.
	Message string
	// SpanName names the span the record belongs to, when the store holds
	// that span.
	SpanName string
	TraceID  telemetry.TraceID
	SpanID   telemetry.SpanID
}

// ErrorGroup counts the session's error records that share a kind, type
// and message.
type ErrorGroup struct {
	// Kind is "span" or "log", as in ErrorRecord.
	Kind string
	// Type is a span's first exception type (empty for an error span
	// without exceptions) or a log's level in lower case.
	Type string
	// Message is the exception's message (else the span's status message),
	// or the log's message (else its exception's first line).
	Message string
	Count   int
	// First and Last are the times of the group's earliest and latest
	// record.
	First, Last time.Time
}

// errorGroups accumulates ErrorGroups by key.
type errorGroups map[errorGroupKey]*ErrorGroup

type errorGroupKey struct{ kind, typ, message string }

func (g errorGroups) add(kind, typ, message string, n int, first, last time.Time) {
	k := errorGroupKey{kind, typ, message}
	e := g[k]
	if e == nil {
		e = &ErrorGroup{Kind: kind, Type: typ, Message: message, First: first, Last: last}
		g[k] = e
	}
	e.Count += n
	if first.Before(e.First) {
		e.First = first
	}
	if last.After(e.Last) {
		e.Last = last
	}
}

// sorted returns the groups most frequent first (then latest first), at
// most MaxErrorGroups, and how many more there are.
func (g errorGroups) sorted() ([]ErrorGroup, int) {
	if len(g) == 0 {
		return nil, 0
	}
	out := make([]ErrorGroup, 0, len(g))
	for _, e := range g {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.Count != b.Count:
			return a.Count > b.Count
		case !a.Last.Equal(b.Last):
			return a.Last.After(b.Last)
		case a.Kind != b.Kind:
			return a.Kind < b.Kind
		case a.Type != b.Type:
			return a.Type < b.Type
		}
		return a.Message < b.Message
	})
	if len(out) > MaxErrorGroups {
		return out[:MaxErrorGroups], len(out) - MaxErrorGroups
	}
	return out, 0
}

// logMessageSQL is a log row's message, or its exception's first line.
const logMessageSQL = `CASE WHEN message != '' THEN message
	ELSE substr(exception, 1, instr(exception || char(10), char(10)) - 1) END`

// queryLogLines returns the session's newest MaxLogLines logs, newest
// first, each with the name of its span when the store holds it.
func queryLogLines(ctx context.Context, q querier, session string, own scope) ([]LogLine, error) {
	runIDs, traces := own.args()
	rows, err := q.QueryContext(ctx, `SELECT l.ts_ns, l.level, l.msg, l.trace_id, l.span_id, coalesce(s.name, '')
	FROM (SELECT ts_ns, level, `+logMessageSQL+` AS msg, trace_id, span_id, rowid AS rid FROM logs
		WHERE session_id = ?1 OR `+scopeSQL("logs")+` ORDER BY ts_ns DESC, rowid DESC LIMIT ?4) AS l
	LEFT JOIN spans AS s ON l.span_id != '' AND s.trace_id = l.trace_id AND s.span_id = l.span_id
	ORDER BY l.ts_ns DESC, l.rid DESC`, session, runIDs, traces, MaxLogLines)
	if err != nil {
		return nil, fmt.Errorf("query log lines: %w", err)
	}
	defer rows.Close()
	var out []LogLine
	for rows.Next() {
		var (
			l           LogLine
			ts          int64
			trace, span string
		)
		if err := rows.Scan(&ts, &l.Level, &l.Message, &trace, &span, &l.SpanName); err != nil {
			return nil, fmt.Errorf("scan log line: %w", err)
		}
		l.Kind = "log"
		l.Time = telemetry.FromUnixNano(ts)
		l.TraceID, _ = telemetry.ParseTraceID(trace)
		l.SpanID, _ = telemetry.ParseSpanID(span)
		out = append(out, l)
	}
	return out, rows.Err()
}

// queryErrorLogGroups adds the session's error logs to groups, by level
// (in lower case) and message.
func queryErrorLogGroups(ctx context.Context, q querier, session string, own scope, groups errorGroups) error {
	runIDs, traces := own.args()
	rows, err := q.QueryContext(ctx, `SELECT lower(level) AS lvl, `+logMessageSQL+` AS msg, count(*), min(ts_ns), max(ts_ns)
	FROM logs WHERE (session_id = ?1 OR `+scopeSQL("logs")+`) AND lower(level) IN `+errorLevels+`
	GROUP BY lvl, msg`, session, runIDs, traces)
	if err != nil {
		return fmt.Errorf("query error log groups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			level, msg  string
			n           int
			first, last int64
		)
		if err := rows.Scan(&level, &msg, &n, &first, &last); err != nil {
			return fmt.Errorf("scan error log group: %w", err)
		}
		groups.add("log", level, msg, n, telemetry.FromUnixNano(first), telemetry.FromUnixNano(last))
	}
	return rows.Err()
}

// mergeLogLines merges the newest logs (at most MaxLogLines, newest first,
// of totalLogs) with the spans' exceptions into the newest MaxLogLines
// lines, and returns how many lines are left out.
func mergeLogLines(logs []LogLine, totalLogs int, excs []LogLine) ([]LogLine, int) {
	out := append(logs, excs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	more := totalLogs - len(logs)
	if len(out) > MaxLogLines {
		more += len(out) - MaxLogLines
		out = out[:MaxLogLines]
	}
	if len(out) == 0 {
		out = nil
	}
	return out, more
}

// exceptionLines are the log lines of one span's exceptions; an exception
// without a time is dated at the span's end (its start while open).
func exceptionLines(excs []telemetry.Exception, name string, trace telemetry.TraceID, span telemetry.SpanID, at time.Time) []LogLine {
	out := make([]LogLine, 0, len(excs))
	for _, e := range excs {
		t := e.Time
		if t.IsZero() {
			t = at
		}
		out = append(out, LogLine{Time: t, Kind: "exception", Type: e.Type, Message: e.Message, SpanName: name,
			TraceID: trace, SpanID: span})
	}
	return out
}
