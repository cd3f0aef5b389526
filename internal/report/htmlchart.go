package report

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/store"
)

// chartSeries are the series the HTML report charts over time, in this
// order; GPU series get one chart per device.
var chartSeries = []struct{ name, title string }{
	{"process.cpu.usage", "CPU"},
	{"process.memory.usage", "Memory"},
	{"gpu.utilization", "GPU utilization"},
	{"gpu.memory.usage", "GPU memory"},
}

// chartFrame is a chart's SVG geometry, in user units: the plot is the box
// (X0, Y0)-(X1, Y1); the y axis labels end at LabelX, the x axis labels sit
// on LabelY.
type chartFrame struct{ Width, Height, X0, X1, Y0, Y1, LabelX, LabelY int }

var frame = chartFrame{Width: 600, Height: 140, X0: 64, X1: 592, Y0: 10, Y1: 118, LabelX: 58, LabelY: 134}

// htmlChart is one series drawn as an SVG line chart. Line and Area are
// SVG point lists; Dot is set instead when the series has one point.
// Points is how many points are drawn, Recorded how many were recorded.
type htmlChart struct {
	Title            string
	Min, Avg         string
	Max, Last        string
	Top, Bottom, End string
	Line, Area       string
	Dot              *[2]float64
	Points, Recorded int
	Frame            chartFrame
}

// runCharts charts the run's chartSeries that have points, each with at
// most maxHTMLPoints of the points left (taken from *left), and counts the
// charts left out when too few points are left.
func runCharts(r *store.Run, left *int) ([]htmlChart, int) {
	var out []htmlChart
	more := 0
	for _, cs := range chartSeries {
		for i := range r.Metrics {
			m := &r.Metrics[i]
			if m.Name != cs.name || len(m.Points) == 0 {
				continue
			}
			title := cs.title
			if dev, ok := m.Tags["device.index"]; ok {
				title = strings.Replace(title, "GPU", "GPU "+dev, 1)
			}
			n := take(left, min(len(m.Points), maxHTMLPoints))
			if n == 0 {
				more++
				continue
			}
			out = append(out, chart(title, m, n, r.Start, r.End))
		}
	}
	return out, more
}

// chart draws m's points, downsampled to at most n, from start (or the first
// point) to end (or the last point), on a y axis from 0 (or the series'
// minimum when it is negative) to its maximum.
func chart(title string, m *store.MetricSummary, n int, start, end time.Time) htmlChart {
	pts := downsample(m.Points, n)
	if start.IsZero() || pts[0].Time.Before(start) {
		start = pts[0].Time
	}
	end = later(end, pts[len(pts)-1].Time)
	span := end.Sub(start)
	lo, hi := 0.0, 0.0
	for _, p := range pts {
		if !math.IsNaN(p.Value) && !math.IsInf(p.Value, 0) {
			lo, hi = min(lo, p.Value), max(hi, p.Value)
		}
	}
	if hi == lo {
		hi = lo + 1
	}
	x0, x1 := float64(frame.X0), float64(frame.X1)
	y0, y1 := float64(frame.Y0), float64(frame.Y1)
	x := func(t time.Time) float64 {
		if span <= 0 {
			return x0
		}
		return x0 + (x1-x0)*float64(t.Sub(start))/float64(span)
	}
	y := func(v float64) float64 { return y1 - (y1-y0)*(v-lo)/(hi-lo) }
	c := htmlChart{Title: title, Min: Value(m.Min, m.Unit), Avg: Value(m.Avg, m.Unit), Max: Value(m.Max, m.Unit), Last: Value(m.Last, m.Unit),
		Top: Value(hi, m.Unit), Bottom: Value(lo, m.Unit), End: Duration(span), Points: len(pts),
		Recorded: m.Count, Frame: frame}
	var drawn []store.Point
	for _, p := range pts {
		if !math.IsNaN(p.Value) && !math.IsInf(p.Value, 0) {
			drawn = append(drawn, p)
		}
	}
	switch {
	case len(drawn) == 1:
		c.Dot = &[2]float64{round1(x(drawn[0].Time)), round1(y(drawn[0].Value))}
	case len(drawn) > 1:
		coords := make([]string, len(drawn))
		for i, p := range drawn {
			coords[i] = xy(x(p.Time), y(p.Value))
		}
		c.Line = strings.Join(coords, " ")
		c.Area = xy(x(drawn[0].Time), y1) + " " + c.Line + " " + xy(x(drawn[len(drawn)-1].Time), y1)
	}
	return c
}

// downsample averages consecutive points into at most n groups, each at
// the time of its last point, as the store does (MetricSummary.Points).
func downsample(pts []store.Point, n int) []store.Point {
	if len(pts) <= n {
		return pts
	}
	out := make([]store.Point, 0, n)
	for g := range n {
		lo, hi := g*len(pts)/n, (g+1)*len(pts)/n
		sum, k := 0.0, 0
		for _, p := range pts[lo:hi] {
			if !math.IsNaN(p.Value) && !math.IsInf(p.Value, 0) {
				sum += p.Value
				k++
			}
		}
		v := math.NaN()
		if k > 0 {
			v = sum / float64(k)
		}
		out = append(out, store.Point{Time: pts[hi-1].Time, Value: v})
	}
	return out
}

func xy(x, y float64) string {
	return strconv.FormatFloat(round1(x), 'f', -1, 64) + "," + strconv.FormatFloat(round1(y), 'f', -1, 64)
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
