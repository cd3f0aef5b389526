package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// ScoreSummary sums up the scores of one name in a session (docs/json.md,
// "Score summary").
type ScoreSummary struct {
	Name string
	// Unit is the unit all the scores share, "" when they have none or
	// differ.
	Unit string
	// Count is the number of scores; Valued of those with a value (a
	// score whose value is not a number is stored without one). Mean,
	// Min, P50 (nearest rank), Max and Distribution are over the valued
	// ones, zero when none is.
	Count, Valued       int
	Mean, Min, P50, Max float64
	// Distribution counts the values: one bucket per distinct value when
	// there are at most MaxScoreValues of them (Low == High), else
	// ScoreBuckets buckets of equal width from Min to Max, each holding
	// Low <= v < High, the last also Max.
	Distribution []ScoreBucket
	// Worst are at most MaxWorstScores scores, worst first: highest
	// severity, then lowest value (a score without one after those with
	// one), then earliest. Scores tied with the name's best (the last in
	// that order) are not listed, so a name whose scores all agree has
	// none.
	Worst []WorstScore
}

// ScoreBucket counts the values from Low to High.
type ScoreBucket struct {
	Low, High float64
	Count     int
}

// WorstScore is a listed score with the name of the span it names, ""
// when it names none or its span is not stored.
type WorstScore struct {
	Score
	SpanName string
}

// The bounds of a ScoreSummary.
const (
	MaxWorstScores = 5
	MaxScoreValues = 10
	ScoreBuckets   = 10
)

// sessionScoresSQL selects the scores of the session ?1 whose own runs
// have the run ids ?2 and traces ?3 (JSON arrays): those tagged with the
// session, with one of the run ids, or recorded in one of the traces; and
// the scores tagged with no session (`graphsignal score` after the run)
// that name a span of the session (by trace and span id) or a trace
// holding one but no run span (a run's trace is its run's). A span is the
// session's when it carries its session_id or one of the run ids. Each
// branch reads an index: scores_session, scores_run, scores_trace, and the
// spans' unique (trace_id, span_id) and spans_trace_name. The last two
// read every score of the store that has no session, each with a lookup
// of its span or trace: records from a run carry its session_id, so only
// `graphsignal score` outside a run writes such scores.
const sessionScoresSQL = `SELECT trace_id, span_id, name, value, unit, comment, severity, tags, ts_ns
FROM scores WHERE rowid IN (
	SELECT rowid FROM scores WHERE session_id = ?1
	UNION SELECT rowid FROM scores WHERE run_id IN (SELECT value FROM json_each(?2))
	UNION SELECT rowid FROM scores WHERE trace_id IN (SELECT value FROM json_each(?3))
	UNION SELECT c.rowid FROM scores AS c JOIN spans AS s ON s.trace_id = c.trace_id AND s.span_id = c.span_id
		WHERE c.session_id = '' AND c.span_id != ''
		AND (s.session_id = ?1 OR s.run_id IN (SELECT value FROM json_each(?2)))
	UNION SELECT c.rowid FROM scores AS c WHERE c.session_id = '' AND c.span_id = '' AND c.trace_id != ''
		AND EXISTS (SELECT 1 FROM spans AS s WHERE s.trace_id = c.trace_id
			AND (s.session_id = ?1 OR s.run_id IN (SELECT value FROM json_each(?2))))
		AND NOT EXISTS (SELECT 1 FROM spans AS r WHERE r.trace_id = c.trace_id AND r.is_run = 1))
ORDER BY ts_ns, rowid`

// sessionScores returns the session's scores in time order and their
// summaries by name, the worst scores joined to their spans' names.
func sessionScores(ctx context.Context, q querier, session string, own scope) ([]Score, []ScoreSummary, error) {
	runIDs, traces := own.args()
	rows, err := q.QueryContext(ctx, sessionScoresSQL, session, runIDs, traces)
	if err != nil {
		return nil, nil, fmt.Errorf("query scores: %w", err)
	}
	defer rows.Close()
	var out []Score
	for rows.Next() {
		var (
			sc          Score
			trace, span string
			value       sql.NullFloat64
			tags        *string
			ts          int64
		)
		if err := rows.Scan(&trace, &span, &sc.Name, &value, &sc.Unit, &sc.Comment, &sc.Severity, &tags, &ts); err != nil {
			return nil, nil, fmt.Errorf("scan score: %w", err)
		}
		sc.TraceID, _ = telemetry.ParseTraceID(trace)
		sc.SpanID, _ = telemetry.ParseSpanID(span)
		sc.Value = math.NaN() // stored as NULL
		if value.Valid {
			sc.Value = value.Float64
		}
		sc.Tags = parseTags(tags)
		sc.Time = telemetry.FromUnixNano(ts)
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("query scores: %w", err)
	}
	sums := summarizeScores(out)
	if err := nameWorstSpans(ctx, q, sums); err != nil {
		return nil, nil, err
	}
	return out, sums, nil
}

// summarizeScores sums up scores per name, by name.
func summarizeScores(scores []Score) []ScoreSummary {
	byName := map[string][]int{}
	var names []string
	for i := range scores {
		n := scores[i].Name
		if _, ok := byName[n]; !ok {
			names = append(names, n)
		}
		byName[n] = append(byName[n], i)
	}
	sort.Strings(names)
	out := make([]ScoreSummary, 0, len(names))
	for _, n := range names {
		out = append(out, summarize(scores, byName[n]))
	}
	return out
}

// summarize sums up the scores at idx, which share one name.
func summarize(scores []Score, idx []int) ScoreSummary {
	first := &scores[idx[0]]
	s := ScoreSummary{Name: first.Name, Unit: first.Unit, Count: len(idx)}
	values := make([]float64, 0, len(idx))
	sum := 0.0
	for _, i := range idx {
		sc := &scores[i]
		if sc.Unit != s.Unit {
			s.Unit = ""
		}
		if !math.IsNaN(sc.Value) {
			values = append(values, sc.Value)
			sum += sc.Value
		}
	}
	s.Valued = len(values)
	if len(values) > 0 {
		sort.Float64s(values)
		s.Mean = sum / float64(len(values))
		s.Min, s.Max = values[0], values[len(values)-1]
		s.P50 = values[(len(values)+1)/2-1]
		s.Distribution = distribution(values)
	}
	s.Worst = worst(scores, idx)
	return s
}

// distribution counts sorted values as ScoreSummary.Distribution says.
func distribution(values []float64) []ScoreBucket {
	var distinct []ScoreBucket
	for _, v := range values {
		if n := len(distinct); n > 0 && distinct[n-1].Low == v {
			distinct[n-1].Count++
			continue
		}
		if len(distinct) == MaxScoreValues {
			distinct = nil
			break
		}
		distinct = append(distinct, ScoreBucket{Low: v, High: v, Count: 1})
	}
	if distinct != nil {
		return distinct
	}
	lo, hi := values[0], values[len(values)-1]
	width := (hi - lo) / ScoreBuckets
	out := make([]ScoreBucket, ScoreBuckets)
	for i := range out {
		out[i].Low, out[i].High = lo+float64(i)*width, lo+float64(i+1)*width
	}
	out[ScoreBuckets-1].High = hi
	for _, v := range values {
		// Scaled by the range rather than divided by the width, which
		// rounds a value on an edge (0.3 of 0..1) down a bucket.
		i := min(int((v-lo)/(hi-lo)*ScoreBuckets), ScoreBuckets-1)
		out[i].Count++
	}
	return out
}

// worse orders scores worst first (ScoreSummary.Worst).
func worse(a, b *Score) bool {
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	an, bn := math.IsNaN(a.Value), math.IsNaN(b.Value)
	switch {
	case an != bn:
		return bn
	case !an && a.Value != b.Value:
		return a.Value < b.Value
	}
	return a.Time.Before(b.Time)
}

// tied reports whether a and b rank the same but for their time.
func tied(a, b *Score) bool {
	return a.Severity == b.Severity && (a.Value == b.Value || math.IsNaN(a.Value) && math.IsNaN(b.Value))
}

// worst lists the worst scores at idx (ScoreSummary.Worst).
func worst(scores []Score, idx []int) []WorstScore {
	order := append([]int(nil), idx...)
	sort.SliceStable(order, func(i, j int) bool { return worse(&scores[order[i]], &scores[order[j]]) })
	best := &scores[order[len(order)-1]]
	var out []WorstScore
	for _, i := range order[:min(len(order), MaxWorstScores)] {
		if tied(&scores[i], best) {
			break
		}
		out = append(out, WorstScore{Score: scores[i]})
	}
	return out
}

// nameWorstSpans fills the span names of the worst scores that name a
// span, each through the spans' unique (trace_id, span_id) index.
func nameWorstSpans(ctx context.Context, q querier, sums []ScoreSummary) error {
	for i := range sums {
		for j := range sums[i].Worst {
			w := &sums[i].Worst[j]
			if w.SpanID.IsZero() || w.TraceID.IsZero() {
				continue
			}
			err := q.QueryRowContext(ctx, `SELECT name FROM spans WHERE trace_id = ? AND span_id = ?`,
				w.TraceID.String(), w.SpanID.String()).Scan(&w.SpanName)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("name scored span %s/%s: %w", w.TraceID, w.SpanID, err)
			}
		}
	}
	return nil
}
