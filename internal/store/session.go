package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/gpu"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// SessionDetail is everything `graphsignal show` reports about one session.
type SessionDetail struct {
	Summary SessionSummary
	// Runs are the runs the session's records came from, in start order.
	Runs []Run
	// Scores of the session and, for the runs whose own session it is,
	// of those runs and their spans, and the scores recorded later that
	// name a span of the session, in time order (sessionScoresSQL).
	Scores []Score
	// ScoreSummaries sum up Scores per name, by name.
	ScoreSummaries []ScoreSummary
	// Errors are the session's error records in time order: spans with
	// error status (from the spans listed in Runs' traces) and logs at
	// level error or above, at most MaxErrors.
	Errors []ErrorRecord
	// MoreErrors counts error logs left out of Errors.
	MoreErrors int
	// Intake totals the graphsignal.intake.* metrics of all runs.
	Intake []Count
	// Logs counts the session's log records per level.
	Logs []Count
	// LogLines are the session's logs (every level) and the exceptions
	// recorded on its spans, newest first, at most MaxLogLines;
	// MoreLogLines counts the others.
	LogLines     []LogLine
	MoreLogLines int
	// ErrorGroups group all of the session's error records (not only
	// those listed in Errors) by kind, type and message, most frequent
	// first, at most MaxErrorGroups; MoreErrorGroups counts the others.
	ErrorGroups     []ErrorGroup
	MoreErrorGroups int
	// History holds, per finished run (by its span id), the last finished
	// runs of its deployment that started before it, newest first
	// (DeploymentHistory): what its own duration, error rate and cost are
	// compared with.
	History map[telemetry.SpanID][]PastRun
}

// ErrorRecord is a span that ended in error, or a log at level error or
// above.
type ErrorRecord struct {
	Time time.Time
	// Kind is "span" or "log".
	Kind string
	// Name is the span's name or the log's level.
	Name string
	// Message is the span's first exception ("Type: message") or status
	// message, or the log's message.
	Message string
	TraceID telemetry.TraceID
	SpanID  telemetry.SpanID
}

// MaxErrors bounds SessionDetail.Errors.
const MaxErrors = 100

// Run is one run span with the data recorded during it.
//
// The run's spans are every span carrying its run_id, whatever their trace
// (an SDK that starts its own traces), and the spans of its trace that carry
// no run_id. A trace's metrics, and the spans of a run_id shared by several
// runs, belong to the earliest of those runs; a nested `graphsignal run`
// that shares both its parent's trace and run_id lists none of its own.
// In a session that is not the run's own (SessionID), only the spans of
// that session are listed.
type Run struct {
	// SessionID is the run's own session: its session_id tag, or its
	// trace id when it has none.
	SessionID    string
	RunID        string
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
	// GPUs are the run's part of each GPU it sampled (docs/gpu.md), by
	// NVML index; none without GPU sampling.
	GPUs []gpu.DeviceResult
	Tags telemetry.Tags
	// CI holds the attributes in the ci., cicd. and vcs. namespaces.
	CI map[string]string
	// Attributes are all the run span's attributes.
	Attributes map[string]any
	Metrics    []MetricSummary
	// Spans aggregates the run's spans (but runs) per name.
	Spans []SpanStats
	// OutsideSpans is the part of the run's wall time that none of its
	// top-level spans (those whose parent is not among its spans) covers:
	// with the spans' SelfTime, the breakdown of the run's time. Zero
	// while the run is in progress, and in a session that is not the
	// run's own.
	OutsideSpans time.Duration
	// Traces are the run's spans grouped by trace, as trees: the run's own
	// trace first, then the others by first start. At most MaxTreeSpans
	// spans are listed, the earliest; SpansOmitted counts the others.
	Traces       []Trace
	SpansOmitted int
	// Intake totals the run's graphsignal.intake.* metrics, by name.
	Intake []Count
}

// Trace is the spans of one trace recorded during a run, in tree order:
// each span is followed by its children (by start), Depth deep.
type Trace struct {
	TraceID telemetry.TraceID
	Spans   []SpanNode
}

// SpanNode is one span of a Trace. Depth is 0 for a root: a span whose
// parent is not listed (the run span, another process's span, or none).
type SpanNode struct {
	SpanID        telemetry.SpanID
	ParentSpanID  telemetry.SpanID
	Name          string
	Start         time.Time
	End           time.Time
	Duration      time.Duration
	Status        telemetry.Status
	StatusMessage string
	// Error is the first exception ("Type: message") of an error span.
	Error     string
	SessionID string
	Depth     int
}

// MaxTreeSpans bounds the spans listed per run in Run.Traces.
const MaxTreeSpans = 1000

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

// DefaultSparkPoints is how many points MetricSummary.Points holds at most
// unless Session is given ChartPoints.
const DefaultSparkPoints = 40

// SessionOption changes what Session reads.
type SessionOption func(*sessionQuery)

// sessionQuery is what Session reads: points is the bound of each metric
// series' MetricSummary.Points.
type sessionQuery struct{ points int }

// ChartPoints makes Session downsample each metric series to at most n
// points (MetricSummary.Points) instead of DefaultSparkPoints, for charts
// wider than a sparkline; n < 1 means 1.
func ChartPoints(n int) SessionOption {
	return func(q *sessionQuery) { q.points = max(n, 1) }
}

// intakePrefix names the metrics graphsignal records about its own intake
// (bad lines, dropped messages); they are totalled, not charted.
const intakePrefix = "graphsignal.intake."

// pipelinePrefix names graphsignal's drop counters past the intakes
// (pipeline queue, exporters, the journal's bound); they are totalled with
// the intake's (docs/protocol.md, "Drops").
const pipelinePrefix = "graphsignal.pipeline."

// Session returns the detail of session id, or an error wrapping ErrNotFound.
// The queries run in one read transaction, so the result is a consistent
// snapshot even while runs are being written.
func (s *Store) Session(ctx context.Context, id string, opts ...SessionOption) (*SessionDetail, error) {
	q := sessionQuery{points: DefaultSparkPoints}
	for _, o := range opts {
		o(&q)
	}
	var d *SessionDetail
	err := s.use(func() error {
		// A read-only transaction is a deferred BEGIN: a WAL snapshot
		// that takes no write lock.
		tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		d, err = s.session(ctx, tx, id, q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("session %q: %w", id, err)
	}
	return d, nil
}

func (s *Store) session(ctx context.Context, tx *sql.Tx, id string, q sessionQuery) (*SessionDetail, error) {
	sum, err := s.summary(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	d := &SessionDetail{Summary: sum}
	if d.Runs, err = queryRuns(ctx, tx, id); err != nil {
		return nil, err
	}
	traceOwner := map[telemetry.TraceID]bool{}
	runOwner := map[string]bool{}
	var own scope
	intake := map[string]float64{}
	found := runSpanFindings{groups: errorGroups{}}
	for i := range d.Runs {
		r := &d.Runs[i]
		ownsTrace, ownsRunID := !traceOwner[r.TraceID], r.RunID != "" && !runOwner[r.RunID]
		traceOwner[r.TraceID], runOwner[r.RunID] = true, true
		if r.SessionID == id {
			own.add(r, ownsTrace, ownsRunID)
		}
		if ownsTrace {
			if err := queryMetrics(ctx, tx, r, q.points); err != nil {
				return nil, err
			}
			for _, c := range r.Intake {
				intake[c.Name] += c.Value
			}
		}
		var sc scope
		sc.add(r, ownsTrace, ownsRunID)
		session := ""
		if r.SessionID != id {
			session = id
		}
		if err := queryRunSpans(ctx, tx, r, sc, session, &found); err != nil {
			return nil, err
		}
		if !r.InProgress() {
			past, err := queryDeploymentHistory(ctx, tx, r.Tags[telemetry.TagDeployment], r.Start)
			if err != nil {
				return nil, err
			}
			if d.History == nil {
				d.History = map[telemetry.SpanID][]PastRun{}
			}
			d.History[r.SpanID] = past
		}
	}
	d.Errors = found.errs
	d.Intake = sortedCounts(intake)
	if d.Scores, d.ScoreSummaries, err = sessionScores(ctx, tx, id, own); err != nil {
		return nil, err
	}
	if d.Logs, err = queryLogCounts(ctx, tx, id, own); err != nil {
		return nil, err
	}
	logErrs, more, err := queryErrorLogs(ctx, tx, id, own)
	if err != nil {
		return nil, err
	}
	d.Errors = append(d.Errors, logErrs...)
	sort.SliceStable(d.Errors, func(i, j int) bool { return d.Errors[i].Time.Before(d.Errors[j].Time) })
	if len(d.Errors) > MaxErrors {
		more += len(d.Errors) - MaxErrors
		d.Errors = d.Errors[:MaxErrors]
	}
	d.MoreErrors = more
	if err := queryErrorLogGroups(ctx, tx, id, own, found.groups); err != nil {
		return nil, err
	}
	d.ErrorGroups, d.MoreErrorGroups = found.groups.sorted()
	logs, err := queryLogLines(ctx, tx, id, own)
	if err != nil {
		return nil, err
	}
	totalLogs := 0
	for _, c := range d.Logs {
		totalLogs += int(c.Value)
	}
	d.LogLines, d.MoreLogLines = mergeLogLines(logs, totalLogs, found.excs)
	return d, nil
}

// scope is the records of a set of runs: those carrying one of its run ids,
// and those of its traces that carry no run id.
type scope struct {
	runIDs, traces []string
}

func (sc *scope) add(r *Run, trace, runID bool) {
	if trace {
		sc.traces = append(sc.traces, r.TraceID.String())
	}
	if runID {
		sc.runIDs = append(sc.runIDs, r.RunID)
	}
}

// args are the JSON arrays that scopeSQL reads.
func (sc *scope) args() (string, string) {
	return jsonList(sc.runIDs), jsonList(sc.traces)
}

func jsonList(s []string) string {
	if len(s) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(s) // a []string always marshals
	return string(b)
}

// scopeSQL matches the records of table in a scope; ?2 and ?3 are its
// args. It selects rowids through the run_id and trace_id indexes, which
// the planner would not combine from an OR.
func scopeSQL(table string) string {
	return `rowid IN (SELECT rowid FROM ` + table + ` WHERE run_id IN (SELECT value FROM json_each(?2))
		UNION ALL SELECT rowid FROM ` + table + ` WHERE +run_id = '' AND trace_id IN (SELECT value FROM json_each(?3)))`
}

// runsSQL selects the runs named by a session's links; the session id is
// ?1.
const runsSQL = `SELECT rowid FROM spans WHERE is_run = 1 AND span_id IN
		(SELECT span_id FROM session_links WHERE session_id = ?1 AND span_id != '')
	UNION SELECT rowid FROM spans WHERE is_run = 1 AND run_id IN
		(SELECT run_id FROM session_links WHERE session_id = ?1 AND run_id != '')
	UNION SELECT (SELECT rowid FROM spans WHERE trace_id = l.trace_id AND is_run = 1 ORDER BY start_ns, rowid LIMIT 1)
		FROM session_links AS l WHERE l.session_id = ?1 AND l.trace_id != ''`

func queryRuns(ctx context.Context, q querier, session string) ([]Run, error) {
	rows, err := q.QueryContext(ctx, `SELECT trace_id, span_id, parent_span_id, name, start_ns, end_ns,
		status, status_message, session_id, run_id, tags, attributes, exceptions,
		(SELECT max(ts_ns) FROM metrics WHERE metrics.trace_id = spans.trace_id)
	FROM spans WHERE rowid IN (`+runsSQL+`) ORDER BY start_ns, rowid`, session)
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
			&r.SessionID, &r.RunID, &tags, &attrs, &excs, &lastSeen); err != nil {
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
	r.GPUs = gpu.ParseAttributes(a)
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

// sessionTraces selects the trace ids of the runs whose own session is
// the session ?1 (Prune).
const sessionTraces = `SELECT trace_id FROM spans WHERE is_run = 1 AND session_id = ?1`

func queryLogCounts(ctx context.Context, q querier, session string, own scope) ([]Count, error) {
	runIDs, traces := own.args()
	rows, err := q.QueryContext(ctx, `SELECT level, count(*) FROM logs
	WHERE session_id = ?1 OR `+scopeSQL("logs")+` GROUP BY level ORDER BY level`, session, runIDs, traces)
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

// queryErrorLogs returns the first MaxErrors error logs of the session and
// how many more there are.
func queryErrorLogs(ctx context.Context, q querier, session string, own scope) ([]ErrorRecord, int, error) {
	runIDs, traces := own.args()
	rows, err := q.QueryContext(ctx, `SELECT trace_id, span_id, ts_ns, level, message, exception FROM logs
	WHERE (session_id = ?1 OR `+scopeSQL("logs")+`) AND lower(level) IN `+errorLevels+`
	ORDER BY ts_ns, rowid`, session, runIDs, traces)
	if err != nil {
		return nil, 0, fmt.Errorf("query error logs: %w", err)
	}
	defer rows.Close()
	var (
		out  []ErrorRecord
		more int
	)
	for rows.Next() {
		if len(out) == MaxErrors {
			more++
			continue
		}
		var (
			e           ErrorRecord
			trace, span string
			ts          int64
			exc         string
		)
		if err := rows.Scan(&trace, &span, &ts, &e.Name, &e.Message, &exc); err != nil {
			return nil, 0, fmt.Errorf("scan error log: %w", err)
		}
		e.Kind = "log"
		e.TraceID, _ = telemetry.ParseTraceID(trace)
		e.SpanID, _ = telemetry.ParseSpanID(span)
		e.Time = telemetry.FromUnixNano(ts)
		if e.Message == "" {
			e.Message, _, _ = strings.Cut(exc, "\n")
		}
		out = append(out, e)
	}
	return out, more, rows.Err()
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
