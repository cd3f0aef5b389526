package gsapi

import (
	"slices"
	"strconv"

	"github.com/graphsignal/graphsignal/internal/signalspb"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// seriesState is, per counter or histogram series, the last cumulative
// value the API accepted: the model's counters and histograms are cumulative
// since the start of the run, while the SDK (and so the API) sends
// per-upload deltas. done holds the runs whose run span was delivered:
// their series are the first forgotten when the state is full.
type seriesState struct {
	points map[string]seriesPoint
	done   map[telemetry.TraceID]bool
}

func newSeriesState() seriesState {
	return seriesState{points: map[string]seriesPoint{}, done: map[telemetry.TraceID]bool{}}
}

type seriesPoint struct {
	trace   telemetry.TraceID
	value   float64
	buckets []float64
	counts  []uint64
	count   uint64
	sum     float64
}

// The Graphsignal SDK's process metrics, which the process monitor emits
// under the same names (internal/procmon).
const (
	metricCPUUsage        = "process.cpu.usage" // the SDK's: 100 = all cores; the model's: 100 = one core
	metricMemoryUsage     = "process.memory.usage"
	metricMemoryVirtual   = "process.memory.virtual"
	metricHostMemoryUsage = "host.memory.usage"
)

// sdkUnits are the units the Graphsignal SDK gives its process metrics
// (none for the byte-valued ones).
var sdkUnits = map[string]string{
	metricCPUUsage:        "%",
	metricMemoryUsage:     "",
	metricMemoryVirtual:   "",
	metricHostMemoryUsage: "",
}

// metrics maps metric points (those not InSDKUpload) into one Metric per
// series (name, kind, unit, tags and run), in order of first appearance,
// with the series' points in order.
func (m *mapper) metrics(points []telemetry.Metric) {
	index := map[string]*signalspb.Metric{}
	for i := range points {
		p := &points[i]
		if p.InSDKUpload {
			continue
		}
		typ := metricType(p)
		if typ == signalspb.Metric_UNDEFINED_METRIC {
			continue
		}
		tags := pointTags(m.index, p)
		key := p.TraceID.String() + "\x00" + strconv.Itoa(int(typ)) + "\x00" + p.Name + "\x00" + p.Unit + "\x00" + tagsKey(tags)
		pm, ok := index[key]
		if !ok {
			unit, known := sdkUnits[p.Name]
			if !known {
				unit = p.Unit
			}
			pm = &signalspb.Metric{Name: p.Name, Tags: sortedTags(tags), Type: typ, Unit: unit}
			index[key] = pm
			m.req.Metrics = append(m.req.Metrics, pm)
		}
		dp := &signalspb.DataPoint{MeasurementTs: telemetry.UnixNano(p.Time)}
		switch typ {
		case signalspb.Metric_GAUGE_METRIC:
			v := p.Value
			if p.Name == metricCPUUsage && p.Unit == telemetry.UnitPercent {
				v *= m.cpuFactor
			}
			dp.Value = &signalspb.DataPoint_Gauge{Gauge: v}
		case signalspb.Metric_COUNTER_METRIC:
			dp.Value = &signalspb.DataPoint_Total{Total: m.counterDelta(key, p)}
		case signalspb.Metric_SUMMARY_METRIC:
			count, sum, _ := m.histogramDelta(key, p)
			dp.Value = &signalspb.DataPoint_Summary_{Summary: &signalspb.DataPoint_Summary{Count: int64(min(count, 1<<63-1)), Sum: sum}}
		case signalspb.Metric_HISTOGRAM_METRIC:
			_, _, counts := m.histogramDelta(key, p)
			dp.Value = &signalspb.DataPoint_Histogram_{Histogram: binsOf(p.Buckets, counts)}
		}
		pm.Datapoints = append(pm.Datapoints, dp)
	}
}

// metricType is the proto type of a point: a histogram without buckets
// (count and sum only) is a summary.
func metricType(p *telemetry.Metric) signalspb.Metric_MetricType {
	switch p.Kind {
	case telemetry.Gauge:
		return signalspb.Metric_GAUGE_METRIC
	case telemetry.Counter:
		return signalspb.Metric_COUNTER_METRIC
	case telemetry.Histogram:
		if len(p.Buckets) == 0 {
			return signalspb.Metric_SUMMARY_METRIC
		}
		return signalspb.Metric_HISTOGRAM_METRIC
	}
	return signalspb.Metric_UNDEFINED_METRIC
}

// last is the series' latest cumulative point: this request's, else the
// last accepted one.
func (m *mapper) last(key string) (seriesPoint, bool) {
	if p, ok := m.next[key]; ok {
		return p, true
	}
	p, ok := m.sent.points[key]
	return p, ok
}

// counterDelta is the increase since the series' last point; the whole
// value for a new series or after a reset (a decrease).
func (m *mapper) counterDelta(key string, p *telemetry.Metric) float64 {
	prev, ok := m.last(key)
	m.next[key] = seriesPoint{trace: p.TraceID, value: p.Value}
	if ok && p.Value >= prev.value {
		return p.Value - prev.value
	}
	return p.Value
}

// histogramDelta is the increase of count, sum and bucket counts since the
// series' last point; the whole point for a new series, after a reset or
// when the bucket bounds changed.
func (m *mapper) histogramDelta(key string, p *telemetry.Metric) (uint64, float64, []uint64) {
	prev, ok := m.last(key)
	m.next[key] = seriesPoint{trace: p.TraceID, buckets: p.Buckets, counts: p.Counts, count: p.Count, sum: p.Sum}
	ok = ok && slices.Equal(prev.buckets, p.Buckets) && len(prev.counts) == len(p.Counts) && p.Count >= prev.count
	for i := 0; ok && i < len(p.Counts); i++ {
		ok = p.Counts[i] >= prev.counts[i]
	}
	if !ok {
		return p.Count, p.Sum, p.Counts
	}
	d := make([]uint64, len(p.Counts))
	for i := range p.Counts {
		d[i] = p.Counts[i] - prev.counts[i]
	}
	return p.Count - prev.count, p.Sum - prev.sum, d
}

// binsOf converts upper bounds with counts (len(bounds)+1, the last for
// +Inf) to the SDK's bins, which are lower edges: the first bucket's lower
// edge is 0 for positive bounds (the SDK's histograms are of durations and
// sizes), otherwise one bucket width below the first bound.
func binsOf(bounds []float64, counts []uint64) *signalspb.DataPoint_Histogram {
	h := &signalspb.DataPoint_Histogram{Bins: make([]float64, 0, len(bounds)+1), Counts: make([]int64, 0, len(bounds)+1)}
	lower := 0.0
	if bounds[0] <= 0 {
		width := 1.0
		if len(bounds) > 1 && bounds[1] > bounds[0] {
			width = bounds[1] - bounds[0]
		}
		lower = bounds[0] - width
	}
	h.Bins = append(h.Bins, lower)
	h.Bins = append(h.Bins, bounds...)
	for i := range h.Bins {
		var n uint64
		if i < len(counts) {
			n = counts[i]
		}
		h.Counts = append(h.Counts, int64(min(n, 1<<63-1)))
	}
	return h
}

// commit records this request's series points as accepted. Beyond max
// series it forgets those of runs whose run span was delivered, then, if
// still beyond, everything (the next point of a forgotten series is then
// sent whole).
func (m *mapper) commit(sent seriesState, max int) {
	for k, p := range m.next {
		sent.points[k] = p
	}
	for _, t := range m.runs {
		sent.done[t] = true
	}
	if len(sent.points) > max {
		for k, p := range sent.points {
			if sent.done[p.trace] {
				delete(sent.points, k)
			}
		}
		clear(sent.done)
	}
	if len(sent.points) > max {
		clear(sent.points)
	}
	if len(sent.done) > max {
		clear(sent.done)
	}
}

// prime records the counter and histogram points of b, and its run spans,
// as if a request of them had been accepted: the next point of each
// series is sent as its increase over them.
func (m *mapper) prime(b *telemetry.Batch, sent seriesState, max int) {
	for i := range b.Spans {
		if sp := &b.Spans[i]; !sp.InSDKUpload && sp.IsRun() {
			m.runs = append(m.runs, sp.TraceID)
		}
	}
	m.metrics(b.Metrics)
	m.commit(sent, max)
}
