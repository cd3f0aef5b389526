package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/gpu"
	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

var (
	anomalyTrace = mustTrace("4bf92f3577b34da6a3ce929d0e0e4736")
	anomalyRun   = mustSpan("00f067aa0ba902b7")
)

// spanRun is a run listing n spans of name, the first lasting slow and
// the others 1s, with the name's stats as the store computes them.
func spanRun(name string, n int, slow time.Duration) store.Run {
	r := store.Run{Name: "python", RunID: "r1", TraceID: anomalyTrace, SpanID: anomalyRun,
		Start: t0, End: t0.Add(time.Minute), Duration: time.Minute}
	tr := store.Trace{TraceID: anomalyTrace, Spans: []store.SpanNode{{SpanID: anomalyRun, Name: "python",
		Start: t0, End: t0.Add(time.Minute), Duration: time.Minute}}}
	durs := make([]time.Duration, 0, n)
	for i := range n {
		d := time.Second
		if i == 0 {
			d = slow
		}
		durs = append(durs, d)
		id := mustSpan(fmt.Sprintf("%016x", i+1))
		tr.Spans = append(tr.Spans, store.SpanNode{SpanID: id, ParentSpanID: anomalyRun, Name: name,
			Start: t0, End: t0.Add(d), Duration: d, Depth: 1})
	}
	sorted := append([]time.Duration(nil), durs...)
	slices.Sort(sorted)
	r.Spans = []store.SpanStats{{Name: name, Count: n, P50: store.Percentile(sorted, 50), P99: store.Percentile(sorted, 99),
		Max: sorted[len(sorted)-1]}}
	r.Traces = []store.Trace{tr}
	return r
}

// errorsEvery is n error records step apart from t0.
func errorsEvery(n int, step time.Duration) []store.ErrorRecord {
	out := make([]store.ErrorRecord, n)
	for i := range out {
		out[i] = store.ErrorRecord{Time: t0.Add(time.Duration(i) * step), Kind: "log", Name: "error"}
	}
	return out
}

func gpuRun(peak, total uint64, errorKind string, xids any) store.Run {
	r := store.Run{Name: "train", RunID: "r1", TraceID: anomalyTrace, SpanID: anomalyRun, Start: t0,
		End: t0.Add(time.Minute), Duration: time.Minute, ErrorKind: errorKind, Attributes: map[string]any{}}
	if errorKind != "" {
		r.ErrorMessage = "GPU 0 fell off the bus (XID 79)"
	}
	if xids != nil {
		r.Attributes[attrGPUXIDCount] = xids
	}
	r.GPUs = []gpu.DeviceResult{{Device: gpu.Device{Index: 0, UUID: "GPU-1", MemoryTotal: total}, MemoryPeak: peak}}
	return r
}

func durationRun(d time.Duration) store.Run {
	return store.Run{Name: "train", RunID: "r1", TraceID: anomalyTrace, SpanID: anomalyRun, Start: t0,
		End: t0.Add(d), Duration: d}
}

// seconds are past runs lasting ss seconds.
func seconds(ss ...int) []store.PastRun {
	out := make([]store.PastRun, len(ss))
	for i, s := range ss {
		out[i] = store.PastRun{Duration: time.Duration(s) * time.Second}
	}
	return out
}

// attrRun is a finished run of a minute whose run span carries attrs.
func attrRun(attrs map[string]any) store.Run {
	r := durationRun(time.Minute)
	r.Attributes = attrs
	return r
}

// pastRuns are five past runs of a minute with 100 spans, errs of them
// failed, costing cost each.
func pastRuns(errs int64, cost float64) []store.PastRun {
	out := make([]store.PastRun, 5)
	for i := range out {
		out[i] = store.PastRun{Duration: time.Minute, CostUSD: &cost, Spans: 100, ErrorSpans: errs}
	}
	return out
}

// TestDetectAnomalies: the store's session detail reaches the rules of
// package anomaly (whose own tests hold the thresholds), and each kind is
// said in its words.
func TestDetectAnomalies(t *testing.T) {
	const gib = 1 << 30
	inProgress := durationRun(time.Hour)
	inProgress.End, inProgress.Duration = time.Time{}, 0
	unfinished := spanRun("llm", 5, 3500*time.Millisecond)
	unfinished.Traces[0].Spans[1].End = time.Time{}
	tests := []struct {
		name    string
		d       store.SessionDetail
		history runHistory
		want    []string // "kind: reason"
	}{
		{name: "slow span over 3x its median",
			d:    store.SessionDetail{Runs: []store.Run{spanRun("llm", 5, 3500*time.Millisecond)}},
			want: []string{"slow_span: llm 3.5s (3.5× its median 1s)"}},
		{name: "slow span over its p99",
			d:    store.SessionDetail{Runs: []store.Run{spanRun("llm", 101, 2*time.Second)}},
			want: []string{"slow_span: llm 2s (2.0× its median 1s, over its p99 1s)"}},
		{name: "slow spans: the worst 5 over every run",
			d: store.SessionDetail{Runs: []store.Run{spanRun("a", 5, 4*time.Second), spanRun("b", 5, 9*time.Second),
				spanRun("c", 5, 5*time.Second), spanRun("d", 5, 8*time.Second), spanRun("e", 5, 6*time.Second),
				spanRun("f", 5, 7*time.Second)}},
			want: []string{"slow_span: b 9s (9.0× its median 1s)", "slow_span: d 8s (8.0× its median 1s)",
				"slow_span: f 7s (7.0× its median 1s)", "slow_span: e 6s (6.0× its median 1s)",
				"slow_span: c 5s (5.0× its median 1s)"}},
		{name: "an unfinished span is not judged",
			d: store.SessionDetail{Runs: []store.Run{unfinished}}},
		{name: "error burst",
			d:    store.SessionDetail{Errors: errorsEvery(12, time.Second)},
			want: []string{"error_burst: 10 errors within 9s, 2026-11-20T10:00:00Z to 2026-11-20T10:00:09Z"}},
		{name: "GPU memory at 95%",
			d:    store.SessionDetail{Runs: []store.Run{gpuRun(76*gib, 80*gib, "", nil)}},
			want: []string{"gpu_memory: GPU 0 memory peaked at 76 GiB of 80 GiB (95.0%) in run train"}},
		{name: "GPU lost and XIDs",
			d: store.SessionDetail{Runs: []store.Run{gpuRun(gib, 80*gib, telemetry.ErrorKindGPU, int64(2))}},
			want: []string{"gpu_lost: run train lost a GPU: GPU 0 fell off the bus (XID 79)",
				"gpu_xid: run train saw 2 GPU XID event(s)"}},
		{name: "XIDs as a float",
			d:    store.SessionDetail{Runs: []store.Run{gpuRun(gib, 80*gib, "", float64(3))}},
			want: []string{"gpu_xid: run train saw 3 GPU XID event(s)"}},
		{name: "no XIDs",
			d: store.SessionDetail{Runs: []store.Run{gpuRun(gib, 80*gib, telemetry.ErrorKindExitCode, int64(0))}}},
		{name: "run over 3x the median",
			d:       store.SessionDetail{Runs: []store.Run{durationRun(31 * time.Second)}},
			history: runHistory{anomalyRun: seconds(9, 10, 11, 10, 12)},
			want:    []string{"run_duration: run train took 31s (3.1× the median 10s of the deployment's last 5 runs)"}},
		{name: "run under a third of the median",
			d:       store.SessionDetail{Runs: []store.Run{durationRun(3 * time.Second)}},
			history: runHistory{anomalyRun: seconds(9, 10, 11, 10, 12)},
			want:    []string{"run_duration: run train took 3s (1/3.3 of the median 10s of the deployment's last 5 runs)"}},
		{name: "a run in progress is not judged by its duration",
			d:       store.SessionDetail{Runs: []store.Run{inProgress}},
			history: runHistory{anomalyRun: seconds(9, 10, 11, 10, 12)}},
		{name: "error rate over 3x the median",
			d: store.SessionDetail{Runs: []store.Run{attrRun(map[string]any{
				telemetry.AttrSpanCount: int64(40), telemetry.AttrErrorSpanCount: int64(12)})}},
			history: runHistory{anomalyRun: pastRuns(2, 1)},
			want:    []string{"run_error_rate: run train: 12 of 40 spans failed, 30.0% (15.0× the median 2.0% of the deployment's last 5 runs)"}},
		{name: "error rate against a median of 0",
			d: store.SessionDetail{Runs: []store.Run{attrRun(map[string]any{
				telemetry.AttrSpanCount: int64(20), telemetry.AttrErrorSpanCount: int64(5)})}},
			history: runHistory{anomalyRun: pastRuns(0, 1)},
			want:    []string{"run_error_rate: run train: 5 of 20 spans failed, 25.0% (the median 0% of the deployment's last 5 runs)"}},
		{name: "more error spans than spans is no rate",
			d: store.SessionDetail{Runs: []store.Run{attrRun(map[string]any{
				telemetry.AttrSpanCount: int64(5), telemetry.AttrErrorSpanCount: int64(50)})}},
			history: runHistory{anomalyRun: pastRuns(0, 1)}},
		{name: "cost over 3x the median",
			d:       store.SessionDetail{Runs: []store.Run{attrRun(map[string]any{telemetry.AttrCostUSD: 1.5})}},
			history: runHistory{anomalyRun: pastRuns(0, 0.25)},
			want:    []string{"run_cost: run train cost $1.50 (6.0× the median $0.25 of the deployment's last 5 runs)"}},
		{name: "the cost of a run in progress is not judged",
			d: store.SessionDetail{Runs: []store.Run{func() store.Run {
				r := inProgress
				r.Attributes = map[string]any{telemetry.AttrCostUSD: 1.5}
				return r
			}()}},
			history: runHistory{anomalyRun: pastRuns(0, 0.25)}},
		{name: "memory near the limit",
			d: store.SessionDetail{Runs: []store.Run{func() store.Run {
				r := attrRun(map[string]any{telemetry.AttrMemoryLimit: int64(8 * gib)})
				r.Resources.PeakRSS = 7.5 * gib
				return r
			}()}},
			want: []string{"memory: memory peaked at 7.5 GiB of the 8 GiB limit (93.8%) in run train"}},
		{name: "memory without a limit",
			d: store.SessionDetail{Runs: []store.Run{func() store.Run {
				r := attrRun(map[string]any{})
				r.Resources.PeakRSS = 7.5 * gib
				return r
			}()}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, a := range detectAnomalies(&tt.d, tt.history) {
				got = append(got, a.Kind+": "+AnomalyReason(&a))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("detectAnomalies() (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAnomaliesDocNumbers: the JSON value and baseline of the run kinds
// against history and of memory near the limit are the numbers compared.
func TestAnomaliesDocNumbers(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		kind            string
		attrs           map[string]any
		peakRSS         int64
		value, baseline float64
	}{
		{"run_error_rate", map[string]any{telemetry.AttrSpanCount: int64(40), telemetry.AttrErrorSpanCount: int64(12)}, 0, 0.3, 0.02},
		{"run_cost", map[string]any{telemetry.AttrCostUSD: 1.5}, 0, 1.5, 0.25},
		{"memory", map[string]any{telemetry.AttrMemoryLimit: int64(8 * gib)}, 8 * gib, 8 * gib, 8 * gib},
	}
	for _, tt := range tests {
		r := attrRun(tt.attrs)
		r.Resources.PeakRSS = tt.peakRSS
		d := store.SessionDetail{Runs: []store.Run{r}}
		doc := anomaliesDoc(detectAnomalies(&d, runHistory{anomalyRun: pastRuns(2, 0.25)}))
		if len(doc) != 1 || doc[0].Kind != tt.kind || doc[0].Value == nil || doc[0].Baseline == nil ||
			float64(*doc[0].Value) != tt.value || float64(*doc[0].Baseline) != tt.baseline ||
			doc[0].RunID == nil || *doc[0].RunID != "r1" || doc[0].SpanID == nil || *doc[0].SpanID != anomalyRun.String() {
			t.Errorf("anomaliesDoc of %v = %+v, want one %s with value %g and baseline %g on run r1", tt.attrs, doc, tt.kind, tt.value, tt.baseline)
		}
	}
}

func TestAnomaliesRendered(t *testing.T) {
	d := &store.SessionDetail{Summary: store.SessionSummary{ID: "s-1"},
		Runs: []store.Run{spanRun("llm", 5, 4200*time.Millisecond)}}
	var text bytes.Buffer
	if err := Show(&text, d, Options{Location: time.UTC}); err != nil {
		t.Fatalf("Show(text) = %v", err)
	}
	wantLine := "\nAnomalies\n  slow span: llm 4.2s (4.2× its median 1s)  trace " + anomalyTrace.String() +
		" span 0000000000000001\n"
	if !strings.Contains(text.String(), wantLine) {
		t.Errorf("Show(text) = %q, want it to contain %q", text.String(), wantLine)
	}

	var js bytes.Buffer
	if err := Show(&js, d, Options{Format: JSON}); err != nil {
		t.Fatalf("Show(JSON) = %v", err)
	}
	var doc struct {
		Anomalies []map[string]any `json:"anomalies"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	want := []map[string]any{{"kind": "slow_span", "reason": "llm 4.2s (4.2× its median 1s)", "run_id": "r1",
		"trace_id": anomalyTrace.String(), "span_id": "0000000000000001", "value": 4.2, "baseline": 1.0}}
	if diff := cmp.Diff(want, doc.Anomalies); diff != "" {
		t.Errorf("Show(JSON) anomalies (-want +got):\n%s", diff)
	}

	// None: no section, an empty list.
	quiet := &store.SessionDetail{Summary: store.SessionSummary{ID: "s-1"}, Runs: []store.Run{spanRun("llm", 5, time.Second)}}
	text.Reset()
	js.Reset()
	if err := Show(&text, quiet, Options{Location: time.UTC}); err != nil {
		t.Fatalf("Show(text) = %v", err)
	}
	if strings.Contains(text.String(), "Anomalies") {
		t.Errorf("Show(text) of no anomalies = %q, want no Anomalies section", text.String())
	}
	if err := Show(&js, quiet, Options{Format: JSON}); err != nil {
		t.Fatalf("Show(JSON) = %v", err)
	}
	if !strings.Contains(js.String(), `"anomalies": []`) {
		t.Errorf("Show(JSON) of no anomalies = %s, want \"anomalies\": []", js.String())
	}
}
