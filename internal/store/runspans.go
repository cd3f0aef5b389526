package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// queryRunSpans fills r.Spans, r.Traces and r.SpansOmitted from the spans
// (but runs) of sc, of session only when session is not empty, and returns
// the error spans among those listed. One scan in start order feeds both
// the per-name statistics (every span) and the trees (the first
// MaxTreeSpans).
func queryRunSpans(ctx context.Context, q querier, r *Run, sc scope, session string) ([]ErrorRecord, error) {
	if len(sc.runIDs) == 0 && len(sc.traces) == 0 {
		return nil, nil
	}
	runIDs, traces := sc.args()
	query := `SELECT trace_id, span_id, parent_span_id, name, start_ns, end_ns, status, status_message, session_id,
		CASE WHEN status = 2 THEN exceptions END
	FROM spans WHERE +is_run = 0 AND ` + scopeSQL("spans")
	args := []any{session, runIDs, traces}
	if session != "" {
		query += ` AND session_id = ?1`
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY start_ns, rowid`, args...)
	if err != nil {
		return nil, fmt.Errorf("query spans: %w", err)
	}
	defer rows.Close()
	stats := map[string]*spanAcc{}
	var (
		listed []listedSpan
		errs   []ErrorRecord
	)
	for rows.Next() {
		var (
			ls                  listedSpan
			trace, span, parent string
			start, end          int64
			status              int
			excs                *string
		)
		if err := rows.Scan(&trace, &span, &parent, &ls.Name, &start, &end, &status, &ls.StatusMessage,
			&ls.SessionID, &excs); err != nil {
			return nil, fmt.Errorf("scan span: %w", err)
		}
		ls.Status = telemetry.Status(status)
		acc := stats[ls.Name]
		if acc == nil {
			acc = &spanAcc{st: SpanStats{Name: ls.Name}}
			stats[ls.Name] = acc
		}
		acc.add(ls.Status, start, end)
		if len(listed) == MaxTreeSpans {
			r.SpansOmitted++
			continue
		}
		ls.trace, _ = telemetry.ParseTraceID(trace)
		ls.SpanID, _ = telemetry.ParseSpanID(span)
		ls.ParentSpanID, _ = telemetry.ParseSpanID(parent)
		ls.Start, ls.End = telemetry.FromUnixNano(start), telemetry.FromUnixNano(end)
		if end > start && start != 0 {
			ls.Duration = time.Duration(end - start)
		}
		if ls.Status == telemetry.StatusError {
			ls.Error = ls.StatusMessage
			if ex := decodeExceptions(excs); len(ex) > 0 {
				ls.Error = ex[0].Type
				if ex[0].Message != "" {
					ls.Error += ": " + ex[0].Message
				}
			}
			errs = append(errs, ErrorRecord{Time: ls.End, Kind: "span", Name: ls.Name, Message: ls.Error,
				TraceID: ls.trace, SpanID: ls.SpanID})
			if ls.End.IsZero() {
				errs[len(errs)-1].Time = ls.Start
			}
		}
		listed = append(listed, ls)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query spans: %w", err)
	}
	r.Spans = make([]SpanStats, 0, len(stats))
	for _, acc := range stats {
		r.Spans = append(r.Spans, acc.stats())
	}
	sort.Slice(r.Spans, func(i, j int) bool { return r.Spans[i].Name < r.Spans[j].Name })
	if len(r.Spans) == 0 {
		r.Spans = nil
	}
	r.Traces = trees(listed, r.TraceID)
	return errs, nil
}

type listedSpan struct {
	SpanNode
	trace telemetry.TraceID
}

// spanAcc aggregates the spans of one name.
type spanAcc struct {
	st   SpanStats
	durs []time.Duration
}

func (a *spanAcc) add(status telemetry.Status, start, end int64) {
	a.st.Count++
	if status == telemetry.StatusError {
		a.st.Errors++
	}
	if end == 0 {
		a.st.InProgress++
		return
	}
	a.durs = append(a.durs, time.Duration(max(end-start, 0)))
}

func (a *spanAcc) stats() SpanStats {
	setPercentiles(&a.st, a.durs)
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
