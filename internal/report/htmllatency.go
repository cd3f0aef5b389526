package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/gpu"
	"github.com/graphsignal/graphsignal/internal/store"
)

// The HTML report's latency, time and GPU parts of a run: what text's
// spansText, timeText and GPU lines say (latency.go, gpu.go), drawn.

type (
	htmlSpanStat struct {
		Name, Count, Errors, P50, P90, P95, P99, Max, Self string
		// TTFT is the time to first token's p50, TTFTHint its other
		// percentiles; "-" and "" for a name without one.
		TTFT, TTFTHint string
		// Bar* are the latencies in percent of the run's largest Max.
		BarP50, BarP95, BarMax float64
		Hist                   htmlHistogram
	}

	// htmlHistogram is a span name's duration histogram as text draws it
	// (histogramText): the buckets from the first to the last non-empty
	// one, between Lo and Hi. Path draws each bar as a vertical stroke
	// histBar units wide, histBar+1 apart, in an SVG of Width by
	// histHeight units (the template's CSS sets the height); Hint lists
	// the non-empty buckets' counts. Path is empty when no span ended.
	htmlHistogram struct {
		Lo, Hi, Path, Hint string
		Width              int
	}

	// htmlSelfTime is one row of a run's time by span (text's timeText):
	// self time, its share of the run's wall time and a bar of it.
	htmlSelfTime struct {
		Name, Self, Share string
		Bar               float64
	}

	htmlGPU struct {
		Device, Name, Utilization, Memory, Program, Energy string
		// UtilBar and MemBar are the average utilization and the memory
		// peak in percent of the device's; 0 when not known.
		UtilBar, MemBar float64
	}
)

// histHeight is the height of a histogram's SVG and histBar the width of
// one bucket's bar (the stroke's width; a unit of gap follows it).
const (
	histHeight = 20
	histBar    = 4
)

// spanStatsHTML describes ss as text's Spans table does, with a histogram
// per name; ttft says whether any of the run's names has a time to first
// token.
func spanStatsHTML(ss []store.SpanStats) (out []htmlSpanStat, ttft bool) {
	var longest time.Duration
	for _, s := range ss {
		longest = max(longest, s.Max)
		ttft = ttft || s.TTFT != nil
	}
	pct := func(d time.Duration) float64 {
		if longest <= 0 {
			return 0
		}
		return percent(float64(d) / float64(longest))
	}
	out = make([]htmlSpanStat, 0, len(ss))
	for _, s := range ss {
		h := htmlSpanStat{Name: s.Name, Count: strconv.Itoa(s.Count), Errors: strconv.Itoa(s.Errors),
			P50: "-", P90: "-", P95: "-", P99: "-", Max: "-", Self: "-", TTFT: ttftCell(s.TTFT)}
		if s.InProgress > 0 {
			h.Count = fmt.Sprintf("%d (%d open)", s.Count, s.InProgress)
		}
		if s.Count > s.InProgress {
			h.P50, h.P90, h.P95, h.P99 = Duration(s.P50), Duration(s.P90), Duration(s.P95), Duration(s.P99)
			h.Max, h.Self = Duration(s.Max), Duration(s.SelfTime)
			h.BarP50, h.BarP95, h.BarMax = pct(s.P50), pct(s.P95), pct(s.Max)
		}
		if t := s.TTFT; t != nil {
			h.TTFTHint = fmt.Sprintf("time to first token of %s: p50 %s, p90 %s, p99 %s, max %s", Plural(t.Count, "span"),
				Duration(t.P50), Duration(t.P90), Duration(t.P99), Duration(t.Max))
		}
		h.Hist = histogramHTML(s.Histogram)
		out = append(out, h)
	}
	return out, ttft
}

// histogramHTML draws h as histogramText does: the buckets from the first
// to the last non-empty one, scaled to the fullest, a non-empty bucket at
// least one unit high.
func histogramHTML(h [store.HistogramBuckets]int) htmlHistogram {
	first, last := histogramRange(h)
	if first < 0 {
		return htmlHistogram{}
	}
	peak := 0
	for _, n := range h {
		peak = max(peak, n)
	}
	var path strings.Builder
	var hint []string
	for i, n := range h[first : last+1] {
		if n == 0 {
			continue
		}
		bar := max(n*histHeight/peak, 1)
		fmt.Fprintf(&path, "M%d %dv-%d", i*(histBar+1)+histBar/2, histHeight, bar)
		hint = append(hint, bucketText(first+i)+": "+strconv.Itoa(n))
	}
	lo, hi := histogramEdges(first, last)
	return htmlHistogram{Lo: lo, Hi: hi, Path: path.String(), Hint: strings.Join(hint, ", "),
		Width: (last-first+1)*(histBar+1) - 1}
}

// bucketText names bucket i of a span histogram: "≤4ms", ">2m11s".
func bucketText(i int) string {
	if bound := store.HistogramBound(i); bound > 0 {
		return "≤" + Duration(bound)
	}
	return ">" + Duration(store.HistogramBound(i-1))
}

// selfTimeHTML is the run's wall time by span name in self time, largest
// first, with the time no span covers, of the names in ss (the run's,
// bounded): text's timeText, under the same conditions. of is the run's
// duration; both are empty when the run has no such breakdown.
func selfTimeHTML(r *store.Run, ss []store.SpanStats, session string) (rows []htmlSelfTime, of string) {
	named := selfTimes(r, ss, session)
	if len(named) == 0 {
		return nil, ""
	}
	row := func(name string, d time.Duration) htmlSelfTime {
		share := float64(d) / float64(r.Duration)
		return htmlSelfTime{Name: name, Self: Duration(d), Share: fmt.Sprintf("%.1f%%", 100*share), Bar: percent(share)}
	}
	for _, s := range named {
		rows = append(rows, row(s.Name, s.SelfTime))
	}
	if r.OutsideSpans > 0 {
		rows = append(rows, row("(no span)", r.OutsideSpans))
	}
	return rows, Duration(r.Duration)
}

// gpusHTML describes the run's part of each GPU as GPULine says it, a
// column per part.
func gpusHTML(ds []gpu.DeviceResult) []htmlGPU {
	out := make([]htmlGPU, 0, len(ds))
	for _, d := range ds {
		g := htmlGPU{Device: d.Short(), Name: orDash(d.Name), Utilization: "-", Memory: "-", Program: "-", Energy: "-"}
		if d.HaveUtilization {
			g.Utilization = fmt.Sprintf("avg %.0f%%, peak %.0f%%", d.UtilizationAvg, d.UtilizationPeak)
			g.UtilBar = percent(d.UtilizationAvg / 100)
		}
		if d.MemoryPeak > 0 {
			g.Memory = Bytes(int64(d.MemoryPeak))
			if d.MemoryTotal > 0 {
				g.Memory += " of " + Bytes(int64(d.MemoryTotal))
				g.MemBar = percent(float64(d.MemoryPeak) / float64(d.MemoryTotal))
			}
		}
		if d.HaveProcessMemory {
			g.Program = Bytes(int64(d.ProcessMemoryPeak))
		}
		if d.HaveEnergy {
			g.Energy = joules(d.Energy)
		}
		out = append(out, g)
	}
	return out
}
