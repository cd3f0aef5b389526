package report

import (
	"fmt"
	"io"
	"regexp"
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

// maxTextScores caps the scores listed in text; JSON lists all.
const maxTextScores = 20

func sessionsText(w io.Writer, sessions []store.SessionSummary, opts Options) error {
	if len(sessions) == 0 {
		_, err := io.WriteString(w, "No sessions recorded.\n")
		return err
	}
	t := table{right: map[int]bool{2: true, 3: true}}
	t.add("SESSION", "STARTED", "RUNS", "FAILED", "DURATION", "DEPLOYMENT", "USER")
	for _, s := range sessions {
		dur := Duration(s.Duration)
		if s.InProgress > 0 {
			dur = "in progress"
		}
		t.add(clean(s.ID), when(s.FirstStart, opts), strconv.Itoa(s.Runs), strconv.Itoa(s.Failures), dur,
			list(s.Deployments), list(s.Users))
	}
	return t.write(w)
}

func showText(w io.Writer, d *store.SessionDetail, opts Options) error {
	ew := &errWriter{w: w}
	s := d.Summary
	ew.printf("Session %s\n", clean(s.ID))
	kv := table{indent: "  "}
	kv.add("Started", when(s.FirstStart, opts))
	switch {
	case s.LastEnd.IsZero():
		kv.add("Duration", "-")
	case s.InProgress > 0:
		kv.add("Duration", Duration(s.Duration)+" so far")
	default:
		kv.add("Duration", Duration(s.Duration))
	}
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
	kv.add("Runs", runs)
	kv.add("Deployment", list(s.Deployments))
	kv.add("User", list(s.Users))
	ew.table(&kv)
	for i := range d.Runs {
		ew.printf("\n")
		runText(ew, &d.Runs[i], i+1, len(d.Runs), opts)
	}
	scoresText(ew, d.Scores, opts)
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

func runText(ew *errWriter, r *store.Run, n, of int, opts Options) {
	ew.printf("Run %d of %d: %s\n", n, of, clean(r.Name))
	kv := table{indent: "  "}
	kv.add("Status", clean(Outcome(r)))
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
		kv.add("Memory", "peak RSS "+Bytes(res.PeakRSS))
		kv.add("I/O", fmt.Sprintf("read %s, write %s", Bytes(res.ReadBytes), Bytes(res.WriteBytes)))
		kv.add("Processes", fmt.Sprintf("peak %d, threads %d", res.PeakProcs, res.PeakThreads))
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
	spansText(ew, r.Spans)
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
		ew.printf("  Stderr (last %d of %d lines)\n", keep, len(lines))
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

func spansText(ew *errWriter, ss []store.SpanStats) {
	if len(ss) == 0 {
		return
	}
	ew.printf("  Spans\n")
	t := table{indent: "    ", right: map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true, 6: true}}
	t.add("NAME", "COUNT", "ERRORS", "P50", "P95", "P99", "MAX")
	for _, s := range ss {
		count := strconv.Itoa(s.Count)
		if s.InProgress > 0 {
			count = fmt.Sprintf("%d (%d open)", s.Count, s.InProgress)
		}
		if s.Count == s.InProgress {
			t.add(clean(s.Name), count, strconv.Itoa(s.Errors), "-", "-", "-", "-")
			continue
		}
		t.add(clean(s.Name), count, strconv.Itoa(s.Errors), Duration(s.P50), Duration(s.P95), Duration(s.P99), Duration(s.Max))
	}
	ew.table(&t)
}

func scoresText(ew *errWriter, scores []store.Score, opts Options) {
	if len(scores) == 0 {
		return
	}
	ew.printf("\nScores\n")
	t := table{indent: "  ", right: map[int]bool{2: true, 3: true}}
	t.add("TIME", "NAME", "VALUE", "SEVERITY", "SPAN", "COMMENT")
	for _, s := range scores[:min(len(scores), maxTextScores)] {
		value := Number(s.Value)
		if s.Unit != "" {
			value += " " + s.Unit
		}
		t.add(when(s.Time, opts), clean(s.Name), clean(value), strconv.Itoa(s.Severity), orDash(s.SpanID.String()),
			clean(s.Comment))
	}
	ew.table(&t)
	if len(scores) > maxTextScores {
		ew.printf("  ... %d more (see --json)\n", len(scores)-maxTextScores)
	}
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
