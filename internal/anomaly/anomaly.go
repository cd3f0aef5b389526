// Package anomaly holds the one set of rules that decide what in a run
// stands out (docs/json.md, "anomalies"): spans slow against their name's
// latency, bursts of errors, memory near the run's cgroup limit, GPU
// memory near its limit, a lost GPU, XID events, and a run's duration,
// error rate and cost against its deployment's earlier runs.
//
// Its inputs are plain data, so that `graphsignal show` (over the store)
// and `graphsignal run` (over what it kept in memory during the run) judge
// alike. It does no I/O and keeps no state; the words that say an anomaly
// to people are report.AnomalyReason's.
package anomaly

import (
	"math"
	"slices"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Kinds of anomaly, the "kind" of docs/json.md's anomalies.
const (
	SlowSpan     = "slow_span"
	ErrorBurst   = "error_burst"
	GPUMemory    = "gpu_memory"
	GPULost      = "gpu_lost"
	GPUXID       = "gpu_xid"
	RunDuration  = "run_duration"
	RunErrorRate = "run_error_rate"
	RunCost      = "run_cost"
	Memory       = "memory"
)

// The thresholds of the rules (docs/json.md, "anomalies").
const (
	// slowSpanFactor: a span slower than this many times its name's
	// median is slow, for names with at least slowSpanMinCount spans.
	slowSpanFactor   = 3
	slowSpanMinCount = 5
	// MaxSlowSpans is how many slow spans are reported, the slowest
	// against their median first.
	MaxSlowSpans = 5
	// ErrorBurstCount errors within errorBurstWindow make a burst.
	ErrorBurstCount  = 5
	errorBurstWindow = 10 * time.Second
	// gpuMemoryNearPercent of a device's memory is near its limit.
	gpuMemoryNearPercent = 95
	// memoryNearPercent of the run's cgroup memory limit is near it.
	memoryNearPercent = 90
	// runMinHistory: the run rules compare a run with its deployment's
	// earlier runs only where at least this many of them have the value.
	runMinHistory = 5
	// runDurationFactor: a run that took more than this many times the
	// median of its deployment's earlier runs, or less than the median
	// over it, is an outlier.
	runDurationFactor = 3
	// errorRateFactor: a run whose error rate is at least this many times
	// the earlier runs' median rate is an outlier, given errorRateMinErrors
	// errors; where that median is 0, a rate of errorRateFloor or more is.
	errorRateFactor    = 3
	errorRateMinErrors = 5
	errorRateFloor     = 0.2
	// runCostFactor: a run that cost at least this many times the median
	// of the earlier runs' costs is an outlier.
	runCostFactor = 3
)

// Anomaly is one finding. Value and Baseline are the numbers compared, by
// Kind: seconds (SlowSpan, RunDuration: the duration and the median),
// fractions (RunErrorRate: the run's error rate and the median rate), USD
// (RunCost: the cost and the median), bytes (GPUMemory: the peak and the
// device's total; Memory: the peak and the limit), counts (ErrorBurst:
// the errors and ErrorBurstCount; GPUXID: the events, no baseline); nil
// where the kind has none. The other fields are what the reason says.
type Anomaly struct {
	Kind string
	// Subject is the span's name (SlowSpan) or the run's (the other kinds
	// but ErrorBurst), as recorded.
	Subject string
	// Device is the GPU (GPUMemory), as gpu.Device.Short says it.
	Device string
	// Message is the run's error message (GPULost), as recorded.
	Message string
	RunID   string
	TraceID telemetry.TraceID
	SpanID  telemetry.SpanID
	Value   *float64
	// Baseline: see the type's doc.
	Baseline *float64
	// Took is the span's or the run's duration, Typical its name's or its
	// deployment's median (SlowSpan, RunDuration).
	Took, Typical time.Duration
	// P99 is the name's p99 that a slow span exceeded; 0 when it did not.
	P99 time.Duration
	// Runs counts the earlier runs compared with (RunDuration,
	// RunErrorRate, RunCost).
	Runs int
	// ErrorSpans of Spans ended in error (RunErrorRate).
	ErrorSpans, Spans int64
	// First and Last are the burst's first and last errors (ErrorBurst).
	First, Last time.Time
}

// Ratio is Took over Typical; 0 when Typical is not positive.
func (a *Anomaly) Ratio() float64 {
	if a.Typical <= 0 {
		return 0
	}
	return float64(a.Took) / float64(a.Typical)
}

func float(v float64) *float64 { return &v }

// Percentile returns the p-th percentile (0-100) of sorted by the nearest
// rank method, as store.Percentile; 0 for none.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := min(max(int(math.Ceil(p*float64(n)/100)), 1), n)
	return sorted[rank-1]
}

// Run is one run as the run rules see it.
type Run struct {
	Name    string
	RunID   string
	TraceID telemetry.TraceID
	SpanID  telemetry.SpanID
	// Duration is a finished run's; 0 while it is in progress.
	Duration time.Duration
	// Cost is a finished run's token cost in USD; nil when it has none.
	Cost *float64
	// Spans counts a finished run's spans from the program, ErrorSpans
	// those that ended in error; Spans is 0 when unknown.
	Spans, ErrorSpans int64
	// Earlier are the same deployment's earlier finished runs, in any
	// order; none when unknown.
	Earlier []Past
	// PeakRSS is the process tree's peak resident memory and MemoryLimit
	// the run's cgroup memory limit, in bytes; 0 when unknown or none.
	PeakRSS, MemoryLimit uint64
	// GPULost says the run lost a GPU (telemetry.ErrorKindGPU);
	// ErrorMessage is the run's error message.
	GPULost      bool
	ErrorMessage string
	// XIDs counts the GPU XID events seen during the run.
	XIDs int64
	// GPUs are the devices the run sampled.
	GPUs []GPU
}

// Past is an earlier finished run, as the run rules compare with it.
type Past struct {
	Duration time.Duration
	// Cost is its token cost in USD; nil when it recorded none.
	Cost *float64
	// Spans and ErrorSpans count its program's spans and those that ended
	// in error; Spans is 0 when it recorded none.
	Spans, ErrorSpans int64
}

// GPU is a device's memory over a run.
type GPU struct {
	// Name is the device as gpu.Device.Short says it ("GPU 0").
	Name                    string
	MemoryPeak, MemoryTotal uint64
}

// ForRun returns the anomalies of r itself: its duration, error rate and
// cost against its deployment's history, then a lost GPU, XID events, each
// device whose memory peaked at gpuMemoryNearPercent of its total or more,
// and the process tree's memory at memoryNearPercent of the run's limit
// or more.
func ForRun(r *Run) []Anomaly {
	var out []Anomaly
	for _, rule := range []func(*Run) (Anomaly, bool){runDuration, runErrorRate, runCost} {
		if a, ok := rule(r); ok {
			out = append(out, a)
		}
	}
	at := r.anomaly()
	if r.GPULost {
		a := at
		a.Kind, a.Message = GPULost, r.ErrorMessage
		out = append(out, a)
	}
	if r.XIDs > 0 {
		a := at
		a.Kind, a.Value = GPUXID, float(float64(r.XIDs))
		out = append(out, a)
	}
	for _, g := range r.GPUs {
		if g.MemoryTotal == 0 || g.MemoryPeak*100 < g.MemoryTotal*gpuMemoryNearPercent {
			continue
		}
		a := at
		a.Kind, a.Device = GPUMemory, g.Name
		a.Value, a.Baseline = float(float64(g.MemoryPeak)), float(float64(g.MemoryTotal))
		out = append(out, a)
	}
	if r.MemoryLimit > 0 && float64(r.PeakRSS) >= float64(r.MemoryLimit)*memoryNearPercent/100 {
		a := at
		a.Kind, a.Value, a.Baseline = Memory, float(float64(r.PeakRSS)), float(float64(r.MemoryLimit))
		out = append(out, a)
	}
	return out
}

// anomaly is an Anomaly about r, of no kind yet.
func (r *Run) anomaly() Anomaly {
	return Anomaly{Subject: r.Name, RunID: r.RunID, TraceID: r.TraceID, SpanID: r.SpanID}
}

// runDuration flags a finished run that took over runDurationFactor times,
// or under 1/runDurationFactor of, the median of the earlier runs, given
// at least runMinHistory of them.
func runDuration(r *Run) (Anomaly, bool) {
	if r.Duration <= 0 || len(r.Earlier) < runMinHistory {
		return Anomaly{}, false
	}
	sorted := make([]time.Duration, len(r.Earlier))
	for i, p := range r.Earlier {
		sorted[i] = p.Duration
	}
	slices.Sort(sorted)
	median := Percentile(sorted, 50)
	if median <= 0 {
		return Anomaly{}, false
	}
	if ratio := float64(r.Duration) / float64(median); ratio <= runDurationFactor && ratio >= 1.0/runDurationFactor {
		return Anomaly{}, false
	}
	a := r.anomaly()
	a.Kind, a.Value, a.Baseline = RunDuration, float(r.Duration.Seconds()), float(median.Seconds())
	a.Took, a.Typical, a.Runs = r.Duration, median, len(r.Earlier)
	return a, true
}

// runErrorRate flags a run with at least errorRateMinErrors error spans
// whose error rate (ErrorSpans over Spans) is at least errorRateFactor
// times the median rate of the earlier runs that recorded one, or, where
// that median is 0, at least errorRateFloor; given runMinHistory such
// runs.
func runErrorRate(r *Run) (Anomaly, bool) {
	if r.Spans <= 0 || r.ErrorSpans < errorRateMinErrors {
		return Anomaly{}, false
	}
	var rates []float64
	for _, p := range r.Earlier {
		if p.Spans > 0 {
			rates = append(rates, float64(p.ErrorSpans)/float64(p.Spans))
		}
	}
	if len(rates) < runMinHistory {
		return Anomaly{}, false
	}
	rate, median := float64(r.ErrorSpans)/float64(r.Spans), medianOf(rates)
	threshold := errorRateFactor * median
	if median <= 0 {
		threshold = errorRateFloor
	}
	if rate < threshold {
		return Anomaly{}, false
	}
	a := r.anomaly()
	a.Kind, a.Value, a.Baseline, a.Runs = RunErrorRate, float(rate), float(median), len(rates)
	a.ErrorSpans, a.Spans = r.ErrorSpans, r.Spans
	return a, true
}

// runCost flags a run that cost at least runCostFactor times the median
// cost of the earlier runs that recorded one, given runMinHistory of them
// and a median above 0.
func runCost(r *Run) (Anomaly, bool) {
	if r.Cost == nil {
		return Anomaly{}, false
	}
	var costs []float64
	for _, p := range r.Earlier {
		if p.Cost != nil {
			costs = append(costs, *p.Cost)
		}
	}
	if len(costs) < runMinHistory {
		return Anomaly{}, false
	}
	median := medianOf(costs)
	if !(median > 0 && *r.Cost >= runCostFactor*median) { // NaN is no outlier
		return Anomaly{}, false
	}
	a := r.anomaly()
	a.Kind, a.Value, a.Baseline, a.Runs = RunCost, float(*r.Cost), float(median), len(costs)
	return a, true
}

// medianOf returns the median of vs (not empty) by the nearest rank
// method, as Percentile; it sorts vs.
func medianOf(vs []float64) float64 {
	slices.Sort(vs)
	return vs[(len(vs)+1)/2-1]
}

// Latency is a span name's latency in a run: how many spans of it ended,
// and their median and p99 (estimates where only a sample was kept).
type Latency struct {
	Count    int
	P50, P99 time.Duration
}

// Span is a finished span to judge against its name's Latency in its run.
type Span struct {
	Name     string
	Duration time.Duration
	RunID    string
	TraceID  telemetry.TraceID
	SpanID   telemetry.SpanID
	Latency  Latency
}

// SlowSpans flags the spans slower than slowSpanFactor times their name's
// median (names with at least slowSpanMinCount spans), or slower than
// their name's p99; it returns the MaxSlowSpans slowest against their
// median, in that order (ties in the order given). Since the order within
// a name is the order of durations, the MaxSlowSpans slowest spans of
// each name are all the candidates it needs.
func SlowSpans(spans []Span) []Anomaly {
	var found []Anomaly
	for _, sp := range spans {
		st := sp.Latency
		if st.P50 <= 0 {
			continue
		}
		ratio := float64(sp.Duration) / float64(st.P50)
		overMedian := st.Count >= slowSpanMinCount && ratio > slowSpanFactor
		overP99 := st.P99 > 0 && sp.Duration > st.P99
		if !overMedian && !overP99 {
			continue
		}
		a := Anomaly{Kind: SlowSpan, Subject: sp.Name, RunID: sp.RunID, TraceID: sp.TraceID, SpanID: sp.SpanID,
			Value: float(sp.Duration.Seconds()), Baseline: float(st.P50.Seconds()), Took: sp.Duration, Typical: st.P50}
		if overP99 {
			a.P99 = st.P99
		}
		found = append(found, a)
	}
	slices.SortStableFunc(found, func(a, b Anomaly) int {
		ra, rb := a.Ratio(), b.Ratio()
		switch {
		case ra > rb:
			return -1
		case ra < rb:
			return 1
		}
		return 0
	})
	return found[:min(len(found), MaxSlowSpans)]
}

// ErrorBursts flags each run of at least ErrorBurstCount errors within
// errorBurstWindow of the first, in times (the errors' times, in order);
// bursts do not overlap.
func ErrorBursts(times []time.Time) []Anomaly {
	var out []Anomaly
	for i := 0; i < len(times); {
		j := i + 1
		for j < len(times) && times[j].Sub(times[i]) < errorBurstWindow {
			j++
		}
		if n := j - i; n >= ErrorBurstCount {
			out = append(out, Anomaly{Kind: ErrorBurst, Value: float(float64(n)), Baseline: float(ErrorBurstCount),
				First: times[i], Last: times[j-1]})
			i = j
			continue
		}
		i++
	}
	return out
}
