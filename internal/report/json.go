package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// The JSON documents. Field names, types and the null/empty conventions are
// the contract of docs/json.md: every field is always present; absent
// scalars are null, absent lists [] and absent maps {}.
type (
	sessionsJSON struct {
		SchemaVersion int           `json:"schema_version"`
		Sessions      []sessionJSON `json:"sessions"`
	}

	sessionJSON struct {
		SessionID       string    `json:"session_id"`
		FirstStart      *jsonTime `json:"first_start"`
		LastEnd         *jsonTime `json:"last_end"`
		DurationSeconds float64   `json:"duration_seconds"`
		Runs            int       `json:"runs"`
		Failures        int       `json:"failures"`
		InProgress      int       `json:"in_progress"`
		Errors          int       `json:"errors"`
		Deployments     []string  `json:"deployments"`
		Users           []string  `json:"users"`
		Programs        []string  `json:"programs"`
		Nodes           int       `json:"nodes"`
		Ranks           int       `json:"ranks"`
	}

	showJSON struct {
		SchemaVersion int                `json:"schema_version"`
		Session       sessionJSON        `json:"session"`
		Runs          []runJSON          `json:"runs"`
		Scores        []scoreJSON        `json:"scores"`
		Errors        []errorJSON        `json:"errors"`
		MoreErrors    int                `json:"more_errors"`
		Intake        map[string]jsonNum `json:"intake"`
		Logs          map[string]jsonNum `json:"logs"`
		// Added within schema version 1 (docs/json.md).
		ErrorGroups     []errorGroupJSON `json:"error_groups"`
		MoreErrorGroups int              `json:"more_error_groups"`
		LogLines        []logLineJSON    `json:"log_lines"`
		MoreLogLines    int              `json:"more_log_lines"`
		Anomalies       []anomalyJSON    `json:"anomalies"`

		ScoreSummaries map[string]scoreSummaryJSON `json:"score_summaries"`
	}

	errorJSON struct {
		Time    *jsonTime `json:"time"`
		Kind    string    `json:"kind"`
		Name    string    `json:"name"`
		Message string    `json:"message"`
		TraceID *string   `json:"trace_id"`
		SpanID  *string   `json:"span_id"`
	}

	traceJSON struct {
		TraceID string     `json:"trace_id"`
		Spans   []spanJSON `json:"spans"`
	}

	spanJSON struct {
		SpanID          string    `json:"span_id"`
		ParentSpanID    *string   `json:"parent_span_id"`
		Name            string    `json:"name"`
		Start           *jsonTime `json:"start"`
		End             *jsonTime `json:"end"`
		DurationSeconds float64   `json:"duration_seconds"`
		Status          string    `json:"status"`
		StatusMessage   *string   `json:"status_message"`
		Error           *string   `json:"error"`
		SessionID       *string   `json:"session_id"`
		Depth           int       `json:"depth"`
	}

	runJSON struct {
		Name            string             `json:"name"`
		SessionID       *string            `json:"session_id"`
		RunID           *string            `json:"run_id"`
		TraceID         string             `json:"trace_id"`
		SpanID          string             `json:"span_id"`
		ParentSpanID    *string            `json:"parent_span_id"`
		Start           *jsonTime          `json:"start"`
		End             *jsonTime          `json:"end"`
		DurationSeconds float64            `json:"duration_seconds"`
		LastSeen        *jsonTime          `json:"last_seen"`
		Status          string             `json:"status"`
		Outcome         string             `json:"outcome"`
		ExitCode        *int64             `json:"exit_code"`
		Signal          *string            `json:"signal"`
		CoreDumped      bool               `json:"core_dumped"`
		ErrorKind       *string            `json:"error_kind"`
		ErrorMessage    *string            `json:"error_message"`
		StderrTail      *string            `json:"stderr_tail"`
		Resources       *resourcesJSON     `json:"resources"`
		GPUs            []gpuJSON          `json:"gpus"`
		Tags            map[string]string  `json:"tags"`
		CI              map[string]string  `json:"ci"`
		Attributes      map[string]any     `json:"attributes"`
		Metrics         []metricJSON       `json:"metrics"`
		Spans           []spanStatsJSON    `json:"spans"`
		Traces          []traceJSON        `json:"traces"`
		SpansOmitted    int                `json:"spans_omitted"`
		Intake          map[string]jsonNum `json:"intake"`
		Delivery        []deliveryJSON     `json:"delivery"`
		// OutsideSpansSeconds is null while the run is in progress and in
		// a session that is not the run's own.
		OutsideSpansSeconds *float64 `json:"outside_spans_seconds"`
	}

	resourcesJSON struct {
		CPUUserSeconds   float64 `json:"cpu_user_seconds"`
		CPUSystemSeconds float64 `json:"cpu_system_seconds"`
		PeakRSSBytes     int64   `json:"peak_rss_bytes"`
		ReadBytes        int64   `json:"read_bytes"`
		WriteBytes       int64   `json:"write_bytes"`
		PeakThreads      int64   `json:"peak_threads"`
		PeakProcesses    int64   `json:"peak_processes"`
	}

	metricJSON struct {
		Name   string            `json:"name"`
		Unit   string            `json:"unit"`
		Kind   string            `json:"kind"`
		Tags   map[string]string `json:"tags"`
		Count  int               `json:"count"`
		Min    jsonNum           `json:"min"`
		Avg    jsonNum           `json:"avg"`
		Max    jsonNum           `json:"max"`
		Last   jsonNum           `json:"last"`
		Points []pointJSON       `json:"points"`
	}

	pointJSON struct {
		Time  *jsonTime `json:"time"`
		Value jsonNum   `json:"value"`
	}

	spanStatsJSON struct {
		Name       string  `json:"name"`
		Count      int     `json:"count"`
		Errors     int     `json:"errors"`
		InProgress int     `json:"in_progress"`
		P50Seconds float64 `json:"p50_seconds"`
		P95Seconds float64 `json:"p95_seconds"`
		P99Seconds float64 `json:"p99_seconds"`
		MaxSeconds float64 `json:"max_seconds"`
		// Added within schema version 1 (docs/json.md).
		P90Seconds       float64      `json:"p90_seconds"`
		SelfSeconds      float64      `json:"self_seconds"`
		Histogram        []bucketJSON `json:"histogram"`
		TimeToFirstToken *ttftJSON    `json:"time_to_first_token"`
	}

	bucketJSON struct {
		// LeSeconds is the bucket's upper bound, null for the last.
		LeSeconds *float64 `json:"le_seconds"`
		Count     int      `json:"count"`
	}

	ttftJSON struct {
		Count      int     `json:"count"`
		P50Seconds float64 `json:"p50_seconds"`
		P90Seconds float64 `json:"p90_seconds"`
		P99Seconds float64 `json:"p99_seconds"`
		MaxSeconds float64 `json:"max_seconds"`
	}

	scoreJSON struct {
		Name     string            `json:"name"`
		Value    jsonNum           `json:"value"`
		Unit     string            `json:"unit"`
		Comment  string            `json:"comment"`
		Severity int               `json:"severity"`
		TraceID  *string           `json:"trace_id"`
		SpanID   *string           `json:"span_id"`
		Tags     map[string]string `json:"tags"`
		Time     *jsonTime         `json:"time"`
	}
)

// timeLayout is RFC 3339 with a fixed nine-digit fraction, so that times sort
// as strings.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// jsonTime is an instant in UTC in timeLayout.
type jsonTime time.Time

func (t jsonTime) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, time.Time(t).UTC().Format(timeLayout)), nil
}

// tp is t for JSON: nil (null) for the zero time.
func tp(t time.Time) *jsonTime {
	if t.IsZero() {
		return nil
	}
	j := jsonTime(t)
	return &j
}

// jsonNum is a float64 that is null when NaN or infinite, which JSON cannot
// represent.
type jsonNum float64

func (n jsonNum) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f) // encoding/json's shortest form: 1048576, 0.25, 1e-07
}

func sp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func sessionsDoc(sessions []store.SessionSummary) sessionsJSON {
	doc := sessionsJSON{SchemaVersion: SchemaVersion, Sessions: make([]sessionJSON, 0, len(sessions))}
	for _, s := range sessions {
		doc.Sessions = append(doc.Sessions, sessionDoc(s))
	}
	return doc
}

func sessionDoc(s store.SessionSummary) sessionJSON {
	return sessionJSON{
		SessionID:       s.ID,
		FirstStart:      tp(s.FirstStart),
		LastEnd:         tp(s.LastEnd),
		DurationSeconds: s.Duration.Seconds(),
		Runs:            s.Runs,
		Failures:        s.Failures,
		InProgress:      s.InProgress,
		Errors:          s.Errors,
		Deployments:     orEmpty(s.Deployments),
		Users:           orEmpty(s.Users),
		Programs:        orEmpty(s.Programs),
		Nodes:           s.Nodes,
		Ranks:           s.Ranks,
	}
}

func showDoc(d *store.SessionDetail, deliveries Deliveries) showJSON {
	doc := showJSON{
		SchemaVersion:   SchemaVersion,
		Session:         sessionDoc(d.Summary),
		Runs:            make([]runJSON, 0, len(d.Runs)),
		Scores:          scoresDoc(d.Scores),
		Errors:          make([]errorJSON, 0, len(d.Errors)),
		MoreErrors:      d.MoreErrors,
		Intake:          countsDoc(d.Intake),
		Logs:            countsDoc(d.Logs),
		ErrorGroups:     errorGroupsDoc(d.ErrorGroups),
		MoreErrorGroups: d.MoreErrorGroups,
		LogLines:        logLinesDoc(d.LogLines),
		MoreLogLines:    d.MoreLogLines,
		Anomalies:       anomaliesDoc(detectAnomalies(d, d.History)),
		ScoreSummaries:  scoreSummariesDoc(d.ScoreSummaries),
	}
	for i := range d.Runs {
		run := runDoc(&d.Runs[i])
		run.OutsideSpansSeconds = outsideSpansDoc(&d.Runs[i], d.Summary.ID)
		run.Delivery = deliveryDoc(deliveries[d.Runs[i].SpanID])
		doc.Runs = append(doc.Runs, run)
	}
	for _, e := range d.Errors {
		doc.Errors = append(doc.Errors, errorJSON{Time: tp(e.Time), Kind: e.Kind, Name: e.Name, Message: e.Message,
			TraceID: sp(e.TraceID.String()), SpanID: sp(e.SpanID.String())})
	}
	return doc
}

func runDoc(r *store.Run) runJSON {
	j := runJSON{
		Name:            r.Name,
		SessionID:       sp(r.SessionID),
		RunID:           sp(r.RunID),
		TraceID:         r.TraceID.String(),
		SpanID:          r.SpanID.String(),
		ParentSpanID:    sp(r.ParentSpanID.String()),
		Start:           tp(r.Start),
		End:             tp(r.End),
		DurationSeconds: r.Duration.Seconds(),
		LastSeen:        tp(r.LastSeen),
		Status:          runStatus(r),
		Outcome:         Outcome(r),
		Signal:          sp(r.Signal),
		CoreDumped:      r.CoreDumped,
		ErrorKind:       sp(r.ErrorKind),
		ErrorMessage:    sp(r.ErrorMessage),
		StderrTail:      sp(r.StderrTail),
		Tags:            tagsDoc(r.Tags),
		CI:              orEmptyMap(r.CI),
		Attributes:      r.Attributes,
		Metrics:         make([]metricJSON, 0, len(r.Metrics)),
		Spans:           make([]spanStatsJSON, 0, len(r.Spans)),
		Traces:          tracesDoc(r.Traces),
		SpansOmitted:    r.SpansOmitted,
		Intake:          countsDoc(r.Intake),
		GPUs:            gpusDoc(r.GPUs),
	}
	if j.Attributes == nil {
		j.Attributes = map[string]any{}
	}
	if r.HasExitCode {
		code := r.ExitCode
		j.ExitCode = &code
	}
	if res := r.Resources; res.Known {
		j.Resources = &resourcesJSON{
			CPUUserSeconds: res.CPUUser.Seconds(), CPUSystemSeconds: res.CPUSystem.Seconds(),
			PeakRSSBytes: res.PeakRSS, ReadBytes: res.ReadBytes, WriteBytes: res.WriteBytes,
			PeakThreads: res.PeakThreads, PeakProcesses: res.PeakProcs,
		}
	}
	for _, m := range r.Metrics {
		mj := metricJSON{Name: m.Name, Unit: m.Unit, Kind: m.Kind.String(), Tags: tagsDoc(m.Tags), Count: m.Count,
			Min: jsonNum(m.Min), Avg: jsonNum(m.Avg), Max: jsonNum(m.Max), Last: jsonNum(m.Last),
			Points: make([]pointJSON, 0, len(m.Points))}
		for _, p := range m.Points {
			mj.Points = append(mj.Points, pointJSON{Time: tp(p.Time), Value: jsonNum(p.Value)})
		}
		j.Metrics = append(j.Metrics, mj)
	}
	for _, s := range r.Spans {
		j.Spans = append(j.Spans, spanStatsDoc(s))
	}
	return j
}

func tracesDoc(trs []store.Trace) []traceJSON {
	out := make([]traceJSON, 0, len(trs))
	for _, tr := range trs {
		tj := traceJSON{TraceID: tr.TraceID.String(), Spans: make([]spanJSON, 0, len(tr.Spans))}
		for _, s := range tr.Spans {
			tj.Spans = append(tj.Spans, spanJSON{
				SpanID: s.SpanID.String(), ParentSpanID: sp(s.ParentSpanID.String()), Name: s.Name,
				Start: tp(s.Start), End: tp(s.End), DurationSeconds: s.Duration.Seconds(), Status: spanStatus(&s),
				StatusMessage: sp(s.StatusMessage), Error: sp(s.Error), SessionID: sp(s.SessionID), Depth: s.Depth,
			})
		}
		out = append(out, tj)
	}
	return out
}

// spanStatus is a span's JSON "status": in_progress, error, ok or unset.
func spanStatus(s *store.SpanNode) string {
	if s.End.IsZero() {
		return "in_progress"
	}
	return s.Status.String()
}

// runStatus is the JSON "status": in_progress, ok, error, or unknown
// (the recorder died before the run's end).
func runStatus(r *store.Run) string {
	switch {
	case r.InProgress():
		return "in_progress"
	case r.ErrorKind == telemetry.ErrorKindRecorderLost:
		return "unknown"
	case failed(r):
		return "error"
	}
	return "ok"
}

func failed(r *store.Run) bool {
	return r.Status == telemetry.StatusError || r.ErrorKind != "" || (r.HasExitCode && r.ExitCode != 0)
}

func countsDoc(cs []store.Count) map[string]jsonNum {
	m := make(map[string]jsonNum, len(cs))
	for _, c := range cs {
		m[c.Name] = jsonNum(c.Value)
	}
	return m
}

func tagsDoc(t telemetry.Tags) map[string]string {
	return orEmptyMap(map[string]string(t))
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orEmptyMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// spanStatsDoc is s for JSON; its histogram lists the buckets from the
// first to the last non-empty one.
func spanStatsDoc(s store.SpanStats) spanStatsJSON {
	j := spanStatsJSON{Name: s.Name, Count: s.Count, Errors: s.Errors, InProgress: s.InProgress,
		P50Seconds: s.P50.Seconds(), P95Seconds: s.P95.Seconds(), P99Seconds: s.P99.Seconds(), MaxSeconds: s.Max.Seconds(),
		P90Seconds: s.P90.Seconds(), SelfSeconds: s.SelfTime.Seconds(), Histogram: []bucketJSON{}}
	first, last := histogramRange(s.Histogram)
	for i := first; first >= 0 && i <= last; i++ {
		b := bucketJSON{Count: s.Histogram[i]}
		if bound := store.HistogramBound(i); bound > 0 {
			le := bound.Seconds()
			b.LeSeconds = &le
		}
		j.Histogram = append(j.Histogram, b)
	}
	if t := s.TTFT; t != nil {
		j.TimeToFirstToken = &ttftJSON{Count: t.Count, P50Seconds: t.P50.Seconds(), P90Seconds: t.P90.Seconds(),
			P99Seconds: t.P99.Seconds(), MaxSeconds: t.Max.Seconds()}
	}
	return j
}

// outsideSpansDoc is the run's time outside its spans, nil where the store
// does not compute it: while the run is in progress, and in a session that
// is not the run's own.
func outsideSpansDoc(r *store.Run, session string) *float64 {
	if r.InProgress() || (r.SessionID != "" && r.SessionID != session) {
		return nil
	}
	v := r.OutsideSpans.Seconds()
	return &v
}
