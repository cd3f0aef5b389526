package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/anomaly"
	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// attrGPUXIDCount is the run span attribute counting the XID events seen
// during the run (docs/gpu.md).
const attrGPUXIDCount = "gpu.xid.count"

// runHistory holds, per run span id, the same deployment's earlier
// finished runs (store.Store.DeploymentHistory).
type runHistory map[telemetry.SpanID][]store.PastRun

// detectAnomalies returns what the rules of package anomaly find in d: per
// run (in d's order) a duration, error rate or cost outlier against
// history, a lost GPU, XID events, GPU memory near its limit and memory
// near the run's limit; then the slowest of the listed
// spans (Run.Traces) against their name's latency in their run; then
// bursts of the listed errors (at most store.MaxErrors). It reads d only.
func detectAnomalies(d *store.SessionDetail, history runHistory) []anomaly.Anomaly {
	var out []anomaly.Anomaly
	var spans []anomaly.Span
	for i := range d.Runs {
		r := &d.Runs[i]
		out = append(out, anomaly.ForRun(runFacts(r, history[r.SpanID]))...)
		spans = append(spans, listedSpans(r)...)
	}
	out = append(out, anomaly.SlowSpans(spans)...)
	times := make([]time.Time, len(d.Errors))
	for i, e := range d.Errors {
		times[i] = e.Time
	}
	return append(out, anomaly.ErrorBursts(times)...)
}

// runFacts is what the run rules read of r.
func runFacts(r *store.Run, earlier []store.PastRun) *anomaly.Run {
	f := &anomaly.Run{Name: r.Name, RunID: r.RunID, TraceID: r.TraceID, SpanID: r.SpanID,
		GPULost: r.ErrorKind == telemetry.ErrorKindGPU, ErrorMessage: r.ErrorMessage,
		XIDs: intAttr(r.Attributes, attrGPUXIDCount), MemoryLimit: uint64(max(intAttr(r.Attributes, telemetry.AttrMemoryLimit), 0)),
		PeakRSS: uint64(max(r.Resources.PeakRSS, 0))}
	for _, p := range earlier {
		f.Earlier = append(f.Earlier, anomaly.Past{Duration: p.Duration, Cost: p.CostUSD, Spans: p.Spans, ErrorSpans: p.ErrorSpans})
	}
	if !r.InProgress() {
		f.Duration = r.Duration
		if c, ok := r.Attributes[telemetry.AttrCostUSD].(float64); ok && c >= 0 {
			f.Cost = &c
		}
		spans, errs := intAttr(r.Attributes, telemetry.AttrSpanCount), intAttr(r.Attributes, telemetry.AttrErrorSpanCount)
		if errs >= 0 && errs <= spans {
			f.Spans, f.ErrorSpans = spans, errs
		}
	}
	for _, g := range r.GPUs {
		f.GPUs = append(f.GPUs, anomaly.GPU{Name: g.Short(), MemoryPeak: g.MemoryPeak, MemoryTotal: g.MemoryTotal})
	}
	return f
}

// listedSpans are r's listed, finished spans (the run span excepted), each
// with its name's latency in r.
func listedSpans(r *store.Run) []anomaly.Span {
	stats := make(map[string]anomaly.Latency, len(r.Spans))
	for _, st := range r.Spans {
		stats[st.Name] = anomaly.Latency{Count: st.Count, P50: st.P50, P99: st.P99}
	}
	var out []anomaly.Span
	for _, tr := range r.Traces {
		for _, sp := range tr.Spans {
			st, ok := stats[sp.Name]
			if !ok || sp.SpanID == r.SpanID || sp.End.IsZero() {
				continue
			}
			out = append(out, anomaly.Span{Name: sp.Name, Duration: sp.Duration, RunID: r.RunID,
				TraceID: tr.TraceID, SpanID: sp.SpanID, Latency: st})
		}
	}
	return out
}

// intAttr reads an integer attribute of a run; 0 when absent.
func intAttr(a map[string]any, key string) int64 {
	switch v := a[key].(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	}
	return 0
}

// AnomalyReason says what a is, against what baseline, for people, with
// the recorded text in it cleaned of control characters:
// "llm 3.5s (3.5× its median 1s)". `graphsignal show` and `graphsignal
// run` (its summary, notification and run span) say anomalies in these
// words.
func AnomalyReason(a *anomaly.Anomaly) string {
	value := func() int64 { return int64(orZero(a.Value)) }
	switch a.Kind {
	case anomaly.SlowSpan:
		reason := fmt.Sprintf("%s %s (%.1f× its median %s", clean(a.Subject), Duration(a.Took), a.Ratio(), Duration(a.Typical))
		if a.P99 > 0 {
			reason += ", over its p99 " + Duration(a.P99)
		}
		return reason + ")"
	case anomaly.ErrorBurst:
		return fmt.Sprintf("%d errors within %s, %s to %s", value(), Duration(a.Last.Sub(a.First)),
			a.First.UTC().Format(time.RFC3339), a.Last.UTC().Format(time.RFC3339))
	case anomaly.GPULost:
		reason := "run " + clean(a.Subject) + " lost a GPU"
		if a.Message != "" {
			reason += ": " + clean(a.Message)
		}
		return reason
	case anomaly.GPUXID:
		return fmt.Sprintf("run %s saw %d GPU XID event(s)", clean(a.Subject), value())
	case anomaly.GPUMemory:
		peak, total := value(), int64(orZero(a.Baseline))
		return fmt.Sprintf("%s memory peaked at %s of %s (%.1f%%) in run %s",
			clean(a.Device), Bytes(peak), Bytes(total), 100*float64(peak)/float64(total), clean(a.Subject))
	case anomaly.RunDuration:
		how := fmt.Sprintf("%.1f× the median %s", a.Ratio(), Duration(a.Typical))
		if r := a.Ratio(); r < 1 {
			how = fmt.Sprintf("1/%.1f of the median %s", 1/r, Duration(a.Typical))
		}
		return fmt.Sprintf("run %s took %s (%s of the deployment's last %d runs)", clean(a.Subject), Duration(a.Took), how, a.Runs)
	case anomaly.RunErrorRate:
		rate, median := orZero(a.Value), orZero(a.Baseline)
		how := "the median 0%"
		if median > 0 {
			how = fmt.Sprintf("%.1f× the median %.1f%%", rate/median, 100*median)
		}
		return fmt.Sprintf("run %s: %d of %d spans failed, %.1f%% (%s of the deployment's last %d runs)",
			clean(a.Subject), a.ErrorSpans, a.Spans, 100*rate, how, a.Runs)
	case anomaly.RunCost:
		cost, median := orZero(a.Value), orZero(a.Baseline)
		return fmt.Sprintf("run %s cost %s (%.1f× the median %s of the deployment's last %d runs)",
			clean(a.Subject), USD(cost), cost/median, USD(median), a.Runs)
	case anomaly.Memory:
		peak, limit := orZero(a.Value), orZero(a.Baseline)
		return fmt.Sprintf("memory peaked at %s of the %s limit (%.1f%%) in run %s",
			Bytes(int64(peak)), Bytes(int64(limit)), 100*peak/limit, clean(a.Subject))
	}
	return strings.ReplaceAll(a.Kind, "_", " ")
}

// orZero is *f, or 0 for nil.
func orZero(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

// AnomalyKind is a's kind in words: "slow span".
func AnomalyKind(a *anomaly.Anomaly) string { return strings.ReplaceAll(a.Kind, "_", " ") }

// anomaliesText writes the "Anomalies" section, one line per anomaly;
// nothing when there are none.
func anomaliesText(ew *errWriter, as []anomaly.Anomaly) {
	if len(as) == 0 {
		return
	}
	ew.printf("\nAnomalies\n")
	for i := range as {
		a := &as[i]
		line := "  " + AnomalyKind(a) + ": " + AnomalyReason(a)
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

func anomaliesDoc(as []anomaly.Anomaly) []anomalyJSON {
	out := make([]anomalyJSON, 0, len(as))
	num := func(f *float64) *jsonNum {
		if f == nil {
			return nil
		}
		n := jsonNum(*f)
		return &n
	}
	for i := range as {
		a := &as[i]
		out = append(out, anomalyJSON{Kind: a.Kind, Reason: AnomalyReason(a), RunID: sp(a.RunID),
			TraceID: sp(a.TraceID.String()), SpanID: sp(a.SpanID.String()),
			Value: num(a.Value), Baseline: num(a.Baseline)})
	}
	return out
}
