package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// runSpanFindings is what queryRunSpans reports besides the run's own
// fields: the error spans among those listed, the exceptions of every span
// as log lines, and every error span grouped by exception.
type runSpanFindings struct {
	errs   []ErrorRecord
	excs   []LogLine
	groups errorGroups
}

// queryRunSpans fills r.Spans, r.Traces, r.SpansOmitted and r.OutsideSpans
// from the spans (but runs) of sc, of session only when session is not
// empty. One scan in start order feeds the per-name statistics, self times,
// exceptions and error groups (every span) and the trees (the first
// MaxTreeSpans).
func queryRunSpans(ctx context.Context, q querier, r *Run, sc scope, session string, found *runSpanFindings) error {
	if len(sc.runIDs) == 0 && len(sc.traces) == 0 {
		return nil
	}
	runIDs, traces := sc.args()
	query := `SELECT trace_id, span_id, parent_span_id, name, start_ns, end_ns, status, status_message, session_id,
		exceptions, ` + ttftSQL + `
	FROM spans WHERE +is_run = 0 AND ` + scopeSQL("spans")
	args := []any{session, runIDs, traces}
	if session != "" {
		query += ` AND session_id = ?1`
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY start_ns, rowid`, args...)
	if err != nil {
		return fmt.Errorf("query spans: %w", err)
	}
	defer rows.Close()
	stats := map[string]*spanAcc{}
	var (
		listed []listedSpan
		timed  []timedSpan
	)
	for rows.Next() {
		var (
			ls                  listedSpan
			trace, span, parent string
			start, end          int64
			status              int
			excs                *string
			ttft                sql.NullInt64
		)
		if err := rows.Scan(&trace, &span, &parent, &ls.Name, &start, &end, &status, &ls.StatusMessage,
			&ls.SessionID, &excs, &ttft); err != nil {
			return fmt.Errorf("scan span: %w", err)
		}
		ls.Status = telemetry.Status(status)
		acc := stats[ls.Name]
		if acc == nil {
			acc = &spanAcc{st: SpanStats{Name: ls.Name}}
			stats[ls.Name] = acc
		}
		acc.add(ls.Status, start, end, ttft)
		if end != 0 {
			timed = append(timed, timedSpan{key: spanKey{trace, span}, parent: spanKey{trace, parent}, name: ls.Name,
				start: start, end: max(end, start)})
		}
		var exs []telemetry.Exception
		if excs != nil || ls.Status == telemetry.StatusError || len(listed) < MaxTreeSpans {
			ls.trace, _ = telemetry.ParseTraceID(trace)
			ls.SpanID, _ = telemetry.ParseSpanID(span)
			ls.ParentSpanID, _ = telemetry.ParseSpanID(parent)
			ls.Start, ls.End = telemetry.FromUnixNano(start), telemetry.FromUnixNano(end)
			exs = decodeExceptions(excs)
		}
		at := ls.End
		if at.IsZero() {
			at = ls.Start
		}
		found.excs = append(found.excs, exceptionLines(exs, ls.Name, ls.trace, ls.SpanID, at)...)
		if ls.Status == telemetry.StatusError {
			ls.Error = ls.StatusMessage
			typ, msg := "", ls.StatusMessage
			if len(exs) > 0 {
				typ, msg = exs[0].Type, exs[0].Message
				ls.Error = typ
				if msg != "" {
					ls.Error += ": " + msg
				}
			}
			found.groups.add("span", typ, msg, 1, at, at)
		}
		if len(listed) == MaxTreeSpans {
			r.SpansOmitted++
			continue
		}
		if end > start && start != 0 {
			ls.Duration = time.Duration(end - start)
		}
		if ls.Status == telemetry.StatusError {
			found.errs = append(found.errs, ErrorRecord{Time: at, Kind: "span", Name: ls.Name, Message: ls.Error,
				TraceID: ls.trace, SpanID: ls.SpanID})
		}
		listed = append(listed, ls)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query spans: %w", err)
	}
	runEnd := int64(0)
	if !r.InProgress() && session == "" {
		runEnd = telemetry.UnixNano(r.End)
	}
	self, outside := selfTimes(timed, telemetry.UnixNano(r.Start), runEnd)
	r.OutsideSpans = outside
	r.Spans = make([]SpanStats, 0, len(stats))
	for name, acc := range stats {
		st := acc.stats()
		st.SelfTime = self[name]
		r.Spans = append(r.Spans, st)
	}
	sort.Slice(r.Spans, func(i, j int) bool { return r.Spans[i].Name < r.Spans[j].Name })
	if len(r.Spans) == 0 {
		r.Spans = nil
	}
	r.Traces = trees(listed, r.TraceID)
	return nil
}

type listedSpan struct {
	SpanNode
	trace telemetry.TraceID
}

// spanAcc aggregates the spans of one name.
type spanAcc struct {
	st    SpanStats
	durs  []time.Duration
	ttfts []time.Duration
}

// add counts a span; ttft is its time to first token in ns, if any.
func (a *spanAcc) add(status telemetry.Status, start, end int64, ttft sql.NullInt64) {
	a.st.Count++
	if status == telemetry.StatusError {
		a.st.Errors++
	}
	if ttft.Valid && ttft.Int64 >= 0 {
		a.ttfts = append(a.ttfts, time.Duration(ttft.Int64))
	}
	if end == 0 {
		a.st.InProgress++
		return
	}
	d := time.Duration(max(end-start, 0))
	a.durs = append(a.durs, d)
	a.st.Histogram[histogramBucket(d)]++
}

func (a *spanAcc) stats() SpanStats {
	setPercentiles(&a.st, a.durs)
	if len(a.ttfts) > 0 {
		sort.Slice(a.ttfts, func(i, j int) bool { return a.ttfts[i] < a.ttfts[j] })
		a.st.TTFT = &TTFTStats{Count: len(a.ttfts), P50: Percentile(a.ttfts, 50), P90: Percentile(a.ttfts, 90),
			P99: Percentile(a.ttfts, 99), Max: a.ttfts[len(a.ttfts)-1]}
	}
	return a.st
}

// trees groups spans (in start order) by trace, the run's trace first and
// the others by first start, and orders each trace depth first.
func trees(spans []listedSpan, runTrace telemetry.TraceID) []Trace {
	if len(spans) == 0 {
		return nil
	}
	byTrace := map[telemetry.TraceID][]SpanNode{}
	var order []telemetry.TraceID
	for _, s := range spans {
		if _, ok := byTrace[s.trace]; !ok {
			order = append(order, s.trace)
		}
		byTrace[s.trace] = append(byTrace[s.trace], s.SpanNode)
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i] == runTrace && order[j] != runTrace })
	out := make([]Trace, 0, len(order))
	for _, id := range order {
		out = append(out, Trace{TraceID: id, Spans: tree(byTrace[id])})
	}
	return out
}

// tree orders one trace's spans (in start order) depth first: each span
// followed by its children in start order, with their depth. A span whose
// parent is not among spans is a root; a cycle of parents (bad input) is
// broken by listing its spans as roots.
func tree(spans []SpanNode) []SpanNode {
	index := make(map[telemetry.SpanID]int, len(spans))
	for i, s := range spans {
		index[s.SpanID] = i
	}
	children := make(map[int][]int, len(spans))
	var roots []int
	for i, s := range spans {
		p, ok := index[s.ParentSpanID]
		if !ok || s.ParentSpanID.IsZero() || p == i {
			roots = append(roots, i)
			continue
		}
		children[p] = append(children[p], i)
	}
	out := make([]SpanNode, 0, len(spans))
	done := make([]bool, len(spans))
	var walk func(i, depth int)
	walk = func(i, depth int) {
		done[i] = true
		n := spans[i]
		n.Depth = depth
		out = append(out, n)
		for _, c := range children[i] {
			if !done[c] {
				walk(c, depth+1)
			}
		}
	}
	for _, i := range roots {
		walk(i, 0)
	}
	for i := range spans { // parents in a cycle: nothing reached them
		if !done[i] {
			walk(i, 0)
		}
	}
	return out
}
