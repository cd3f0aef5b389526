package anomaly

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// brief says an anomaly in a few words that show the rule's numbers.
func brief(a Anomaly) string {
	s := a.Kind + " " + a.Subject + a.Device
	if a.Value != nil {
		s += fmt.Sprintf(" value=%g", *a.Value)
	}
	if a.Baseline != nil {
		s += fmt.Sprintf(" baseline=%g", *a.Baseline)
	}
	if a.P99 > 0 {
		s += " over p99 " + a.P99.String()
	}
	if a.Runs > 0 {
		s += fmt.Sprintf(" of %d runs", a.Runs)
	}
	if a.Spans > 0 {
		s += fmt.Sprintf(" %d/%d", a.ErrorSpans, a.Spans)
	}
	if !a.First.IsZero() {
		s += " " + a.Last.Sub(a.First).String()
	}
	return s
}

func briefs(as []Anomaly) []string {
	var out []string
	for _, a := range as {
		out = append(out, brief(a))
	}
	return out
}

// spans are n spans of name, the first lasting slow and the others 1s,
// with the name's latency as the store and the run compute it.
func spans(name string, n int, slow time.Duration) []Span {
	durs := make([]time.Duration, n)
	for i := range durs {
		durs[i] = time.Second
	}
	durs[0] = slow
	sorted := append([]time.Duration(nil), durs...)
	for i := range sorted { // insertion sort: the test does not rely on the code under test
		for j := i; j > 0 && sorted[j] < sorted[j-1]; j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	lat := Latency{Count: n, P50: Percentile(sorted, 50), P99: Percentile(sorted, 99)}
	out := make([]Span, n)
	for i, d := range durs {
		out[i] = Span{Name: name, Duration: d, Latency: lat}
	}
	return out
}

func TestSlowSpans(t *testing.T) {
	var worst []Span
	for i, name := range []string{"a", "b", "c", "d", "e", "f"} {
		worst = append(worst, spans(name, 5, time.Duration([]int{4, 9, 5, 8, 6, 7}[i])*time.Second)...)
	}
	tests := []struct {
		name  string
		spans []Span
		want  []string
	}{
		{"over 3x its median", spans("llm", 5, 3500*time.Millisecond), []string{"slow_span llm value=3.5 baseline=1"}},
		{"at 3x its median is not", spans("llm", 5, 3*time.Second), nil},
		{"needs 5 spans of its name", spans("llm", 4, 10*time.Second), nil},
		{"over its p99", spans("llm", 101, 2*time.Second), []string{"slow_span llm value=2 baseline=1 over p99 1s"}},
		{"no median", []Span{{Name: "x", Duration: time.Second, Latency: Latency{Count: 9}}}, nil},
		{"the worst 5", worst, []string{"slow_span b value=9 baseline=1", "slow_span d value=8 baseline=1",
			"slow_span f value=7 baseline=1", "slow_span e value=6 baseline=1", "slow_span c value=5 baseline=1"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, briefs(SlowSpans(tt.spans))); diff != "" {
			t.Errorf("%s: SlowSpans (-want +got):\n%s", tt.name, diff)
		}
	}
}

func every(n int, step time.Duration) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = t0.Add(time.Duration(i) * step)
	}
	return out
}

func TestErrorBursts(t *testing.T) {
	tests := []struct {
		name  string
		times []time.Time
		want  []string
	}{
		{"5 within 10s", every(5, 2*time.Second), []string{"error_burst  value=5 baseline=5 8s"}},
		{"5 over 10s is not", every(5, 2500*time.Millisecond), nil},
		{"4 are not", every(4, time.Millisecond), nil},
		{"bursts do not overlap", every(12, time.Second), []string{"error_burst  value=10 baseline=5 9s"}},
		{"two bursts", append(every(5, time.Second), every(5, time.Second)[0].Add(time.Minute),
			t0.Add(61*time.Second), t0.Add(62*time.Second), t0.Add(63*time.Second), t0.Add(64*time.Second)),
			[]string{"error_burst  value=5 baseline=5 4s", "error_burst  value=5 baseline=5 4s"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, briefs(ErrorBursts(tt.times))); diff != "" {
			t.Errorf("%s: ErrorBursts (-want +got):\n%s", tt.name, diff)
		}
	}
}

func seconds(ss ...int) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = time.Duration(s) * time.Second
	}
	return out
}

// durations are past runs lasting ds.
func durations(ds []time.Duration) []Past {
	out := make([]Past, len(ds))
	for i, d := range ds {
		out[i] = Past{Duration: d}
	}
	return out
}

func TestForRun(t *testing.T) {
	const gib = 1 << 30
	history := durations(seconds(9, 10, 11, 10, 12))
	tests := []struct {
		name string
		run  Run
		want []string
	}{
		{"over 3x the median", Run{Name: "train", Duration: 31 * time.Second, Earlier: history},
			[]string{"run_duration train value=31 baseline=10 of 5 runs"}},
		{"under a third of the median", Run{Name: "train", Duration: 3 * time.Second, Earlier: history},
			[]string{"run_duration train value=3 baseline=10 of 5 runs"}},
		{"within 3x is not", Run{Name: "train", Duration: 29 * time.Second, Earlier: history}, nil},
		{"over a third is not", Run{Name: "train", Duration: 3400 * time.Millisecond, Earlier: history}, nil},
		{"needs 5 earlier runs", Run{Name: "train", Duration: time.Hour, Earlier: history[:4]}, nil},
		{"in progress", Run{Name: "train", Earlier: history}, nil},
		{"GPU memory at 95%", Run{Name: "train", GPUs: []GPU{{Name: "GPU 0", MemoryPeak: 76 * gib, MemoryTotal: 80 * gib}}},
			[]string{fmt.Sprintf("gpu_memory trainGPU 0 value=%g baseline=%g", float64(76*gib), float64(80*gib))}},
		{"GPU memory under 95% is not", Run{GPUs: []GPU{{MemoryPeak: 75 * gib, MemoryTotal: 80 * gib}}}, nil},
		{"GPU memory with no total is not", Run{GPUs: []GPU{{MemoryPeak: 75 * gib}}}, nil},
		{"GPU lost and XIDs", Run{Name: "train", GPULost: true, ErrorMessage: "fell off the bus", XIDs: 2},
			[]string{"gpu_lost train", "gpu_xid train value=2"}},
		{"memory at 90% of the limit", Run{Name: "train", PeakRSS: 9 * gib, MemoryLimit: 10 * gib},
			[]string{fmt.Sprintf("memory train value=%g baseline=%g", float64(9*gib), float64(10*gib))}},
		{"memory under 90% is not", Run{Name: "train", PeakRSS: 9*gib - 1, MemoryLimit: 10 * gib}, nil},
		{"memory without a limit is not", Run{Name: "train", PeakRSS: 9 * gib}, nil},
		{"the run's kinds in order", Run{Name: "train", Duration: time.Hour, Earlier: history, GPULost: true,
			PeakRSS: gib, MemoryLimit: gib, GPUs: []GPU{{Name: "GPU 0", MemoryPeak: gib, MemoryTotal: gib}}},
			[]string{"run_duration train value=3600 baseline=10 of 5 runs", "gpu_lost train",
				fmt.Sprintf("gpu_memory trainGPU 0 value=%g baseline=%g", float64(gib), float64(gib)),
				fmt.Sprintf("memory train value=%g baseline=%g", float64(gib), float64(gib))}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, briefs(ForRun(&tt.run))); diff != "" {
			t.Errorf("%s: ForRun (-want +got):\n%s", tt.name, diff)
		}
	}
}

// rates are past runs of 100 spans with errs errors each.
func rates(errs ...int64) []Past {
	out := make([]Past, len(errs))
	for i, e := range errs {
		out[i] = Past{Duration: time.Second, Spans: 100, ErrorSpans: e}
	}
	return out
}

func TestRunErrorRate(t *testing.T) {
	run := func(errs, spans int64, earlier []Past) Run {
		return Run{Name: "eval", Duration: time.Second, Spans: spans, ErrorSpans: errs, Earlier: earlier}
	}
	noRate := append(rates(2, 2, 2, 2), Past{Duration: time.Second}, Past{Duration: time.Second})
	tests := []struct {
		name string
		run  Run
		want []string
	}{
		{"3x the median", run(6, 100, rates(1, 2, 2, 3, 9)),
			[]string{"run_error_rate eval value=0.06 baseline=0.02 of 5 runs 6/100"}},
		{"under 3x is not", run(5, 100, rates(1, 2, 2, 3, 9)), nil},
		{"needs 5 errors", run(4, 20, rates(1, 2, 2, 3, 9)), nil},
		{"median 0: a rate of 0.2", run(5, 25, rates(0, 0, 0, 1, 1)),
			[]string{"run_error_rate eval value=0.2 baseline=0 of 5 runs 5/25"}},
		{"median 0: under 0.2 is not", run(5, 26, rates(0, 0, 0, 1, 1)), nil},
		{"needs 5 earlier runs with a rate", run(50, 100, noRate), nil},
		{"runs with a rate count", run(50, 100, append(noRate, rates(2)...)),
			[]string{"run_error_rate eval value=0.5 baseline=0.02 of 5 runs 50/100"}},
		{"no spans recorded", run(0, 0, rates(0, 0, 0, 0, 0)), nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, briefs(ForRun(&tt.run))); diff != "" {
			t.Errorf("%s: ForRun (-want +got):\n%s", tt.name, diff)
		}
	}
}

// costs are past runs that cost cs, nil where they recorded none.
func costs(cs ...*float64) []Past {
	out := make([]Past, len(cs))
	for i, c := range cs {
		out[i] = Past{Duration: time.Second, Cost: c}
	}
	return out
}

func ptr(f float64) *float64 { return &f }

func TestRunCost(t *testing.T) {
	history := costs(ptr(0.9), ptr(1), ptr(1), ptr(1.1), ptr(5))
	run := func(cost *float64, earlier []Past) Run {
		return Run{Name: "eval", Duration: time.Second, Cost: cost, Earlier: earlier}
	}
	tests := []struct {
		name string
		run  Run
		want []string
	}{
		{"3x the median", run(ptr(3), history), []string{"run_cost eval value=3 baseline=1 of 5 runs"}},
		{"under 3x is not", run(ptr(2.99), history), nil},
		{"far under the median is not", run(ptr(0.01), history), nil},
		{"no cost", run(nil, history), nil},
		{"needs 5 earlier runs with a cost", run(ptr(100), costs(ptr(1), ptr(1), ptr(1), ptr(1), nil, nil)), nil},
		{"runs with a cost count", run(ptr(3), costs(nil, ptr(1), ptr(1), ptr(1), ptr(1), ptr(1))),
			[]string{"run_cost eval value=3 baseline=1 of 5 runs"}},
		{"a median of 0 is no baseline", run(ptr(1), costs(ptr(0), ptr(0), ptr(0), ptr(0), ptr(0))), nil},
		{"NaN is not", run(ptr(math.NaN()), history), nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, briefs(ForRun(&tt.run))); diff != "" {
			t.Errorf("%s: ForRun (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestPercentile(t *testing.T) {
	s := seconds(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	tests := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0}, {s[:1], 99, time.Second}, {s, 50, 5 * time.Second}, {s, 99, 10 * time.Second},
		{s, 0, time.Second}, {s[:5], 50, 3 * time.Second},
	}
	for _, tt := range tests {
		if got := Percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
		}
	}
}
