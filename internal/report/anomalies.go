package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Anomaly kinds, the "kind" of docs/json.md's anomalies.
const (
	anomalySlowSpan    = "slow_span"
	anomalyErrorBurst  = "error_burst"
	anomalyGPUMemory   = "gpu_memory"
	anomalyGPULost     = "gpu_lost"
	anomalyGPUXID      = "gpu_xid"
	anomalyRunDuration = "run_duration"
)

// The thresholds of the anomaly rules (docs/json.md, "anomalies").
const (
	// slowSpanFactor: a span slower than this many times its name's
	// median is slow, for names with at least slowSpanMinCount spans.
	slowSpanFactor   = 3
	slowSpanMinCount = 5
	// maxSlowSpans is how many slow spans are listed, the slowest
	// against their median first.
	maxSlowSpans = 5
	// errorBurstCount errors within errorBurstWindow make a burst.
	errorBurstCount  = 5
	errorBurstWindow = 10 * time.Second
	// gpuMemoryNearPercent of a device's memory is near its limit.
	gpuMemoryNearPercent = 95
	// runDurationFactor: a run that took more than this many times the
	// median of its deployment's earlier runs, or less than the median
	// over it, is an outlier, given runDurationMinHistory of them.
	runDurationFactor     = 3
	runDurationMinHistory = 5
)

// attrGPUXIDCount is the run span attribute counting the XID events seen
// during the run (docs/gpu.md).
const attrGPUXIDCount = "gpu.xid.count"

// anomaly is one finding of detectAnomalies: Reason says what was seen
// against what baseline, for people; Value and Baseline are those numbers
// (seconds, bytes or counts, by Kind; nil when the kind has none).
type anomaly struct {
	Kind     string
	Reason   string
	RunID    string
	TraceID  telemetry.TraceID
	SpanID   telemetry.SpanID
	Value    *float64
	Baseline *float64
}

// runHistory holds, per run span id, the durations of the same
// deployment's earlier finished runs (store.Store.DeploymentDurations).
type runHistory map[telemetry.SpanID][]time.Duration

// detectAnomalies returns what stands out in d: per run (in d's order) a
// duration outlier against history, a lost GPU, XID events and GPU memory
// near its limit; then the slowest spans against their name's latency;
// then bursts of errors. It reads d only.
func detectAnomalies(d *store.SessionDetail, history runHistory) []anomaly {
	var out []anomaly
	for i := range d.Runs {
		r := &d.Runs[i]
		out = append(out, runDurationAnomalies(r, history[r.SpanID])...)
		out = append(out, gpuAnomalies(r)...)
	}
	out = append(out, slowSpanAnomalies(d.Runs)...)
	return append(out, errorBurstAnomalies(d.Errors)...)
}

func float(v float64) *float64 { return &v }

// runDurationAnomalies flags a finished run that took over
// runDurationFactor times, or under 1/runDurationFactor of, the median of
// earlier, given at least runDurationMinHistory of them.
func runDurationAnomalies(r *store.Run, earlier []time.Duration) []anomaly {
	if r.InProgress() || r.Duration <= 0 || len(earlier) < runDurationMinHistory {
		return nil
	}
	sorted := append([]time.Duration(nil), earlier...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	median := store.Percentile(sorted, 50)
	if median <= 0 {
		return nil
	}
	var how string
	switch ratio := float64(r.Duration) / float64(median); {
	case ratio > runDurationFactor:
		how = fmt.Sprintf("%.1f× the median %s", ratio, Duration(median))
	case ratio < 1.0/runDurationFactor:
		how = fmt.Sprintf("1/%.1f of the median %s", 1/ratio, Duration(median))
	default:
		return nil
	}
	return []anomaly{{
		Kind:    anomalyRunDuration,
		Reason:  fmt.Sprintf("run %s took %s (%s of the deployment's last %d runs)", clean(r.Name), Duration(r.Duration), how, len(earlier)),
		RunID:   r.RunID,
		TraceID: r.TraceID, SpanID: r.SpanID,
		Value: float(r.Duration.Seconds()), Baseline: float(median.Seconds()),
	}}
}

// gpuAnomalies flags a lost GPU, XID events, and each device whose memory
// peaked at gpuMemoryNearPercent of its total or more.
func gpuAnomalies(r *store.Run) []anomaly {
	var out []anomaly
	at := func(kind, reason string, value, baseline *float64) anomaly {
		return anomaly{Kind: kind, Reason: reason, RunID: r.RunID, TraceID: r.TraceID, SpanID: r.SpanID,
			Value: value, Baseline: baseline}
	}
	if r.ErrorKind == telemetry.ErrorKindGPU {
		reason := "run " + clean(r.Name) + " lost a GPU"
		if r.ErrorMessage != "" {
			reason += ": " + clean(r.ErrorMessage)
		}
		out = append(out, at(anomalyGPULost, reason, nil, nil))
	}
	if n := xidCount(r.Attributes); n > 0 {
		out = append(out, at(anomalyGPUXID, fmt.Sprintf("run %s saw %d GPU XID event(s)", clean(r.Name), n), float(float64(n)), nil))
	}
	for _, g := range r.GPUs {
		if g.MemoryTotal == 0 || g.MemoryPeak*100 < g.MemoryTotal*gpuMemoryNearPercent {
			continue
		}
		pct := 100 * float64(g.MemoryPeak) / float64(g.MemoryTotal)
		out = append(out, at(anomalyGPUMemory,
			fmt.Sprintf("%s memory peaked at %s of %s (%.1f%%) in run %s",
				clean(g.Short()), Bytes(int64(g.MemoryPeak)), Bytes(int64(g.MemoryTotal)), pct, clean(r.Name)),
			float(float64(g.MemoryPeak)), float(float64(g.MemoryTotal))))
	}
	return out
}

// xidCount reads the run attribute counting XID events; 0 when absent.
func xidCount(a map[string]any) int64 {
	switch v := a[attrGPUXIDCount].(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	}
	return 0
}

// slowSpanAnomalies flags the listed spans (Run.Traces) slower than
// slowSpanFactor times their name's median in their run (names with at
// least slowSpanMinCount spans), or slower than their name's p99 there;
// the maxSlowSpans slowest against their median.
func slowSpanAnomalies(runs []store.Run) []anomaly {
	type slow struct {
		a     anomaly
		ratio float64
	}
	var found []slow
	for i := range runs {
		r := &runs[i]
		stats := make(map[string]*store.SpanStats, len(r.Spans))
		for j := range r.Spans {
			stats[r.Spans[j].Name] = &r.Spans[j]
		}
		for _, tr := range r.Traces {
			for _, sp := range tr.Spans {
				st := stats[sp.Name]
				if st == nil || sp.SpanID == r.SpanID || sp.End.IsZero() || st.P50 <= 0 {
					continue
				}
				ratio := float64(sp.Duration) / float64(st.P50)
				overMedian := st.Count >= slowSpanMinCount && ratio > slowSpanFactor
				overP99 := st.P99 > 0 && sp.Duration > st.P99
				if !overMedian && !overP99 {
					continue
				}
				reason := fmt.Sprintf("%s %s (%.1f× its median %s", clean(sp.Name), Duration(sp.Duration), ratio, Duration(st.P50))
				if overP99 {
					reason += ", over its p99 " + Duration(st.P99)
				}
				found = append(found, slow{ratio: ratio, a: anomaly{
					Kind: anomalySlowSpan, Reason: reason + ")", RunID: r.RunID,
					TraceID: tr.TraceID, SpanID: sp.SpanID,
					Value: float(sp.Duration.Seconds()), Baseline: float(st.P50.Seconds()),
				}})
			}
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].ratio > found[j].ratio })
	out := make([]anomaly, 0, min(len(found), maxSlowSpans))
	for _, f := range found[:min(len(found), maxSlowSpans)] {
		out = append(out, f.a)
	}
	return out
}

// errorBurstAnomalies flags each run of at least errorBurstCount errors
// (time-ordered, as SessionDetail.Errors) within errorBurstWindow of the
// first; bursts do not overlap. Only the listed errors count (at most
// store.MaxErrors).
func errorBurstAnomalies(errs []store.ErrorRecord) []anomaly {
	var out []anomaly
	for i := 0; i < len(errs); {
		j := i + 1
		for j < len(errs) && errs[j].Time.Sub(errs[i].Time) < errorBurstWindow {
			j++
		}
		if n := j - i; n >= errorBurstCount {
			first, last := errs[i].Time, errs[j-1].Time
			out = append(out, anomaly{
				Kind: anomalyErrorBurst,
				Reason: fmt.Sprintf("%d errors within %s, %s to %s", n, Duration(last.Sub(first)),
					first.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339)),
				Value: float(float64(n)), Baseline: float(errorBurstCount),
			})
			i = j
			continue
		}
		i++
	}
	return out
}

// anomaliesText writes the "Anomalies" section, one line per anomaly;
// nothing when there are none.
func anomaliesText(ew *errWriter, as []anomaly) {
	if len(as) == 0 {
		return
	}
	ew.printf("\nAnomalies\n")
	for _, a := range as {
		line := "  " + strings.ReplaceAll(a.Kind, "_", " ") + ": " + a.Reason
		if !a.TraceID.IsZero() {
			line += "  trace " + a.TraceID.String()
		}
		if !a.SpanID.IsZero() {
			line += " span " + a.SpanID.String()
		}
		ew.printf("%s\n", line)
	}
}

// anomalyJSON is one of docs/json.md's anomalies.
type anomalyJSON struct {
	Kind     string   `json:"kind"`
	Reason   string   `json:"reason"`
	RunID    *string  `json:"run_id"`
	TraceID  *string  `json:"trace_id"`
	SpanID   *string  `json:"span_id"`
	Value    *jsonNum `json:"value"`
	Baseline *jsonNum `json:"baseline"`
}

func anomaliesDoc(as []anomaly) []anomalyJSON {
	out := make([]anomalyJSON, 0, len(as))
	num := func(f *float64) *jsonNum {
		if f == nil {
			return nil
		}
		n := jsonNum(*f)
		return &n
	}
	for _, a := range as {
		out = append(out, anomalyJSON{Kind: a.Kind, Reason: a.Reason, RunID: sp(a.RunID),
			TraceID: sp(a.TraceID.String()), SpanID: sp(a.SpanID.String()),
			Value: num(a.Value), Baseline: num(a.Baseline)})
	}
	return out
}
