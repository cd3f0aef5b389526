package httpintake

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestCumulatorCounters(t *testing.T) {
	c := newCumulator(2)
	steps := []struct {
		name  string
		tags  telemetry.Tags
		delta float64
		want  float64
		ok    bool
	}{
		{"a", telemetry.Tags{"k": "1"}, 2, 2, true},
		{"a", telemetry.Tags{"k": "1"}, 3, 5, true},
		{"a", telemetry.Tags{"k": "2"}, 1, 1, true}, // another series
		{"b", nil, 1, 0, false},                     // over the bound
		{"a", telemetry.Tags{"k": "2"}, 1, 2, true}, // known series still counted
	}
	for i, st := range steps {
		got, ok := c.addCounter(st.name, st.tags, st.delta)
		if got != st.want || ok != st.ok {
			t.Errorf("step %d: addCounter(%q, %v, %v) = %v, %v; want %v, %v", i, st.name, st.tags, st.delta, got, ok, st.want, st.ok)
		}
	}
}

func TestCumulatorBins(t *testing.T) {
	c := newCumulator(10)
	m := telemetry.Metric{Name: "h"}
	if !c.addBins(&m, []float64{20, 10, math.NaN(), math.Inf(1), 30}, []int64{1, 2, 5, 5, -1}) {
		t.Fatal("addBins refused")
	}
	m2 := telemetry.Metric{Name: "h"}
	c.addBins(&m2, []float64{10}, []int64{1})
	want := telemetry.Metric{Name: "h", Buckets: []float64{20}, Counts: []uint64{3, 1}, Count: 4, Sum: 50}
	if diff := cmp.Diff(want, m2); diff != "" {
		t.Errorf("accumulated bins (-want +got):\n%s", diff)
	}
	h := telemetry.Metric{Name: "o", Buckets: []float64{1}, Counts: []uint64{1, 1}, Count: 2, Sum: 3}
	c.addHistogram(&h)
	h2 := telemetry.Metric{Name: "o", Buckets: []float64{1}, Counts: []uint64{0, 2}, Count: 2, Sum: 4}
	c.addHistogram(&h2)
	if want := (telemetry.Metric{Name: "o", Buckets: []float64{1}, Counts: []uint64{1, 3}, Count: 4, Sum: 7}); !cmp.Equal(want, h2) {
		t.Errorf("addHistogram = %+v, want %+v", h2, want)
	}
	h3 := telemetry.Metric{Name: "o", Buckets: []float64{5}, Counts: []uint64{1, 0}, Count: 1, Sum: 1}
	c.addHistogram(&h3)
	if h3.Count != 1 || h3.Counts[0] != 1 {
		t.Errorf("new bounds did not restart the series: %+v", h3)
	}
}
