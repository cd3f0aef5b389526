package report

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

const textTime = "2006-01-02 15:04:05 MST"

// maxTextSpans caps the spans of a run listed in text trees, and
// maxTextErrors the session's errors; JSON lists more (docs/json.md).
const (
	maxTextSpans  = 50
	maxTextErrors = 20
)

func sessionsText(w io.Writer, sessions []store.SessionSummary, opts Options) error {
	if len(sessions) == 0 {
		msg := "No sessions recorded.\n"
		if opts.Selection != "" {
			msg = "No sessions " + clean(opts.Selection) + ".\n"
		}
		_, err := io.WriteString(w, msg)
		return err
	}
	// A JOB column (nodes, ranks) only when a listed session is a
	// distributed job's.
	jobs := slices.ContainsFunc(sessions, func(s store.SessionSummary) bool { return s.Nodes > 0 || s.Ranks > 0 })
	t := table{right: map[int]bool{2: true, 3: true, 4: true}}
	head := []string{"SESSION", "STARTED", "RUNS", "FAILED", "ERRORS", "DURATION", "DEPLOYMENT", "USER"}
	if jobs {
		head = append(head, "JOB")
	}
	t.add(head...)
	for _, s := range sessions {
		dur := Duration(s.Duration)
		if s.InProgress > 0 {
			dur = "in progress"
		}
		row := []string{clean(s.ID), when(s.FirstStart, opts), strconv.Itoa(s.Runs), strconv.Itoa(s.Failures),
			strconv.Itoa(s.Errors), dur, list(s.Deployments), list(s.Users)}
		if jobs {
			row = append(row, orDash(jobSummary(s.Nodes, s.Ranks)))
		}
		t.add(row...)
	}
	return t.write(w)
}

func showText(w io.Writer, d *store.SessionDetail, opts Options) error {
	ew := &errWriter{w: w}
	s := d.Summary
	ew.printf("Session %s\n", clean(s.ID))
	kv := table{indent: "  "}
	kv.add("Started", when(s.FirstStart, opts))
	kv.add("Duration", sessionDuration(s))
	kv.add("Runs", sessionRuns(s))
	if s.Errors > 0 {
		kv.add("Errors", strconv.Itoa(s.Errors))
	}
	kv.add("Deployment", list(s.Deployments))
	kv.add("User", list(s.Users))
	if j := jobSummary(s.Nodes, s.Ranks); j != "" {
		kv.add("Job", j)
	}
	ew.table(&kv)
	ordered := byRank(d.Runs)
	if inJob(d.Runs) {
		ew.printf("\nRuns by node and rank\n")
		ew.table(rankTable(ordered))
	}
	for i, r := range ordered {
		ew.printf("\n")
		runText(ew, r, i+1, len(ordered), s.ID, opts)
	}
	anomaliesText(ew, detectAnomalies(d, d.History))
	errorsText(ew, d.Errors, d.MoreErrors, opts)
	errorGroupsText(ew, d.ErrorGroups, d.MoreErrorGroups)
	logLinesText(ew, d.LogLines, d.MoreLogLines, opts)
	scoresText(ew, d.ScoreSummaries)
	if len(d.Logs) > 0 || len(d.Intake) > 0 {
		ew.printf("\n")
		tail := table{}
		if len(d.Logs) > 0 {
			tail.add("Logs", counts(d.Logs, " "))
		}
		if in := nonZero(d.Intake); len(in) > 0 {
			tail.add("Intake", counts(in, "="))
		}
		ew.table(&tail)
	}
	return ew.err
}

// sessionDuration says how long a session lasted: "-" before anything
// ended, "1.2s so far" while a run is in progress.
func sessionDuration(s store.SessionSummary) string {
	switch {
	case s.LastEnd.IsZero():
		return "-"
	case s.InProgress > 0:
		return Duration(s.Duration) + " so far"
	}
	return Duration(s.Duration)
}

// sessionRuns says how many runs a session has: "3 (1 failed, 1 in
// progress)".
func sessionRuns(s store.SessionSummary) string {
	runs := strconv.Itoa(s.Runs)
	var notes []string
	if s.Failures > 0 {
		notes = append(notes, fmt.Sprintf("%d failed", s.Failures))
	}
	if s.InProgress > 0 {
		notes = append(notes, fmt.Sprintf("%d in progress", s.InProgress))
	}
	if len(notes) > 0 {
		runs += " (" + strings.Join(notes, ", ") + ")"
	}
	return runs
}

func runText(ew *errWriter, r *store.Run, n, of int, session string, opts Options) {
	ew.printf("Run %d of %d: %s\n", n, of, clean(r.Name))
	kv := table{indent: "  "}
	kv.add("Status", clean(Outcome(r)))
	if r.SessionID != "" && r.SessionID != session {
		// A run that served this session among others: only this
		// session's records are listed below.
		kv.add("Session", clean(r.SessionID)+" (the run's own; records of "+clean(session)+" below)")
	}
	if args, ok := r.Attributes[telemetry.AttrCommandArgs].([]string); ok && len(args) > 0 {
		kv.add("Command", clean(shellJoin(args)))
	}
	kv.add("Trace", r.TraceID.String()+"  span "+r.SpanID.String())
	kv.add("Started", when(r.Start, opts))
	switch {
	case !r.InProgress():
		kv.add("Duration", Duration(r.Duration))
	case !r.LastSeen.IsZero():
		kv.add("Last data", when(r.LastSeen, opts))
	}
	if res := r.Resources; res.Known {
		kv.add("CPU", fmt.Sprintf("user %s, system %s", Duration(res.CPUUser), Duration(res.CPUSystem)))
		if res.PeakRSS > 0 {
			kv.add("Memory", "peak RSS "+Bytes(res.PeakRSS))
		} else { // no sample saw the program alive (docs/metrics.md)
			kv.add("Memory", "not seen (the program ended before the first sample)")
		}
		kv.add("I/O", fmt.Sprintf("read %s, write %s", Bytes(res.ReadBytes), Bytes(res.WriteBytes)))
		kv.add("Processes", fmt.Sprintf("peak %d, threads %d", res.PeakProcs, res.PeakThreads))
	}
	for _, d := range r.GPUs {
		kv.add(clean(d.Short()), clean(GPULine(d)))
	}
	if host, ok := r.Attributes[telemetry.AttrHostName].(string); ok && host != "" {
		kv.add("Host", clean(host))
	}
	if len(r.Tags) > 0 {
		kv.add("Tags", pairs(r.Tags))
	}
	if len(r.CI) > 0 {
		kv.add("CI", pairs(r.CI))
	}
	if in := nonZero(r.Intake); len(in) > 0 {
		kv.add("Intake", counts(in, "="))
	}
	for i, d := range opts.Deliveries[r.SpanID] {
		key := ""
		if i == 0 {
			key = "Upload"
		}
		kv.add(key, deliveryText(d))
	}
	ew.table(&kv)
	stderrText(ew, r.StderrTail, opts.stderrLines())
	metricsText(ew, r.Metrics, opts)
	spansText(ew, r.Spans, opts)
	timeText(ew, r, session, opts)
	tracesText(ew, r)
}

// ansiSeq matches terminal control sequences (CSI). It is compiled on first
// use: package initialisation is paid by every graphsignal run.
var ansiSeq = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`) })

func stderrText(ew *errWriter, tail string, keep int) {
	tail = strings.TrimRight(tail, "\n")
	if tail == "" {
		return
	}
	lines := strings.Split(tail, "\n")
	if len(lines) > keep {
		ew.printf("  Stderr (last %s of %s)\n", Plural(keep, "line"), Plural(len(lines), "line"))
		lines = lines[len(lines)-keep:]
	} else {
		ew.printf("  Stderr\n")
	}
	for _, l := range lines {
		ew.printf("    %s\n", strings.TrimRight(clean(ansiSeq().ReplaceAllString(l, "")), " "))
	}
}

func metricsText(ew *errWriter, ms []store.MetricSummary, opts Options) {
	if len(ms) == 0 {
		return
	}
	ew.printf("  Metrics\n")
	t := table{indent: "    ", right: map[int]bool{2: true, 3: true, 4: true, 5: true}}
	t.add("NAME", "UNIT", "MIN", "AVG", "MAX", "LAST")
	for _, m := range ms {
		name := m.Name
		if len(m.Tags) > 0 {
			name += "{" + pairs(m.Tags) + "}"
		}
		row := []string{clean(name), clean(m.Unit), Value(m.Min, m.Unit), Value(m.Avg, m.Unit), Value(m.Max, m.Unit),
			Value(m.Last, m.Unit)}
		if opts.Terminal && len(m.Points) > 1 {
			vals := make([]float64, len(m.Points))
			for i, p := range m.Points {
				vals[i] = p.Value
			}
			row = append(row, Sparkline(vals))
		}
		t.add(row...)
	}
	ew.table(&t)
}

// tracesText lists the run's spans per trace as trees: each span under its
// parent, with its duration and, for an error, what went wrong.
func tracesText(ew *errWriter, r *store.Run) {
	if len(r.Traces) == 0 {
		return
	}
	ew.printf("  Traces\n")
	shown, total := 0, r.SpansOmitted
	for _, tr := range r.Traces {
		total += len(tr.Spans)
	}
	for _, tr := range r.Traces {
		if shown == maxTextSpans {
			break
		}
		title := tr.TraceID.String()
		if tr.TraceID == r.TraceID {
			title += " (the run's trace)"
		}
		ew.printf("    %s, %s\n", title, Plural(len(tr.Spans), "span"))
		t := table{indent: "      ", right: map[int]bool{1: true}}
		for _, sp := range tr.Spans {
			if shown == maxTextSpans {
				break
			}
			shown++
			dur := Duration(sp.Duration)
			if sp.End.IsZero() {
				dur = "open"
			}
			note := ""
			if sp.Status == telemetry.StatusError {
				note = "error"
				if sp.Error != "" {
					note += ": " + firstLine(sp.Error)
				}
			}
			t.add(strings.Repeat("  ", min(sp.Depth, 20))+clean(sp.Name), dur, clean(note))
		}
		ew.table(&t)
	}
	if total > shown {
		ew.printf("    ... %s (see --json)\n", Plural(total-shown, "more span"))
	}
}

func errorsText(ew *errWriter, errs []store.ErrorRecord, more int, opts Options) {
	if len(errs) == 0 {
		return
	}
	ew.printf("\nErrors\n")
	t := table{indent: "  "}
	t.add("TIME", "KIND", "NAME", "MESSAGE")
	for _, e := range errs[:min(len(errs), maxTextErrors)] {
		t.add(when(e.Time, opts), e.Kind, clean(e.Name), clean(firstLine(e.Message)))
	}
	ew.table(&t)
	if n := max(len(errs)-maxTextErrors, 0) + more; n > 0 {
		ew.printf("  ... %d more (see --json)\n", n)
	}
}

// firstLine is s up to its first line break.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func when(t time.Time, opts Options) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(opts.loc()).Format(textTime)
}

func list(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return clean(strings.Join(s, ", "))
}

// pairs writes a map as k=v pairs sorted by key.
func pairs[M ~map[string]string](m M) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return clean(strings.Join(parts, " "))
}

// nonZero drops zero counters: text output shows what happened, while the
// JSON keeps every counter.
func nonZero(cs []store.Count) []store.Count {
	var out []store.Count
	for _, c := range cs {
		if c.Value != 0 {
			out = append(out, c)
		}
	}
	return out
}

func counts(cs []store.Count, sep string) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Name + sep + Number(c.Value)
	}
	return clean(strings.Join(parts, ", "))
}

// clean replaces control characters, which could move the cursor or change
// the terminal's state, with U+FFFD; tabs become spaces.
func clean(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case isControl(r):
			return '\uFFFD'
		}
		return r
	}, s)
}

func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }

// errWriter keeps the first write error and skips later writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func (e *errWriter) table(t *table) {
	if e.err == nil {
		e.err = t.write(e.w)
	}
}

// shellJoin renders a command line as a shell would read it back:
// arguments with spaces or metacharacters in single quotes, arguments with
// control characters or invalid UTF-8 in ANSI-C quotes ($'a\nb').
func shellJoin(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		switch {
		case a == "":
			parts[i] = "''"
		case !utf8.ValidString(a) || strings.ContainsFunc(a, isControl):
			q := strconv.Quote(a)
			q = strings.ReplaceAll(q[1:len(q)-1], `\"`, `"`)
			parts[i] = "$'" + strings.ReplaceAll(q, "'", `\'`) + "'"
		case strings.ContainsAny(a, " \t'\"\\$`!*?[](){}<>|&;#~"):
			parts[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		default:
			parts[i] = a
		}
	}
	return strings.Join(parts, " ")
}
