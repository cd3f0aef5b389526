package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// SessionDetail is everything `graphsignal show` reports about one session.
type SessionDetail struct {
	Summary SessionSummary
	// Runs in start order.
	Runs []Run
	// Scores of the session, its runs and their spans, in time order.
	Scores []Score
	// Intake totals the graphsignal.intake.* metrics of all runs.
	Intake []Count
	// Logs counts the session's log records per level.
	Logs []Count
}

// Run is one run span with the data recorded in its trace.
//
// A trace's metrics and child spans belong to the earliest run of the trace;
// a nested `graphsignal run` (a run span inside another's trace) lists none
// of its own.
type Run struct {
	Name         string
	TraceID      telemetry.TraceID
	SpanID       telemetry.SpanID
	ParentSpanID telemetry.SpanID
	Start        time.Time
	// End is zero while the run is in progress, or forever when its
	// recorder was killed before it could write the end; LastSeen is then
	// the time of the trace's last metric point, if any.
	End           time.Time
	Duration      time.Duration
	LastSeen      time.Time
	Status        telemetry.Status
	StatusMessage string
	// HasExitCode says whether ExitCode was recorded.
	HasExitCode bool
	ExitCode    int64
	Signal      string
	CoreDumped  bool
	// ErrorKind is one of the telemetry.ErrorKind constants, "" for none.
	ErrorKind    string
	ErrorMessage string
	StderrTail   string
	Resources    Resources
	Tags         telemetry.Tags
	// CI holds the attributes in the ci., cicd. and vcs. namespaces.
	CI map[string]string
	// Attributes are all the run span's attributes.
	Attributes map[string]any
	Metrics    []MetricSummary
	Spans      []SpanStats
	// Intake totals the run's graphsignal.intake.* metrics, by name.
	Intake []Count
}

// InProgress reports whether the run has no recorded end.
func (r *Run) InProgress() bool { return r.End.IsZero() }

// Resources is a run's resource summary, recorded at its end. Known is false
// when the run span carries none of its attributes.
type Resources struct {
	Known       bool
	CPUUser     time.Duration
	CPUSystem   time.Duration
	PeakRSS     int64
	ReadBytes   int64
	WriteBytes  int64
	PeakThreads int64
	PeakProcs   int64
}

// Count is a named total.
type Count struct {
	Name  string
	Value float64
}

// Score is a stored score.
type Score struct {
	Name     string
	Value    float64
	Unit     string
	Comment  string
	Severity int
	TraceID  telemetry.TraceID
	SpanID   telemetry.SpanID
	Tags     telemetry.Tags
	Time     time.Time
}

// DefaultSparkPoints is how many points MetricSummary.Points holds at most.
const DefaultSparkPoints = 40

// intakePrefix names the metrics graphsignal records about its own intake
// (bad lines, dropped messages); they are totalled, not charted.
const intakePrefix = "graphsignal.intake."

// Session returns the detail of session id, or an error wrapping ErrNotFound.
// The queries run in one read transaction, so the result is a consistent
// snapshot even while runs are being written.
func (s *Store) Session(ctx context.Context, id string) (*SessionDetail, error) {
	var d *SessionDetail
	err := s.use(func() error {
		// A read-only transaction is a deferred BEGIN: a WAL snapshot
		// that takes no write lock.
		tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		d, err = s.session(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("session %q: %w", id, err)
	}
	return d, nil
}

func (s *Store) session(ctx context.Context, tx *sql.Tx, id string) (*SessionDetail, error) {
	sum, err := s.summary(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	d := &SessionDetail{Summary: sum}
	if d.Runs, err = queryRuns(ctx, tx, id); err != nil {
		return nil, err
	}
	owner := map[telemetry.TraceID]bool{}
	intake := map[string]float64{}
	for i := range d.Runs {
		r := &d.Runs[i]
		if owner[r.TraceID] {
			continue
		}
		owner[r.TraceID] = true
		if err := queryMetrics(ctx, tx, r, DefaultSparkPoints); err != nil {
			return nil, err
		}
		if r.Spans, err = querySpanStats(ctx, tx, r.TraceID); err != nil {
			return nil, err
		}
		for _, c := range r.Intake {
			intake[c.Name] += c.Value
		}
	}
	d.Intake = sortedCounts(intake)
	if d.Scores, err = queryScores(ctx, tx, id); err != nil {
		return nil, err
	}
	if d.Logs, err = queryLogCounts(ctx, tx, id); err != nil {
		return nil, err
	}
	return d, nil
}

func queryRuns(ctx context.Context, q querier, session string) ([]Run, error) {
	rows, err := q.QueryContext(ctx, `SELECT trace_id, span_id, parent_span_id, name, start_ns, end_ns,
		status, status_message, tags, attributes, exceptions,
		(SELECT max(ts_ns) FROM metrics WHERE metrics.trace_id = spans.trace_id)
	FROM spans WHERE is_run = 1 AND session_id = ? ORDER BY start_ns, rowid`, session)
	if err != nil {
		return nil, fmt.Errorf("query runs: %w", err)
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		var (
			r                   Run
			trace, span, parent string
			start, end          int64
			lastSeen            sql.NullInt64
			tags, attrs, excs   *string
		)
		if err := rows.Scan(&trace, &span, &parent, &r.Name, &start, &end, &r.Status, &r.StatusMessage,
			&tags, &attrs, &excs, &lastSeen); err != nil {
			return nil, fmt.Errorf("scan run: %w", err)
		}
		r.TraceID, _ = telemetry.ParseTraceID(trace)
		r.SpanID, _ = telemetry.ParseSpanID(span)
		r.ParentSpanID, _ = telemetry.ParseSpanID(parent)
		r.Start, r.End, r.LastSeen = telemetry.FromUnixNano(start), telemetry.FromUnixNano(end), telemetry.FromUnixNano(lastSeen.Int64)
		if end > start && start != 0 {
			r.Duration = time.Duration(end - start)
		}
		r.Tags = parseTags(tags)
		r.Attributes = decodeAttrs(attrs)
		fillOutcome(&r, decodeExceptions(excs))
		runs = append(runs, r)
	}
	return runs, rows.Err()
}

// fillOutcome reads the run span attributes (docs/json.md) into r.
func fillOutcome(r *Run, excs []telemetry.Exception) {
	a := r.Attributes
	r.ExitCode, r.HasExitCode = intAttr(a, telemetry.AttrExitCode)
	r.Signal, _ = a[telemetry.AttrExitSignal].(string)
	r.CoreDumped, _ = a[telemetry.AttrCoreDumped].(bool)
	r.ErrorKind, _ = a[telemetry.AttrErrorKind].(string)
	r.StderrTail, _ = a[telemetry.AttrStderrTail].(string)
	for _, e := range excs {
		if r.ErrorKind == "" || e.Type == r.ErrorKind {
			if r.ErrorKind == "" {
				r.ErrorKind = e.Type
			}
			r.ErrorMessage = e.Message
			if r.StderrTail == "" {
				r.StderrTail = e.StackTrace
			}
			break
		}
	}
	if r.ErrorMessage == "" && r.Status == telemetry.StatusError {
		r.ErrorMessage = r.StatusMessage
	}
	res := &r.Resources
	var k [7]bool
	var user, sys float64
	user, k[0] = floatAttr(a, telemetry.AttrCPUUserTime)
	sys, k[1] = floatAttr(a, telemetry.AttrCPUSysTime)
	res.CPUUser = time.Duration(user * float64(time.Second))
	res.CPUSystem = time.Duration(sys * float64(time.Second))
	res.PeakRSS, k[2] = intAttr(a, telemetry.AttrPeakRSS)
	res.ReadBytes, k[3] = intAttr(a, telemetry.AttrReadBytes)
	res.WriteBytes, k[4] = intAttr(a, telemetry.AttrWriteBytes)
	res.PeakThreads, k[5] = intAttr(a, telemetry.AttrPeakThreads)
	res.PeakProcs, k[6] = intAttr(a, telemetry.AttrPeakProcs)
	for _, known := range k {
		res.Known = res.Known || known
	}
	for key, v := range a {
		if strings.HasPrefix(key, "ci.") || strings.HasPrefix(key, "cicd.") || strings.HasPrefix(key, "vcs.") {
			if r.CI == nil {
				r.CI = map[string]string{}
			}
			r.CI[key] = fmt.Sprint(v)
		}
	}
}

func intAttr(a map[string]any, key string) (int64, bool) {
	switch v := a[key].(type) {
	case int64:
		return v, true
	case float64:
		return int64(v), true
	}
	return 0, false
}

func floatAttr(a map[string]any, key string) (float64, bool) {
	switch v := a[key].(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// sessionTraces selects the trace ids of a session's runs; the session id
// is parameter ?1 of the enclosing statement.
const sessionTraces = `SELECT trace_id FROM spans WHERE is_run = 1 AND session_id = ?1`

func queryScores(ctx context.Context, q querier, session string) ([]Score, error) {
	rows, err := q.QueryContext(ctx, `SELECT trace_id, span_id, name, value, unit, comment, severity, tags, ts_ns
	FROM scores WHERE session_id = ?1 OR trace_id IN (`+sessionTraces+`)
		OR (run_id != '' AND run_id IN (SELECT run_id FROM spans WHERE is_run = 1 AND session_id = ?1 AND run_id != ''))
	ORDER BY ts_ns, rowid`, session)
	if err != nil {
		return nil, fmt.Errorf("query scores: %w", err)
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
			return nil, fmt.Errorf("scan score: %w", err)
		}
		sc.TraceID, _ = telemetry.ParseTraceID(trace)
		sc.SpanID, _ = telemetry.ParseSpanID(span)
		sc.Value = value.Float64
		sc.Tags = parseTags(tags)
		sc.Time = telemetry.FromUnixNano(ts)
		out = append(out, sc)
	}
	return out, rows.Err()
}

func queryLogCounts(ctx context.Context, q querier, session string) ([]Count, error) {
	rows, err := q.QueryContext(ctx, `SELECT level, count(*) FROM logs
	WHERE session_id = ?1 OR trace_id IN (`+sessionTraces+`) GROUP BY level ORDER BY level`, session)
	if err != nil {
		return nil, fmt.Errorf("query logs: %w", err)
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.Name, &c.Value); err != nil {
			return nil, fmt.Errorf("scan log count: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func sortedCounts(m map[string]float64) []Count {
	if len(m) == 0 {
		return nil
	}
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{Name: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
