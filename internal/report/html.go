package report

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// The bounds of the HTML report (docs/html.md): what it embeds past them is
// counted ("N more"), not drawn, so that a session of any size gives a page
// of a few megabytes at most. The page's bounds are shared by its runs in
// order (htmlBudget).
const (
	// maxHTMLRuns caps the runs shown.
	maxHTMLRuns = 100
	// maxHTMLSpanRows caps the waterfall rows of the page.
	maxHTMLSpanRows = 2000
	// maxHTMLSpanNames caps the span statistics rows of the page (each
	// with its histogram) and so its time by span rows.
	maxHTMLSpanNames = 1000
	// maxHTMLMetrics caps the metric table rows of the page.
	maxHTMLMetrics = 2000
	// maxHTMLPoints caps the points of one chart, maxHTMLPagePoints those
	// of the page.
	maxHTMLPoints     = 500
	maxHTMLPagePoints = 50000
	// maxHTMLStderr caps a run's stderr tail (its end is kept),
	// maxHTMLMessage an error message and maxHTMLLogMessage the message
	// of a log line or an error type (their start is kept), in bytes.
	maxHTMLStderr     = 8 << 10
	maxHTMLMessage    = 4 << 10
	maxHTMLLogMessage = 512
)

// HTMLChartPoints is how many points of each metric series the page's
// charts are drawn from: a caller asks the store for them
// (store.ChartPoints) rather than for a sparkline's store.DefaultSparkPoints.
const HTMLChartPoints = 240

// htmlBudget is what is left of the page's bounds as its runs are laid out.
type htmlBudget struct{ spanRows, spanNames, metrics, points int }

// take takes up to want from *left and returns how much it took.
func take(left *int, want int) int {
	n := min(max(*left, 0), want)
	*left -= n
	return n
}

//go:embed htmltemplates/show.html.tmpl
var htmlTemplates embed.FS

// ShowHTML writes one session's detail as a self-contained HTML page
// (docs/html.md): inline CSS and SVG, no script, nothing fetched when it is
// viewed. Text from the program is escaped. A nil d is an error.
func ShowHTML(w io.Writer, d *store.SessionDetail, opts Options) error {
	if d == nil {
		return errors.New("show: no session")
	}
	tmpl, err := template.ParseFS(htmlTemplates, "htmltemplates/show.html.tmpl")
	if err != nil {
		return fmt.Errorf("parse html template: %w", err)
	}
	if err := tmpl.Execute(w, htmlDoc(d, opts)); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// htmlPage is what the template draws: every value already formatted, every
// list already bounded.
type htmlPage struct {
	SessionID       string
	Facts           []htmlFact
	Runs            []htmlRun
	MoreRuns        int
	Anomalies       []htmlAnomaly
	Costs           *htmlCosts
	Errors          []htmlError
	MoreErrors      int
	ErrorGroups     []htmlErrorGroup
	MoreErrorGroups int
	Logs            []htmlLogLine
	MoreLogs        int
	Scores          []htmlScoreSummary
	MoreScores      int
	Worst           []htmlWorstScore
	Tail            []htmlFact
}

type htmlFact struct{ Key, Value string }

type htmlRun struct {
	Title  string
	Status string
	Failed bool
	Facts  []htmlFact
	GPUs   []htmlGPU
	// Stderr is the stored stderr tail without terminal escapes;
	// StderrCut counts the bytes left out before it.
	Stderr    string
	StderrCut int
	// More* count what the page's bounds left out.
	Charts      []htmlChart
	MoreCharts  int
	Metrics     []htmlMetric
	MoreMetrics int
	Spans       []htmlSpanStat
	MoreNames   int
	// TTFT says a name of Spans has a time to first token.
	TTFT bool
	// SelfTime is the run's time by span, of SelfOf (the run's duration).
	SelfTime []htmlSelfTime
	SelfOf   string
	Traces   []htmlTrace
	// MoreSpans counts the spans of the run the waterfall leaves out: the
	// store's (Run.SpansOmitted) and the page's bound.
	MoreSpans int
}

type htmlMetric struct{ Name, Unit, Min, Avg, Max, Last string }

type htmlTrace struct {
	Title string
	// URL is the trace's own page (Options.TraceURL), empty in a file.
	URL      string
	Duration string
	// Spans and Errors count the trace's spans and error spans ("3 spans",
	// "1 error"); Errors is empty for none.
	Spans  string
	Errors string
	Rows   []htmlSpanRow
	Open   bool
}

type htmlSpanRow struct {
	Name     string
	Depth    int
	Duration string
	// Left and Width place the bar in percent of the trace's extent.
	Left, Width float64
	// Class is "err" for an error span, "open" for one without an end.
	Class string
	Note  string
	Hint  string
}

type htmlError struct {
	Time, Kind, Name, Summary, Message string
}

func htmlDoc(d *store.SessionDetail, opts Options) htmlPage {
	s := d.Summary
	p := htmlPage{SessionID: s.ID, MoreErrors: d.MoreErrors, MoreErrorGroups: d.MoreErrorGroups,
		MoreLogs: d.MoreLogLines}
	p.Facts = []htmlFact{{"Started", when(s.FirstStart, opts)}, {"Duration", sessionDuration(s)}, {"Runs", sessionRuns(s)},
		{"Errors", strconv.Itoa(s.Errors)}, {"Deployment", list(s.Deployments)}, {"User", list(s.Users)}}
	if j := jobSummary(s.Nodes, s.Ranks); j != "" {
		p.Facts = append(p.Facts, htmlFact{"Job", j})
	}
	all := byRank(d.Runs)
	ordered := all[:min(len(all), maxHTMLRuns)]
	p.MoreRuns = len(all) - len(ordered)
	budget := htmlBudget{spanRows: maxHTMLSpanRows, spanNames: maxHTMLSpanNames, metrics: maxHTMLMetrics,
		points: maxHTMLPagePoints}
	for i, r := range ordered {
		p.Runs = append(p.Runs, htmlRunDoc(r, i+1, len(d.Runs), s.ID, opts, &budget))
	}
	p.Anomalies = anomaliesHTML(d, all, opts.TraceURL)
	p.Costs = costsHTML(opts.Costs)
	for _, e := range d.Errors {
		msg := cutHead(e.Message)
		p.Errors = append(p.Errors, htmlError{Time: when(e.Time, opts), Kind: e.Kind, Name: e.Name,
			Summary: firstLine(msg), Message: msg})
	}
	p.ErrorGroups = errorGroupsHTML(d.ErrorGroups)
	p.Logs = logLinesHTML(d.LogLines, opts)
	p.Scores, p.MoreScores, p.Worst = scoreSummariesHTML(d.ScoreSummaries, opts)
	if len(d.Logs) > 0 {
		p.Tail = append(p.Tail, htmlFact{"Logs", counts(d.Logs, " ")})
	}
	if in := nonZero(d.Intake); len(in) > 0 {
		p.Tail = append(p.Tail, htmlFact{"Intake", counts(in, "=")})
	}
	return p
}

// htmlRunDoc describes one run within what is left of the page's budget,
// and takes what it draws from it.
func htmlRunDoc(r *store.Run, n, of int, session string, opts Options, budget *htmlBudget) htmlRun {
	h := htmlRun{Title: fmt.Sprintf("Run %d of %d: %s", n, of, r.Name), Status: Outcome(r), Failed: failed(r)}
	add := func(k, v string) { h.Facts = append(h.Facts, htmlFact{k, v}) }
	if r.SessionID != "" && r.SessionID != session {
		add("Session", r.SessionID+" (the run's own; records of "+session+" below)")
	}
	if args, ok := r.Attributes[telemetry.AttrCommandArgs].([]string); ok && len(args) > 0 {
		add("Command", shellJoin(args))
	}
	add("Trace", r.TraceID.String()+"  span "+r.SpanID.String())
	add("Started", when(r.Start, opts))
	switch {
	case !r.InProgress():
		add("Duration", Duration(r.Duration))
	case !r.LastSeen.IsZero():
		add("Last data", when(r.LastSeen, opts))
	}
	if res := r.Resources; res.Known {
		add("CPU", fmt.Sprintf("user %s, system %s", Duration(res.CPUUser), Duration(res.CPUSystem)))
		if res.PeakRSS > 0 {
			add("Memory", "peak RSS "+Bytes(res.PeakRSS))
		} else {
			add("Memory", "not seen (the program ended before the first sample)")
		}
		add("I/O", fmt.Sprintf("read %s, write %s", Bytes(res.ReadBytes), Bytes(res.WriteBytes)))
		add("Processes", fmt.Sprintf("peak %d, threads %d", res.PeakProcs, res.PeakThreads))
	}
	h.GPUs = gpusHTML(r.GPUs)
	if host, ok := r.Attributes[telemetry.AttrHostName].(string); ok && host != "" {
		add("Host", host)
	}
	if len(r.Tags) > 0 {
		add("Tags", pairs(r.Tags))
	}
	if len(r.CI) > 0 {
		add("CI", pairs(r.CI))
	}
	if in := nonZero(r.Intake); len(in) > 0 {
		add("Intake", counts(in, "="))
	}
	for i, d := range opts.Deliveries[r.SpanID] {
		key := ""
		if i == 0 {
			key = "Upload"
		}
		add(key, deliveryText(d))
	}
	h.Stderr, h.StderrCut = stderrHTML(r.StderrTail)
	h.Charts, h.MoreCharts = runCharts(r, &budget.points)
	metrics := r.Metrics[:take(&budget.metrics, len(r.Metrics))]
	h.MoreMetrics = len(r.Metrics) - len(metrics)
	for _, m := range metrics {
		name := m.Name
		if len(m.Tags) > 0 {
			name += "{" + pairs(m.Tags) + "}"
		}
		h.Metrics = append(h.Metrics, htmlMetric{Name: name, Unit: m.Unit, Min: Value(m.Min, m.Unit),
			Avg: Value(m.Avg, m.Unit), Max: Value(m.Max, m.Unit), Last: Value(m.Last, m.Unit)})
	}
	names := r.Spans[:take(&budget.spanNames, len(r.Spans))]
	h.Spans, h.TTFT = spanStatsHTML(names)
	h.MoreNames = len(r.Spans) - len(h.Spans)
	h.SelfTime, h.SelfOf = selfTimeHTML(r, names, session)
	h.Traces, h.MoreSpans = waterfall(r, &budget.spanRows, opts.TraceURL)
	h.MoreSpans += r.SpansOmitted
	return h
}

// stderrHTML is a stderr tail without terminal escapes, cut to its last
// maxHTMLStderr bytes at a line start, and the number of bytes cut.
func stderrHTML(tail string) (string, int) {
	tail = strings.TrimRight(ansiSeq().ReplaceAllString(tail, ""), "\n")
	if len(tail) <= maxHTMLStderr {
		return tail, 0
	}
	keep := tail[len(tail)-maxHTMLStderr:]
	if i := strings.IndexByte(keep, '\n'); i >= 0 {
		keep = keep[i+1:]
	}
	return keep, len(tail) - len(keep)
}

// cutHead is s cut to its first maxHTMLMessage bytes (at a rune start),
// with an ellipsis when cut.
func cutHead(s string) string { return cutHeadTo(s, maxHTMLMessage) }

// cutHeadTo is s cut to its first n bytes (at a rune start), with an ellipsis
// when cut.
func cutHeadTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}

// waterfall lays out the run's traces, at most *budget rows in all, each
// linked to link's address when link is not nil, and returns how many spans
// it left out.
func waterfall(r *store.Run, budget *int, link func(telemetry.TraceID) string) ([]htmlTrace, int) {
	var out []htmlTrace
	cut := 0
	for i, tr := range r.Traces {
		if *budget <= 0 {
			cut += len(tr.Spans)
			continue
		}
		spans := tr.Spans[:take(budget, len(tr.Spans))]
		cut += len(tr.Spans) - len(spans)
		t := traceHTML(r, tr.TraceID, tr.Spans, spans, i < 3)
		if link != nil {
			t.URL = link(tr.TraceID)
		}
		out = append(out, t)
	}
	return out, cut
}

// traceHTML draws rows, the first spans of all, against the extent of all.
func traceHTML(r *store.Run, id telemetry.TraceID, all, rows []store.SpanNode, open bool) htmlTrace {
	var first, last time.Time
	errs := 0
	for _, sp := range all {
		if first.IsZero() || (!sp.Start.IsZero() && sp.Start.Before(first)) {
			first = sp.Start
		}
		last = later(last, sp.Start, sp.End)
		if sp.Status == telemetry.StatusError {
			errs++
		}
	}
	if r.TraceID == id && !r.End.IsZero() {
		last = later(last, r.End)
	}
	extent := last.Sub(first)
	h := htmlTrace{Title: id.String(), Duration: Duration(extent), Spans: Plural(len(all), "span"), Open: open}
	if errs > 0 {
		h.Errors = Plural(errs, "error")
	}
	if r.TraceID == id {
		h.Title += " (the run's trace)"
	}
	for _, sp := range rows {
		row := htmlSpanRow{Name: sp.Name, Depth: min(sp.Depth, 20), Duration: Duration(sp.Duration)}
		end := sp.End
		switch {
		case sp.End.IsZero():
			row.Class, row.Duration, end = "open", "open", last
		case sp.Status == telemetry.StatusError:
			row.Class = "err"
			row.Note = firstLine(cutHead(sp.Error))
		}
		if extent > 0 {
			row.Left = percent(float64(sp.Start.Sub(first)) / float64(extent))
			row.Width = percent(float64(end.Sub(sp.Start)) / float64(extent))
		}
		row.Width = min(max(row.Width, 0.2), 100-row.Left)
		row.Hint = fmt.Sprintf("%s: +%s, %s", sp.Name, Duration(sp.Start.Sub(first)), row.Duration)
		h.Rows = append(h.Rows, row)
	}
	return h
}

// later is the latest of ts, ignoring zero times.
func later(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}

// percent is f (a fraction) in percent, clamped to [0, 100] and rounded to
// a hundredth, which is finer than a pixel.
func percent(f float64) float64 {
	return float64(int(min(max(f, 0), 1)*10000+0.5)) / 100
}
