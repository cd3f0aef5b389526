package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/store"
)

// asciiRamp draws histogram bars when the text does not go to a terminal,
// lowest to highest.
const asciiRamp = " .:-=+*#"

// spansText writes a run's per-name span statistics: latency percentiles,
// self time, time to first token where spans carry it, and the duration
// histogram (block characters on a terminal, ASCII otherwise).
func spansText(ew *errWriter, ss []store.SpanStats, opts Options) {
	if len(ss) == 0 {
		return
	}
	ttft := false
	for _, s := range ss {
		ttft = ttft || s.TTFT != nil
	}
	ew.printf("  Spans\n")
	head := []string{"NAME", "COUNT", "ERRORS", "P50", "P90", "P95", "P99", "MAX", "SELF"}
	if ttft {
		head = append(head, "TTFT P50")
	}
	t := table{indent: "    ", right: map[int]bool{}}
	for i := 1; i < len(head); i++ { // the numbers; not the name nor the histogram
		t.right[i] = true
	}
	t.add(append(head, "HISTOGRAM")...)
	for _, s := range ss {
		count := strconv.Itoa(s.Count)
		if s.InProgress > 0 {
			count = fmt.Sprintf("%d (%d open)", s.Count, s.InProgress)
		}
		row := []string{clean(s.Name), count, strconv.Itoa(s.Errors)}
		if s.Count == s.InProgress {
			row = append(row, "-", "-", "-", "-", "-", "-")
		} else {
			row = append(row, Duration(s.P50), Duration(s.P90), Duration(s.P95), Duration(s.P99), Duration(s.Max),
				Duration(s.SelfTime))
		}
		if ttft {
			row = append(row, ttftCell(s.TTFT))
		}
		t.add(append(row, histogramText(s.Histogram, opts.Terminal))...)
	}
	ew.table(&t)
}

func ttftCell(t *store.TTFTStats) string {
	if t == nil {
		return "-"
	}
	return Duration(t.P50)
}

// histogramText draws the buckets from the first to the last non-empty
// one, scaled to the fullest, between the lower bound of the first and the
// upper bound of the last: "2ms ▂█▅ 16ms". It is empty when no span
// ended.
func histogramText(h [store.HistogramBuckets]int, terminal bool) string {
	first, last := histogramRange(h)
	if first < 0 {
		return ""
	}
	peak := 0
	for _, n := range h {
		peak = max(peak, n)
	}
	ramp := []rune(asciiRamp)
	if terminal {
		ramp = append([]rune{' '}, sparks...)
	}
	var b strings.Builder
	for _, n := range h[first : last+1] {
		i := 0
		if n > 0 { // a non-empty bucket always shows
			i = 1 + n*(len(ramp)-2)/peak
		}
		b.WriteRune(ramp[min(i, len(ramp)-1)])
	}
	lo, hi := histogramEdges(first, last)
	sep := "|"
	if terminal {
		sep = ""
	}
	return lo + " " + sep + b.String() + sep + " " + hi
}

// timeText writes the breakdown of a run's wall time by span name in
// self (exclusive) time, largest first, with the time no span covers.
// Spans that ran in parallel can add up to more than the run's time. It is
// left out for a run in progress and a run that served session among
// others.
func timeText(ew *errWriter, r *store.Run, session string, opts Options) {
	ss := selfTimes(r, r.Spans, session)
	if len(ss) == 0 {
		return
	}
	ew.printf("  Time by span (self time, of %s)\n", Duration(r.Duration))
	t := table{indent: "    ", right: map[int]bool{1: true, 2: true}}
	row := func(name string, d time.Duration) {
		share := float64(d) / float64(r.Duration)
		t.add(name, Duration(d), fmt.Sprintf("%.1f%%", 100*share), shareBar(share, opts.Terminal))
	}
	for _, s := range ss {
		row(clean(s.Name), s.SelfTime)
	}
	if r.OutsideSpans > 0 {
		row("(no span)", r.OutsideSpans)
	}
	ew.table(&t)
}

// selfTimes are the names of ss (r's span stats) that took self time,
// largest first: the rows of a run's time by span, in text and HTML. There
// are none for a run in progress, one without a duration, and a run that
// served session among others.
func selfTimes(r *store.Run, ss []store.SpanStats, session string) []store.SpanStats {
	if r.InProgress() || r.Duration <= 0 || (r.SessionID != "" && r.SessionID != session) {
		return nil
	}
	var named []store.SpanStats
	for _, s := range ss {
		if s.SelfTime > 0 {
			named = append(named, s)
		}
	}
	sort.SliceStable(named, func(i, j int) bool { return named[i].SelfTime > named[j].SelfTime })
	return named
}

// histogramEdges are the lower bound of a histogram's first non-empty
// bucket and the upper bound of its last ("0", "+Inf" at the ends).
func histogramEdges(first, last int) (lo, hi string) {
	lo, hi = "0", "+Inf"
	if first > 0 {
		lo = Duration(store.HistogramBound(first - 1))
	}
	if bound := store.HistogramBound(last); bound > 0 {
		hi = Duration(bound)
	}
	return lo, hi
}

// barWidth is the width of a bar at 100%.
const barWidth = 20

// shareBar draws share (0..1, clamped) as a bar of up to barWidth cells.
func shareBar(share float64, terminal bool) string {
	n := int(share*barWidth + 0.5)
	n = min(max(n, 0), barWidth)
	if terminal {
		return strings.Repeat("█", n)
	}
	return strings.Repeat("#", n)
}

// histogramRange returns the indexes of the first and the last non-empty
// bucket of h, -1 and -1 when all are empty.
func histogramRange(h [store.HistogramBuckets]int) (first, last int) {
	first, last = -1, -1
	for i, n := range h {
		if n > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}
