package httpintake

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// cumulator turns delta points (OTLP delta sums and histograms, the
// Graphsignal SDK's per-upload counters and histograms) into the cumulative
// values that telemetry.Metric carries. It keeps at most max series; a point
// of a further series is refused. Safe for concurrent use.
type cumulator struct {
	mu     sync.Mutex
	max    int
	series map[string]*cumState
}

// maxBins bounds the distinct bins kept for one Graphsignal SDK histogram
// (its bins have two significant digits: about 90 per decade).
const maxBins = 4096

type cumState struct {
	value  float64
	bounds []float64
	counts []uint64
	count  uint64
	sum    float64
	bins   map[float64]uint64
}

func newCumulator(max int) *cumulator {
	return &cumulator{max: max, series: make(map[string]*cumState)}
}

func seriesKey(kind, name string, tags telemetry.Tags) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(kind)
	b.WriteByte(0)
	b.WriteString(name)
	for _, k := range keys {
		b.WriteByte(0)
		b.WriteString(k)
		b.WriteByte(1)
		b.WriteString(tags[k])
	}
	return b.String()
}

// state returns the series' state, creating it; nil when full.
func (c *cumulator) state(key string) *cumState {
	st, ok := c.series[key]
	if !ok {
		if len(c.series) >= c.max {
			return nil
		}
		st = &cumState{}
		c.series[key] = st
	}
	return st
}

// addCounter adds delta to the series and returns its running total.
func (c *cumulator) addCounter(name string, tags telemetry.Tags, delta float64) (float64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state(seriesKey("c", name, tags))
	if st == nil {
		return 0, false
	}
	st.value += delta
	return st.value, true
}

// addHistogram adds the delta histogram m to its series and rewrites m to the
// running totals. A change of bucket bounds restarts the series.
func (c *cumulator) addHistogram(m *telemetry.Metric) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state(seriesKey("h", m.Name, m.Tags))
	if st == nil {
		return false
	}
	if !slices.Equal(st.bounds, m.Buckets) || len(st.counts) != len(m.Counts) {
		st.bounds = slices.Clone(m.Buckets)
		st.counts = make([]uint64, len(m.Counts))
		st.count, st.sum = 0, 0
	}
	for i, n := range m.Counts {
		st.counts[i] += n
	}
	st.count += m.Count
	st.sum += m.Sum
	m.Buckets = slices.Clone(st.bounds)
	m.Counts = slices.Clone(st.counts)
	m.Count, m.Sum = st.count, st.sum
	return true
}

// addBins adds a Graphsignal SDK histogram (bin lower edges with counts) to
// its series and rewrites m to the running totals: bucket i holds the values
// in [bins[i], bins[i+1]), so Buckets are bins[1:] used as upper bounds, and
// Sum is estimated from the lower edges.
func (c *cumulator) addBins(m *telemetry.Metric, bins []float64, counts []int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state(seriesKey("b", m.Name, m.Tags))
	if st == nil {
		return false
	}
	if st.bins == nil {
		st.bins = make(map[float64]uint64, len(bins))
	}
	for i, b := range bins {
		if i >= len(counts) || counts[i] <= 0 || math.IsNaN(b) || math.IsInf(b, 0) {
			continue
		}
		if _, ok := st.bins[b]; !ok && len(st.bins) >= maxBins {
			return false
		}
		st.bins[b] += uint64(counts[i])
	}
	edges := make([]float64, 0, len(st.bins))
	for b := range st.bins {
		edges = append(edges, b)
	}
	slices.Sort(edges)
	m.Buckets, m.Counts, m.Count, m.Sum = nil, make([]uint64, 0, len(edges)+1), 0, 0
	if len(edges) == 0 {
		m.Counts = append(m.Counts, 0)
		return true
	}
	m.Buckets = slices.Clone(edges[1:])
	for _, b := range edges {
		n := st.bins[b]
		m.Counts = append(m.Counts, n)
		m.Count += n
		m.Sum += b * float64(n)
	}
	return true
}
