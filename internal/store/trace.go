package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Trace references that ResolveTrace accepts besides a trace id or prefix.
const (
	// TraceSlowest is the session's trace with the longest duration.
	TraceSlowest = "slowest"
	// TraceFailed is the session's latest trace (by start) holding a span
	// with error status.
	TraceFailed = "failed"
)

// MaxTraceSpans bounds TraceDetail.Spans.
const MaxTraceSpans = 10_000

// ErrTraceNotFound is wrapped by the errors of ResolveTrace and Trace when
// the session holds no such trace.
var ErrTraceNotFound = errors.New("trace not found")

// TraceSummary is one trace of a session, as ResolveTrace compares them.
// It covers the trace's spans that the session lists (runs excepted).
type TraceSummary struct {
	TraceID telemetry.TraceID
	// Start is the first span's start, End the last span's end (its start
	// while open), Duration the time between.
	Start, End time.Time
	Duration   time.Duration
	Spans      int
	Errors     int
}

// TraceLookupError is returned by ResolveTrace when its reference names no
// trace of the session, or several. It wraps ErrTraceNotFound unless
// Ambiguous.
type TraceLookupError struct {
	Session, Ref string
	// Ambiguous says several traces start with Ref; otherwise none
	// matches, or none qualifies for slowest or failed.
	Ambiguous bool
	// Candidates are, in start order, at most 10: the matching traces when
	// Ambiguous, else the session's traces (the latest). More counts the
	// others.
	Candidates []TraceSummary
	More       int
}

func (e *TraceLookupError) Error() string {
	switch {
	case e.Ambiguous:
		return fmt.Sprintf("trace %q is ambiguous in session %q: %d traces start with it",
			e.Ref, e.Session, len(e.Candidates)+e.More)
	case e.Ref == TraceFailed:
		return fmt.Sprintf("session %q has no trace with an error span", e.Session)
	case e.Ref == TraceSlowest:
		return fmt.Sprintf("session %q has no trace", e.Session)
	}
	return fmt.Sprintf("trace %q not found in session %q", e.Ref, e.Session)
}

func (e *TraceLookupError) Unwrap() error {
	if e.Ambiguous {
		return nil
	}
	return ErrTraceNotFound
}

// TraceDetail is one trace of a session with everything recorded on its
// spans: what `graphsignal show --trace` reports.
type TraceDetail struct {
	SessionID string
	TraceID   telemetry.TraceID
	// Start, End and Duration span the listed spans as in TraceSummary.
	Start, End time.Time
	Duration   time.Duration
	// Spans are in tree order (as Trace's): each followed by its
	// children by start, Depth deep. At most MaxTraceSpans are listed,
	// the earliest; SpansOmitted counts the others.
	Spans        []TraceSpan
	SpansOmitted int
	// Scores are the trace's scores that name no span, in time order.
	Scores []Score
}

// TraceSpan is one span of a TraceDetail.
type TraceSpan struct {
	SpanNode
	RunID      string
	Tags       telemetry.Tags
	Attributes map[string]any
	Usage      []telemetry.Usage
	Exceptions []telemetry.Exception
	// Scores are the scores naming the span (reported on it or later), in
	// time order.
	Scores []Score
	// Payloads are present only when payload recording was on.
	Payloads []telemetry.Payload
	// Detailed says Tags, Attributes, Usage, Exceptions and Payloads were
	// read (see DetailFirst).
	Detailed bool

	rowid int64 // where the span's details are
}

// sessionScope is which spans a session lists (as Session does): all
// spans of the runs whose own session it is (own), and the spans tagged
// with the session of the runs that served it among others (shared).
type sessionScope struct {
	session     string
	own, shared scope
}

func querySessionScope(ctx context.Context, q querier, session string) (sessionScope, error) {
	runs, err := queryRuns(ctx, q, session)
	if err != nil {
		return sessionScope{}, err
	}
	ss := sessionScope{session: session}
	traceOwner := map[telemetry.TraceID]bool{}
	runOwner := map[string]bool{}
	for i := range runs {
		r := &runs[i]
		ownsTrace, ownsRunID := !traceOwner[r.TraceID], r.RunID != "" && !runOwner[r.RunID]
		traceOwner[r.TraceID], runOwner[r.RunID] = true, true
		if r.SessionID == session {
			ss.own.add(r, ownsTrace, ownsRunID)
		} else {
			ss.shared.add(r, ownsTrace, ownsRunID)
		}
	}
	return ss, nil
}

// ResolveTrace returns the trace of session that ref names: TraceSlowest,
// TraceFailed, a trace id, or the one trace id of the session that ref (hex,
// any case) is a prefix of. It returns a *TraceLookupError when none or
// several match, and an error wrapping ErrNotFound when there is no such
// session.
func (s *Store) ResolveTrace(ctx context.Context, session, ref string) (telemetry.TraceID, error) {
	var (
		found  telemetry.TraceID
		lookup *TraceLookupError
	)
	err := s.inSession(ctx, session, func(tx *sql.Tx, ss sessionScope) error {
		prefix := ""
		if ref != TraceSlowest && ref != TraceFailed {
			prefix = strings.ToLower(ref)
		}
		if id, err := telemetry.ParseTraceID(prefix); err == nil {
			// A whole id: one span of it is enough to know that the
			// session lists it (its summary would read every span).
			switch ok, err := listsTrace(ctx, tx, ss, id); {
			case err != nil:
				return err
			case ok:
				found = id
				return nil
			}
		}
		traces, err := querySessionTraces(ctx, tx, ss, prefix)
		if err != nil {
			return err
		}
		found, lookup = pickTrace(traces, session, ref, prefix)
		if lookup != nil && !lookup.Ambiguous && prefix != "" {
			// Nothing matched: list the session's traces instead.
			all, err := querySessionTraces(ctx, tx, ss, "")
			if err != nil {
				return err
			}
			lookup.Candidates, lookup.More = latest(all)
		}
		return nil
	})
	if err != nil {
		return telemetry.TraceID{}, fmt.Errorf("session %q: %w", session, err)
	}
	if lookup != nil {
		return telemetry.TraceID{}, lookup
	}
	return found, nil
}

// maxTraceCandidates is how many traces a TraceLookupError lists.
const maxTraceCandidates = 10

// pickTrace chooses among traces (in start order, those matching prefix
// when it is not empty) the one that ref names.
func pickTrace(traces []TraceSummary, session, ref, prefix string) (telemetry.TraceID, *TraceLookupError) {
	notFound := &TraceLookupError{Session: session, Ref: ref}
	var pick *TraceSummary
	switch {
	case ref == TraceSlowest:
		for i := range traces {
			if pick == nil || traces[i].Duration > pick.Duration {
				pick = &traces[i]
			}
		}
	case ref == TraceFailed:
		for i := range traces {
			if traces[i].Errors > 0 {
				pick = &traces[i] // the latest: traces are in start order
			}
		}
	case len(traces) == 1:
		pick = &traces[0]
	case len(traces) > 1:
		for i := range traces {
			if traces[i].TraceID.String() == prefix {
				return traces[i].TraceID, nil
			}
		}
		e := &TraceLookupError{Session: session, Ref: ref, Ambiguous: true, Candidates: traces}
		if len(traces) > maxTraceCandidates {
			e.Candidates, e.More = traces[:maxTraceCandidates], len(traces)-maxTraceCandidates
		}
		return telemetry.TraceID{}, e
	}
	if pick == nil {
		notFound.Candidates, notFound.More = latest(traces)
		return telemetry.TraceID{}, notFound
	}
	return pick.TraceID, nil
}

// latest returns the last maxTraceCandidates traces and how many precede
// them.
func latest(traces []TraceSummary) ([]TraceSummary, int) {
	if n := len(traces) - maxTraceCandidates; n > 0 {
		return traces[n:], n
	}
	return traces, 0
}

// querySessionTraces summarises the traces of the spans (but runs) that
// ss lists, those whose id starts with prefix (lower-case hex) when it is
// not empty, in start order.
func querySessionTraces(ctx context.Context, q querier, ss sessionScope, prefix string) ([]TraceSummary, error) {
	if strings.Trim(prefix, "0123456789abcdef") != "" {
		return nil, nil // not hex: no trace id starts with it
	}
	byID := map[string]*TraceSummary{}
	for _, part := range []struct {
		sc       scope
		filtered bool
	}{{ss.own, false}, {ss.shared, true}} {
		if len(part.sc.runIDs) == 0 && len(part.sc.traces) == 0 {
			continue
		}
		runIDs, traces := part.sc.args()
		query := `SELECT trace_id, min(start_ns), max(max(start_ns, end_ns)), sum(status = 2), count(*)
		FROM spans WHERE +is_run = 0 AND ` + scopeSQL("spans")
		if prefix != "" {
			// Every id starting with prefix sorts between prefix and
			// prefix+"\xff".
			query += ` AND trace_id >= ?4 AND trace_id < ?5`
		}
		if part.filtered {
			query += ` AND session_id = ?1`
		}
		rows, err := q.QueryContext(ctx, query+` GROUP BY trace_id`, ss.session, runIDs, traces, prefix, prefix+"\xff")
		if err != nil {
			return nil, fmt.Errorf("query traces: %w", err)
		}
		for rows.Next() {
			var (
				id                  string
				first, last         int64
				errCount, spanCount int
			)
			if err := rows.Scan(&id, &first, &last, &errCount, &spanCount); err != nil {
				rows.Close()
				return nil, fmt.Errorf("scan trace: %w", err)
			}
			t := byID[id]
			if t == nil {
				t = &TraceSummary{}
				t.TraceID, _ = telemetry.ParseTraceID(id)
				t.Start, t.End = telemetry.FromUnixNano(first), telemetry.FromUnixNano(last)
				byID[id] = t
			}
			if s := telemetry.FromUnixNano(first); s.Before(t.Start) {
				t.Start = s
			}
			if e := telemetry.FromUnixNano(last); e.After(t.End) {
				t.End = e
			}
			t.Spans += spanCount
			t.Errors += errCount
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("query traces: %w", err)
		}
	}
	out := make([]TraceSummary, 0, len(byID))
	for _, t := range byID {
		if !t.Start.IsZero() && t.End.After(t.Start) {
			t.Duration = t.End.Sub(t.Start)
		}
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].TraceID.String() < out[j].TraceID.String()
	})
	return out, nil
}

// TraceOption changes what Trace reads.
type TraceOption func(*traceQuery)

// traceQuery is what Trace reads: details < 0 means every span's details.
type traceQuery struct{ details int }

// DetailFirst makes Trace read the details (tags, attributes, usage,
// exceptions, payloads) of the first n spans in tree order only, the ones
// a text view details: the others have their tree, timing, status and
// error text, and TraceSpan.Detailed false. On a 10,000-span trace with
// payloads it reads about a third of the bytes (BENCHMARKS.md).
func DetailFirst(n int) TraceOption {
	return func(q *traceQuery) { q.details = max(n, 0) }
}

// Trace returns trace id as session lists it (the spans, but runs, that
// Session would list), with every span's tags, attributes, usage,
// exceptions, scores and payloads (see DetailFirst). It returns an error
// wrapping ErrNotFound when there is no such session and ErrTraceNotFound
// when the session lists no span of the trace. The queries run in one read
// transaction.
func (s *Store) Trace(ctx context.Context, session string, id telemetry.TraceID, opts ...TraceOption) (*TraceDetail, error) {
	q := traceQuery{details: -1}
	for _, o := range opts {
		o(&q)
	}
	var d *TraceDetail
	err := s.inSession(ctx, session, func(tx *sql.Tx, ss sessionScope) error {
		var err error
		d, err = queryTrace(ctx, tx, ss, id, q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("trace %s of session %q: %w", id, session, err)
	}
	return d, nil
}

// traceSpansSQL selects the spans (but runs) of trace ?1 that a session
// lists: those of the own scope (run ids ?2; the trace itself when ?3) and
// those of the shared scope (run ids ?4; the trace when ?5) tagged with
// session ?6. It finds the trace's rows through its index and reads them in
// rowid order, the order they were written in (as opposed to the index's,
// by name), so that each page is read once.
const traceSpansSQL = `FROM spans WHERE rowid IN (SELECT rowid FROM spans WHERE trace_id = ?1) AND +is_run = 0 AND (
		run_id IN (SELECT value FROM json_each(?2)) OR (run_id = '' AND ?3)
		OR (session_id = ?6 AND (run_id IN (SELECT value FROM json_each(?4)) OR (run_id = '' AND ?5))))`

func queryTrace(ctx context.Context, q querier, ss sessionScope, id telemetry.TraceID, tq traceQuery) (*TraceDetail, error) {
	args := traceSpansArgs(ss, id.String())
	all := tq.details < 0
	// Without every span's details, the exceptions of failed spans are
	// still read: their first one is the span's error text.
	details := `CASE WHEN status = 2 THEN exceptions END`
	if all {
		details = spanDetailColumns
	}
	// Only the rowids are sorted in SQL, so that the sort stays small (whole
	// rows, payloads included, would spill it to a temporary file); the
	// rows are then read in rowid order and sorted by scanTraceSpans.
	rows, err := q.QueryContext(ctx, `SELECT rowid, span_id, parent_span_id, name, start_ns, end_ns, status,
		status_message, session_id, run_id, `+details+`
	FROM spans WHERE rowid IN (SELECT rowid `+traceSpansSQL+`
		ORDER BY start_ns, rowid LIMIT `+fmt.Sprint(MaxTraceSpans+1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("query trace spans: %w", err)
	}
	d := &TraceDetail{SessionID: ss.session, TraceID: id}
	dec := newColumnDecoder()
	spans, err := scanTraceSpans(rows, dec, all)
	if err != nil {
		return nil, err
	}
	if len(spans) == 0 {
		return nil, ErrTraceNotFound
	}
	if len(spans) > MaxTraceSpans {
		spans = spans[:MaxTraceSpans]
		var total int
		if err := q.QueryRowContext(ctx, `SELECT count(*) `+traceSpansSQL, args...).Scan(&total); err != nil {
			return nil, fmt.Errorf("count trace spans: %w", err)
		}
		d.SpansOmitted = total - MaxTraceSpans
	}
	if err := attachScores(ctx, q, d, spans); err != nil {
		return nil, err
	}
	d.Spans = treeOrder(spans)
	if !all {
		if err := readDetails(ctx, q, dec, d.Spans[:min(tq.details, len(d.Spans))]); err != nil {
			return nil, err
		}
	}
	for _, sp := range d.Spans {
		if d.Start.IsZero() || sp.Start.Before(d.Start) {
			d.Start = sp.Start
		}
		end := sp.End
		if end.IsZero() {
			end = sp.Start
		}
		if end.After(d.End) {
			d.End = end
		}
	}
	if d.End.After(d.Start) {
		d.Duration = d.End.Sub(d.Start)
	}
	return d, nil
}

// listsTrace reports whether the session lists a span (not a run) of
// trace id.
func listsTrace(ctx context.Context, q querier, ss sessionScope, id telemetry.TraceID) (bool, error) {
	err := q.QueryRowContext(ctx, `SELECT 1 `+traceSpansSQL+` LIMIT 1`, traceSpansArgs(ss, id.String())...).Scan(new(int))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("query trace: %w", err)
	}
	return true, nil
}

// traceSpansArgs are the arguments of traceSpansSQL for trace in ss.
func traceSpansArgs(ss sessionScope, trace string) []any {
	ownRuns, _ := ss.own.args()
	sharedRuns, _ := ss.shared.args()
	return []any{trace, ownRuns, contains(ss.own.traces, trace), sharedRuns, contains(ss.shared.traces, trace),
		ss.session}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// spanDetailColumns are the columns of a span's details, in the order
// spanDetails.decode reads them.
const spanDetailColumns = `tags, attributes, exceptions, payloads, usage`

// spanDetails holds the text of a span's detail columns while a row is
// scanned.
type spanDetails struct{ tags, attrs, excs, payloads, usage sql.RawBytes }

// decode sets ts's details from the columns.
func (c *spanDetails) decode(dec *columnDecoder, ts *TraceSpan) {
	ts.Tags = dec.tags(c.tags)
	ts.Attributes = dec.attrs(c.attrs)
	ts.Exceptions = dec.exceptions(c.excs)
	ts.Payloads = dec.payloads(c.payloads)
	ts.Usage = dec.usage(c.usage)
	ts.Detailed = true
}

// scanTraceSpans reads the rows of queryTrace, returns them in start order
// (then rowid's), and closes them. With details the rows end with
// spanDetailColumns, else with the exceptions of failed spans. It decodes
// the JSON columns with dec, without copying the column text first.
func scanTraceSpans(rows *sql.Rows, dec *columnDecoder, details bool) ([]TraceSpan, error) {
	defer rows.Close()
	out := make([]TraceSpan, 0, 64)
	var keys []startKey
	for rows.Next() {
		var (
			ts           TraceSpan
			span, parent sql.RawBytes
			start, end   int64
			status       int
			cols         spanDetails
		)
		dest := []any{&ts.rowid, &span, &parent, &ts.Name, &start, &end, &status, &ts.StatusMessage, &ts.SessionID, &ts.RunID, &cols.excs}
		if details {
			dest = append(dest[:len(dest)-1], &cols.tags, &cols.attrs, &cols.excs, &cols.payloads, &cols.usage)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("scan trace span: %w", err)
		}
		ts.SpanID, _ = telemetry.ParseSpanID(string(span))
		ts.ParentSpanID, _ = telemetry.ParseSpanID(string(parent))
		ts.Start, ts.End = telemetry.FromUnixNano(start), telemetry.FromUnixNano(end)
		if end > start && start != 0 {
			ts.Duration = time.Duration(end - start)
		}
		ts.Status = telemetry.Status(status)
		var excs []telemetry.Exception
		if details {
			cols.decode(dec, &ts)
			excs = ts.Exceptions
		} else if ts.Status == telemetry.StatusError {
			excs = dec.exceptions(cols.excs)
		}
		if ts.Status == telemetry.StatusError {
			ts.Error = ts.StatusMessage
			if len(excs) > 0 {
				ts.Error = excs[0].Type
				if m := excs[0].Message; m != "" {
					ts.Error += ": " + m
				}
			}
		}
		out = append(out, ts)
		keys = append(keys, startKey{start, ts.rowid})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query trace spans: %w", err)
	}
	// Sorted through a permutation: a TraceSpan is a few hundred bytes,
	// too many to swap around (10,000 spans: tens of megabytes moved).
	order := make([]int32, len(keys))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(keys[a].start, keys[b].start); c != 0 {
			return c
		}
		return cmp.Compare(keys[a].rowid, keys[b].rowid)
	})
	sorted := make([]TraceSpan, len(out))
	for i, j := range order {
		sorted[i] = out[j]
	}
	return sorted, nil
}

// startKey is what queryTrace orders spans by: start_ns, then rowid.
type startKey struct{ start, rowid int64 }

// readDetails reads the details of spans (by their rowids) into them.
func readDetails(ctx context.Context, q querier, dec *columnDecoder, spans []TraceSpan) error {
	if len(spans) == 0 {
		return nil
	}
	index := make(map[int64]int, len(spans))
	var ids strings.Builder
	ids.WriteByte('[')
	for i := range spans {
		if i > 0 {
			ids.WriteByte(',')
		}
		ids.WriteString(strconv.FormatInt(spans[i].rowid, 10))
		index[spans[i].rowid] = i
	}
	ids.WriteByte(']')
	rows, err := q.QueryContext(ctx, `SELECT rowid, `+spanDetailColumns+`
	FROM spans WHERE rowid IN (SELECT value FROM json_each(?)) ORDER BY rowid`, ids.String())
	if err != nil {
		return fmt.Errorf("query span details: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			rowid int64
			cols  spanDetails
		)
		if err := rows.Scan(&rowid, &cols.tags, &cols.attrs, &cols.excs, &cols.payloads, &cols.usage); err != nil {
			return fmt.Errorf("scan span details: %w", err)
		}
		if i, ok := index[rowid]; ok {
			cols.decode(dec, &spans[i])
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query span details: %w", err)
	}
	return nil
}

// attachScores adds the trace's scores to the listed spans they name and
// to d.Scores when they name none.
func attachScores(ctx context.Context, q querier, d *TraceDetail, spans []TraceSpan) error {
	index := make(map[telemetry.SpanID]int, len(spans))
	for i := range spans {
		index[spans[i].SpanID] = i
	}
	rows, err := q.QueryContext(ctx, `SELECT span_id, name, value, unit, comment, severity, tags, ts_ns
	FROM scores WHERE trace_id = ? ORDER BY ts_ns, rowid`, d.TraceID.String())
	if err != nil {
		return fmt.Errorf("query trace scores: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			sc    Score
			span  string
			value sql.NullFloat64
			tags  *string
			ts    int64
		)
		if err := rows.Scan(&span, &sc.Name, &value, &sc.Unit, &sc.Comment, &sc.Severity, &tags, &ts); err != nil {
			return fmt.Errorf("scan trace score: %w", err)
		}
		sc.TraceID = d.TraceID
		sc.SpanID, _ = telemetry.ParseSpanID(span)
		sc.Value = math.NaN() // stored as NULL
		if value.Valid {
			sc.Value = value.Float64
		}
		sc.Tags = parseTags(tags)
		sc.Time = telemetry.FromUnixNano(ts)
		if sc.SpanID.IsZero() {
			d.Scores = append(d.Scores, sc)
		} else if i, ok := index[sc.SpanID]; ok {
			spans[i].Scores = append(spans[i].Scores, sc)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query trace scores: %w", err)
	}
	return nil
}

// treeOrder orders spans (in start order) as tree does, keeping their
// details.
func treeOrder(spans []TraceSpan) []TraceSpan {
	nodes := make([]SpanNode, len(spans))
	index := make(map[telemetry.SpanID]int, len(spans))
	for i := range spans {
		nodes[i] = spans[i].SpanNode
		index[spans[i].SpanID] = i
	}
	out := make([]TraceSpan, 0, len(spans))
	for _, n := range tree(nodes) {
		ts := spans[index[n.SpanID]]
		ts.Depth = n.Depth
		out = append(out, ts)
	}
	return out
}

// inSession runs f in one read transaction, with the scope of session,
// after checking that the session exists (ErrNotFound otherwise).
func (s *Store) inSession(ctx context.Context, session string, f func(tx *sql.Tx, ss sessionScope) error) error {
	return s.use(func() error {
		tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		if _, err := s.summary(ctx, tx, session); err != nil {
			return err
		}
		ss, err := querySessionScope(ctx, tx, session)
		if err != nil {
			return err
		}
		return f(tx, ss)
	})
}
