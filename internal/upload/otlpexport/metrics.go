package otlpexport

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// metricKey identifies one OTLP metric within a resource.
type metricKey struct {
	name, unit string
	kind       telemetry.MetricKind
}

// metrics maps metric points: gauges to gauges, counters (cumulative since
// the run's start) to monotonic cumulative sums, histograms to explicit
// bucket cumulative histograms. A point's tags are its attributes, except
// session_id and run_id (on the resource) and service.name (the resource
// of the program that reported it).
func (c *converter) metrics(points []telemetry.Metric) (pmetric.Metrics, int) {
	md := pmetric.NewMetrics()
	res := make(map[mapKey]pmetric.MetricSlice)
	byName := make(map[mapKey]map[metricKey]pmetric.Metric)
	n := 0
	for i := range points {
		p := &points[i]
		if p.Kind != telemetry.Gauge && p.Kind != telemetry.Counter && p.Kind != telemetry.Histogram {
			continue
		}
		key := c.keyFor(p.TraceID, p.Tags, ownService(p.Tags))
		mk := key.mapKey()
		ms, ok := res[mk]
		if !ok {
			rm := md.ResourceMetrics().AppendEmpty()
			c.fillResource(rm.Resource(), key)
			sm := rm.ScopeMetrics().AppendEmpty()
			sm.Scope().SetName(scopeName)
			ms = sm.Metrics()
			res[mk] = ms
			byName[mk] = make(map[metricKey]pmetric.Metric)
		}
		k := metricKey{p.Name, p.Unit, p.Kind}
		m, ok := byName[mk][k]
		if !ok {
			m = ms.AppendEmpty()
			m.SetName(p.Name)
			m.SetUnit(p.Unit)
			switch p.Kind {
			case telemetry.Gauge:
				m.SetEmptyGauge()
			case telemetry.Counter:
				s := m.SetEmptySum()
				s.SetIsMonotonic(true)
				s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			case telemetry.Histogram:
				m.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			}
			byName[mk][k] = m
		}
		run, _ := c.runs.Run(key.run)
		start := timestamp(run.Start)
		switch p.Kind {
		case telemetry.Gauge:
			dp := m.Gauge().DataPoints().AppendEmpty()
			dp.SetTimestamp(timestamp(p.Time))
			dp.SetDoubleValue(p.Value)
			putPointTags(dp.Attributes(), p.Tags)
		case telemetry.Counter:
			dp := m.Sum().DataPoints().AppendEmpty()
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(timestamp(p.Time))
			dp.SetDoubleValue(p.Value)
			putPointTags(dp.Attributes(), p.Tags)
		case telemetry.Histogram:
			dp := m.Histogram().DataPoints().AppendEmpty()
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(timestamp(p.Time))
			dp.SetCount(p.Count)
			dp.SetSum(p.Sum)
			if len(p.Counts) == len(p.Buckets)+1 {
				dp.ExplicitBounds().FromRaw(p.Buckets)
				dp.BucketCounts().FromRaw(p.Counts)
			}
			putPointTags(dp.Attributes(), p.Tags)
		}
		n++
	}
	return md, n
}

// ownService returns the service.name tag the intake copies from a
// program's OTLP resource, as a resource attribute.
func ownService(tags telemetry.Tags) []kv {
	if v, ok := tags[tagServiceName]; ok {
		return []kv{{tagServiceName, v}}
	}
	return nil
}

// putPointTags writes a metric point's tags as attributes under their own
// names (they are the series' dimensions).
func putPointTags(m pcommon.Map, tags telemetry.Tags) {
	m.EnsureCapacity(len(tags))
	for _, k := range sortedKeys(tags) {
		if isResourceTag(k) || k == tagServiceName {
			continue
		}
		m.PutStr(k, tags[k])
	}
}
