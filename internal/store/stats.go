package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// MetricSummary summarises one time series (a metric name and tag set) of a
// run. NaN points are not counted. For a histogram the values are the mean of
// each point; for a counter they are the cumulative totals as recorded.
type MetricSummary struct {
	Name  string
	Unit  string
	Kind  telemetry.MetricKind
	Tags  telemetry.Tags
	Count int
	Min   float64
	Avg   float64
	Max   float64
	// Last is the value of the latest point.
	Last float64
	// Points is the series downsampled for a sparkline: consecutive points
	// averaged into at most DefaultSparkPoints groups (or Session's
	// ChartPoints), each stamped with the time of its last point.
	Points []Point
}

// Point is one (downsampled) value of a series.
type Point struct {
	Time  time.Time
	Value float64
}

// SpanStats aggregates a run's non-run spans of one name. Latencies are
// exact nearest-rank percentiles of the ended spans' durations; spans without
// an end count in Count and InProgress only.
type SpanStats struct {
	Name       string
	Count      int
	Errors     int
	InProgress int
	P50        time.Duration
	P90        time.Duration
	P95        time.Duration
	P99        time.Duration
	Max        time.Duration
	// Histogram counts the ended spans by duration, in the buckets that
	// HistogramBound describes.
	Histogram [HistogramBuckets]int
	// SelfTime sums the ended spans' exclusive time: each one's duration
	// less the union of its ended children's intervals within it.
	SelfTime time.Duration
	// TTFT is the spans' time to first token; nil when none carries one.
	TTFT *TTFTStats
}

type seriesKey struct{ name, tags string }

// queryMetrics fills r.Metrics and r.Intake from the points of r's trace in
// two passes: counts, then one ordered scan that aggregates and downsamples.
func queryMetrics(ctx context.Context, q querier, r *Run, maxPoints int) error {
	trace := r.TraceID.String()
	counts := map[seriesKey]int{}
	rows, err := q.QueryContext(ctx, `SELECT name, coalesce(tags, ''), count(value) FROM metrics
		WHERE trace_id = ? GROUP BY name, tags`, trace)
	if err != nil {
		return fmt.Errorf("query metric counts: %w", err)
	}
	for rows.Next() {
		var k seriesKey
		var n int
		if err := rows.Scan(&k.name, &k.tags, &n); err != nil {
			rows.Close()
			return fmt.Errorf("scan metric count: %w", err)
		}
		counts[k] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query metric counts: %w", err)
	}
	if len(counts) == 0 {
		return nil
	}
	// A downsampled row (docs/store.md) stands for samples points.
	rows, err = q.QueryContext(ctx, `SELECT name, coalesce(tags, ''), kind, unit, ts_ns, value,
		coalesce(value_min, value), coalesce(value_max, value), samples FROM metrics
		WHERE trace_id = ? AND value IS NOT NULL ORDER BY name, ts_ns, rowid`, trace)
	if err != nil {
		return fmt.Errorf("query metrics: %w", err)
	}
	defer rows.Close()
	series := map[seriesKey]*seriesAcc{}
	for rows.Next() {
		var (
			k    seriesKey
			kind int
			unit string
			ts   int64
			p    rowPoint
		)
		if err := rows.Scan(&k.name, &k.tags, &kind, &unit, &ts, &p.value, &p.lo, &p.hi, &p.n); err != nil {
			return fmt.Errorf("scan metric: %w", err)
		}
		acc := series[k]
		if acc == nil {
			acc = newSeriesAcc(k, telemetry.MetricKind(kind), unit, counts[k], maxPoints)
			series[k] = acc
		}
		acc.add(ts, p)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query metrics: %w", err)
	}
	keys := make([]seriesKey, 0, len(series))
	for k := range series {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].name != keys[j].name {
			return keys[i].name < keys[j].name
		}
		return keys[i].tags < keys[j].tags
	})
	intake := map[string]float64{}
	for _, k := range keys {
		m := series[k].summary()
		if strings.HasPrefix(k.name, intakePrefix) || strings.HasPrefix(k.name, pipelinePrefix) {
			intake[k.name] += intakeTotal(series[k], &m)
			continue
		}
		r.Metrics = append(r.Metrics, m)
	}
	r.Intake = sortedCounts(intake)
	return nil
}

// intakeTotal is a series' contribution to an intake total: the last value
// of a cumulative counter, the sum of the points of anything else.
func intakeTotal(acc *seriesAcc, m *MetricSummary) float64 {
	if m.Kind == telemetry.Counter {
		return m.Last
	}
	return acc.sum
}

// seriesAcc aggregates one series in time order.
type seriesAcc struct {
	m        MetricSummary
	sum      float64
	total    int // points expected, from the count pass
	maxPts   int
	seen     int
	grpSum   float64
	grpN     int
	grpIndex int
	grpTime  int64
}

func newSeriesAcc(k seriesKey, kind telemetry.MetricKind, unit string, total, maxPts int) *seriesAcc {
	tags := k.tags
	return &seriesAcc{
		m: MetricSummary{Name: k.name, Unit: unit, Kind: kind, Tags: parseTags(&tags),
			Min: math.Inf(1), Max: math.Inf(-1)},
		total: total, maxPts: maxPts,
	}
}

// rowPoint is one row of a series: a point (n = 1, lo = hi = value), or
// n points downsampled into their average (a counter's last value), least
// and greatest value.
type rowPoint struct {
	value, lo, hi float64
	n             int
}

func (a *seriesAcc) add(ts int64, p rowPoint) {
	v, n := p.value, max(p.n, 1)
	a.m.Count += n
	a.sum += v * float64(n)
	a.m.Min = math.Min(a.m.Min, p.lo)
	a.m.Max = math.Max(a.m.Max, p.hi)
	a.m.Last = v
	// The point's group; points written between the two passes land in
	// the last group.
	g := 0
	if a.total > 0 {
		g = min(a.seen*a.maxPts/a.total, a.maxPts-1)
	}
	a.seen++
	if g != a.grpIndex && a.grpN > 0 {
		a.flush()
	}
	a.grpIndex = g
	a.grpSum += v * float64(n)
	a.grpN += n
	a.grpTime = ts
}

func (a *seriesAcc) flush() {
	a.m.Points = append(a.m.Points, Point{Time: telemetry.FromUnixNano(a.grpTime), Value: a.grpSum / float64(a.grpN)})
	a.grpSum, a.grpN = 0, 0
}

func (a *seriesAcc) summary() MetricSummary {
	if a.grpN > 0 {
		a.flush()
	}
	if a.m.Count > 0 {
		a.m.Avg = a.sum / float64(a.m.Count)
	}
	return a.m
}

func setPercentiles(st *SpanStats, durs []time.Duration) {
	if len(durs) == 0 {
		return
	}
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	st.P50 = Percentile(durs, 50)
	st.P90 = Percentile(durs, 90)
	st.P95 = Percentile(durs, 95)
	st.P99 = Percentile(durs, 99)
	st.Max = durs[len(durs)-1]
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted: the smallest value such that at least p% of the values are less
// than or equal to it. It returns 0 for an empty slice.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p * float64(n) / 100))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

var _ querier = (*sql.Tx)(nil)
