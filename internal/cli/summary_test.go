package cli

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/graphsignal/graphsignal/internal/anomaly"
	"github.com/graphsignal/graphsignal/internal/env"
	"github.com/graphsignal/graphsignal/internal/gpu"
	"github.com/graphsignal/graphsignal/internal/ipc"
	"github.com/graphsignal/graphsignal/internal/launcher"
	"github.com/graphsignal/graphsignal/internal/pipeline"
	"github.com/graphsignal/graphsignal/internal/pricing"
	"github.com/graphsignal/graphsignal/internal/recorder"
	"github.com/graphsignal/graphsignal/internal/rundigest"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestMemorySummary checks the memory part of the summary's second line:
// the figures as recorded, and never "0 B" for a run whose process no
// sample saw alive (true can end before the first sample).
func TestMemorySummary(t *testing.T) {
	tests := []struct {
		name string
		res  recorder.Resources
		want string
	}{
		{"not sampled", recorder.Resources{}, "memory not sampled"},
		{"ended before the first sample", recorder.Resources{Sampled: true, PeakProcesses: 1},
			"memory not seen (the program ended before the first sample)"},
		{"one process", recorder.Resources{Sampled: true, PeakRSS: 900 << 10, LargestRSS: 900 << 10, PeakProcesses: 1},
			"peak memory 900 KiB (largest process 900 KiB) · 1 process"},
		{"a pool", recorder.Resources{Sampled: true, PeakRSS: 129 << 20, LargestRSS: 30 << 20, PeakProcesses: 5},
			"peak memory 129 MiB (largest process 30 MiB) · 5 processes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := memorySummary(tt.res)
			if got != tt.want {
				t.Errorf("memorySummary(%+v) = %q, want %q", tt.res, got, tt.want)
			}
			if strings.Contains(got, " 0 B") {
				t.Errorf("memorySummary(%+v) = %q, says 0 B", tt.res, got)
			}
		})
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{{0, "0 spans"}, {1, "1 span"}, {2, "2 spans"}}
	for _, tt := range tests {
		if got := plural(tt.n, "span", "spans"); got != tt.want {
			t.Errorf("plural(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// TestSummaryOutputs: where the end-of-run summary goes, by --summary, the
// terminal and the CI provider.
func TestSummaryOutputs(t *testing.T) {
	gh := []string{"GITHUB_ACTIONS=true", "GITHUB_RUN_ID=7", "GITHUB_STEP_SUMMARY=/tmp/step.md"}
	gl := []string{"GITLAB_CI=true", "CI_PIPELINE_ID=9"}
	nested := append([]string{env.VarTraceID + "=5bf92f3577b34da6a3ce929d0e0e4736", env.VarSocket + "=/tmp/s"}, gl...)
	tests := []struct {
		name     string
		summary  string
		environ  []string
		terminal bool
		want     outputs
	}{
		{"terminal", "auto", nil, true, outputs{stderr: true}},
		{"log file outside CI", "auto", nil, false, outputs{}},
		{"GitLab log", "auto", gl, false, outputs{stderr: true}},
		{"GitHub: step summary instead", "auto", gh, false, outputs{stepSummary: "/tmp/step.md"}},
		{"GitHub without the file", "auto", gh[:2], false, outputs{stderr: true}},
		{"always on GitHub: both", "always", gh, false, outputs{stderr: true, stepSummary: "/tmp/step.md"}},
		{"never", "never", gh, true, outputs{}},
		{"nested run in CI", "auto", nested, false, outputs{}},
	}
	for _, tt := range tests {
		cfg := &Config{Summary: tt.summary}
		if got := summaryOutputs(cfg, tt.environ, tt.terminal); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestSummaryMarkdown: the step summary holds the outcome, resources, the
// slowest spans and the errors, with the program's text escaped and the
// run's secrets redacted.
func TestSummaryMarkdown(t *testing.T) {
	start := time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC)
	s := runSummary{
		cfg: &Config{DataDir: "/data"},
		outcome: recorder.Outcome{Kind: telemetry.ErrorKindExitCode, Span: telemetry.Span{Name: "pytest", Start: start, End: start.Add(2 * time.Second),
			StatusMessage: "exited with code 1", Tags: telemetry.Tags{telemetry.TagSessionID: "github-7"}},
			Resources: recorder.Resources{Sampled: true, PeakRSS: 64 << 20, PeakProcesses: 3, CPUUser: time.Second}},
		exit:       &launcher.Exit{Code: 1},
		childSpans: 3,
		digest: rundigest.Summary{Spans: 3, ErrorSpans: 1,
			Slowest: []rundigest.Span{{Name: "llm|call", Duration: 1500 * time.Millisecond, Error: true}},
			Errors:  []rundigest.Error{{Type: "AuthError", Message: "bad key sk-SECRET-123 <b>", Count: 2}},
			Tokens:  map[string]float64{telemetry.TokensInput: 1200}},
		redact: func(s string) string { return strings.ReplaceAll(s, "sk-SECRET-123", "REDACTED") },
	}
	md := s.markdown()
	for _, want := range []string{
		"### ❌ graphsignal: `pytest` exited with code 1 (exit\\_code) in 2s",
		"| Session | github-7 |",
		"| Spans | 3 from the program (1 failed) |",
		"| Tokens | 1200 input |",
		`| llm\|call (failed) | 1.5s |`,
		"| 2 | AuthError: bad key REDACTED &lt;b&gt; |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "sk-SECRET") {
		t.Errorf("secret in the markdown:\n%s", md)
	}
	path := filepath.Join(t.TempDir(), "step.md")
	for range 2 {
		if err := appendStepSummary(path, md); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != md+md {
		t.Errorf("step summary file is not the two appended summaries")
	}
}

// summaryWithFindings is a finished run whose findings are a cost with
// unpriced tokens and two anomalies, one quoting a secret.
func summaryWithFindings() runSummary {
	start := time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC)
	return runSummary{
		cfg: &Config{DataDir: "/data"},
		outcome: recorder.Outcome{Span: telemetry.Span{Name: "app", Start: start, End: start.Add(time.Minute),
			Tags: telemetry.Tags{telemetry.TagSessionID: "s-1"}}},
		exit: &launcher.Exit{},
		findings: runFindings{
			cost: pricing.Row{Tokens: pricing.Tokens{Input: 3000, Output: 500}, Cost: 0.0123, UnpricedTokens: 1200},
			anomalies: []anomaly.Anomaly{
				{Kind: anomaly.SlowSpan, Subject: "llm|sk-SECRET-123", Took: 4 * time.Second, Typical: time.Second},
				{Kind: anomaly.ErrorBurst, Value: ptr(5.0), First: start, Last: start.Add(2 * time.Second)},
			}},
		redact: func(s string) string { return strings.ReplaceAll(s, "sk-SECRET-123", "REDACTED") },
	}
}

// TestSummaryFindings: the terminal block and the step summary say the
// run's cost and anomalies, redacted; a run without tokens says no cost.
func TestSummaryFindings(t *testing.T) {
	s := summaryWithFindings()
	var out strings.Builder
	s.print(&out)
	for _, want := range []string{
		"\ngraphsignal: cost: $0.0123+ (1200 tokens of models without a known price)\n",
		"\ngraphsignal: anomaly: slow span: llm|REDACTED 4s (4.0× its median 1s)\n",
		"\ngraphsignal: anomaly: error burst: 5 errors within 2s, 2026-12-05T13:00:00Z to 2026-12-05T13:00:02Z\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	md := s.markdown()
	for _, want := range []string{
		"| Cost | $0.0123+ (1200 tokens of models without a known price) |",
		"**Anomalies**\n\n| kind | what |\n|---|---|\n| slow span | llm\\|REDACTED 4s (4.0× its median 1s) |\n| error burst | 5 errors",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(out.String()+md, "SECRET") {
		t.Errorf("a secret in the summary:\n%s\n%s", out.String(), md)
	}

	s.findings = runFindings{}
	out.Reset()
	s.print(&out)
	if md := s.markdown(); strings.Contains(out.String(), "cost") || strings.Contains(out.String(), "anomaly") ||
		strings.Contains(md, "Cost") || strings.Contains(md, "Anomalies") {
		t.Errorf("a run without tokens or anomalies says some:\n%s\n%s", out.String(), md)
	}
}

// TestSummaryAnomalyLines: past maxAnomalyLines the terminal summary says
// how many more there are.
func TestSummaryAnomalyLines(t *testing.T) {
	s := summaryWithFindings()
	s.findings.anomalies = nil
	for range maxAnomalyLines + 2 {
		s.findings.anomalies = append(s.findings.anomalies, anomaly.Anomaly{Kind: anomaly.GPUXID, Subject: "app", Value: ptr(1.0)})
	}
	var out strings.Builder
	s.print(&out)
	if n := strings.Count(out.String(), "graphsignal: anomaly: gpu xid"); n != maxAnomalyLines {
		t.Errorf("%d anomaly lines, want %d:\n%s", n, maxAnomalyLines, out.String())
	}
	if !strings.Contains(out.String(), "graphsignal: anomaly: 2 more (graphsignal show last)\n") {
		t.Errorf("no line for the rest:\n%s", out.String())
	}
}

// TestFindRun: the run's own anomalies (a lost GPU, XIDs, GPU memory and
// memory near their limits) come first, then the digest's, all with the
// run's id; the tokens are priced per model.
func TestFindRun(t *testing.T) {
	const gib = 1 << 30
	o := recorder.Outcome{Kind: telemetry.ErrorKindGPU, Resources: recorder.Resources{Sampled: true, PeakRSS: 15 * gib},
		Span: telemetry.Span{Name: "train", StatusMessage: "GPU 0 fell off the bus", Tags: telemetry.Tags{telemetry.TagRunID: "r-9"}},
		GPU: gpu.Result{XIDs: []gpu.XID{{}, {}}, Devices: []gpu.DeviceResult{
			{Device: gpu.Device{Index: 0, MemoryTotal: 80 * gib}, MemoryPeak: 79 * gib},
			{Device: gpu.Device{Index: 1, MemoryTotal: 80 * gib}, MemoryPeak: gib}}}}
	d := rundigest.Summary{
		Models: []rundigest.ModelTokens{{Model: "gpt-4o-2024-08-06", Spans: 1, Input: 1e6, Output: 1e6},
			{Model: "no-such-model", Spans: 1, Input: 100}},
		Anomalies: []anomaly.Anomaly{{Kind: anomaly.SlowSpan, Subject: "llm", Took: 4 * time.Second, Typical: time.Second}}}
	table, err := pricing.Builtin().With(map[string]pricing.Price{"gpt-4o": {Input: 2.5, Output: 10}})
	if err != nil {
		t.Fatal(err)
	}
	f := findRun(&o, &d, table, 16*gib)
	var got []string
	for _, a := range f.anomalies {
		got = append(got, a.Kind+"@"+a.RunID)
	}
	want := "gpu_lost@r-9 gpu_xid@r-9 gpu_memory@r-9 memory@r-9 slow_span@r-9"
	if strings.Join(got, " ") != want {
		t.Errorf("anomalies = %v, want %s", got, want)
	}
	if f.cost.Cost != 12.5 || f.cost.UnpricedTokens != 100 {
		t.Errorf("cost = %+v, want $12.50 and 100 unpriced tokens", f.cost)
	}
	if f := findRun(&o, &d, table, 17*gib); len(f.anomalies) != 4 {
		t.Errorf("anomalies with a limit of 17 GiB for a peak of 15 GiB = %v, want no memory anomaly", f.anomalies)
	}
}

// TestAnnotate: the final run span carries the run's cost where priced,
// its span counts as the digest saw them, its memory limit where there is
// one, and its anomalies.
func TestAnnotate(t *testing.T) {
	tokens := pricing.Tokens{Input: 100}
	tests := []struct {
		name string
		f    runFindings
		want map[string]any
	}{
		{"a priced run with errors and a limit",
			runFindings{cost: pricing.Row{Tokens: tokens, Cost: 0.5}, spans: 40, errorSpans: 12, memoryLimit: 8 << 30,
				anomalies: []anomaly.Anomaly{{Kind: anomaly.GPUXID, Subject: "app", Value: ptr(1.0)}}},
			map[string]any{telemetry.AttrCostUSD: 0.5, telemetry.AttrSpanCount: int64(40), telemetry.AttrErrorSpanCount: int64(12),
				telemetry.AttrMemoryLimit: int64(8 << 30), telemetry.AttrAnomalyCount: int64(1)}},
		{"no spans, no price, no limit",
			runFindings{cost: pricing.Row{Tokens: tokens, UnpricedTokens: 100}},
			map[string]any{telemetry.AttrSpanCount: int64(0), telemetry.AttrErrorSpanCount: int64(0), telemetry.AttrAnomalyCount: int64(0)}},
	}
	for _, tt := range tests {
		span := telemetry.Span{Attributes: map[string]any{}}
		tt.f.annotate(&span, func(s string) string { return s })
		if diff := cmp.Diff(tt.want, span.Attributes); diff != "" {
			t.Errorf("%s: annotated attributes (-want +got):\n%s", tt.name, diff)
		}
		if len(span.Events) != len(tt.f.anomalies) {
			t.Errorf("%s: %d events, want one per anomaly (%d)", tt.name, len(span.Events), len(tt.f.anomalies))
		}
	}
}

// TestRunSpanUploadCarriesFindings runs the run's own parts (pipeline,
// journal, digest, recorder, delivery) against a real OTLP receiver on
// loopback: the program's spans enqueued just before the exit are seen by
// the digest before the final run span is recorded, and the uploaded run
// span carries the run's cost and its anomaly as an attribute and an
// event (docs/upload.md, "Costs and anomalies").
func TestRunSpanUploadCarriesFindings(t *testing.T) {
	var (
		mu   sync.Mutex
		runs []ptrace.Span
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" {
			return
		}
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				t.Errorf("gzip: %v", err)
				return
			}
			body = zr
		}
		b, _ := io.ReadAll(body)
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(b); err != nil {
			t.Errorf("traces request: %v", err)
			return
		}
		rss := req.Traces().ResourceSpans()
		for i := range rss.Len() {
			sss := rss.At(i).ScopeSpans()
			for j := range sss.Len() {
				spans := sss.At(j).Spans()
				for k := range spans.Len() {
					if kind, _ := spans.At(k).Attributes().Get(telemetry.AttrSpanKind); kind.Str() == telemetry.SpanKindRun {
						mu.Lock()
						runs = append(runs, spans.At(k))
						mu.Unlock()
					}
				}
			}
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := &Config{OTLPEndpoint: srv.URL, DataDir: t.TempDir(),
		Prices: map[string]pricing.Price{"gpt-4o": {Input: 2.5, Output: 10}}}
	id := runIdentity{traceID: telemetry.NewTraceID(), spanID: telemetry.NewSpanID()}
	tags := telemetry.Tags{telemetry.TagSessionID: "s-up", telemetry.TagDeployment: "app", telemetry.TagRunID: "r-up"}
	start := time.Now()
	name := spool.JournalName(start, id.spanID)
	dl := newDelivery(cfg, nil, name, io.Discard)
	defer dl.stop()
	opts := &runOptions{config: cfg, digest: rundigest.New(), delivery: dl}
	pipe := pipeline.New(pipeline.Config{}, destination(cfg, nil, id, name, dl), opts.digest)
	dl.start(ctx)
	rec := recorder.Start(recorder.Config{TraceID: id.traceID, SpanID: id.spanID, Name: "app", Tags: tags,
		Interval: time.Second, Out: pipe, Annotate: opts.annotateRun(func(s string) string { return s })}, os.Getpid(), start)

	var b telemetry.Batch
	for i := range 6 {
		d := time.Second
		if i == 5 {
			d = 4 * time.Second
		}
		b.Spans = append(b.Spans, telemetry.Span{TraceID: id.traceID, SpanID: telemetry.NewSpanID(), ParentSpanID: id.spanID,
			Name: "llm", Start: start, End: start.Add(d), Tags: tags,
			Attributes: map[string]any{"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": int64(100_000)}})
	}
	pipe.Enqueue(b) // the program's last records, just before it exits
	rec.StopSampling()
	awaitDigest(ctx, pipe)
	outcome := rec.Finish(&launcher.Exit{Time: start.Add(5 * time.Second)}, launcher.StderrTail{}, false)
	delivered := flushDelivery(ctx, dl)
	if err := pipe.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	dl.journalClosed()
	res := delivered()
	if len(res) != 1 || res[0].flush != nil {
		t.Fatalf("delivery = %+v, want the OTLP destination flushed", res)
	}

	const wantCost = 1.5 // 600,000 input tokens at $2.50 per 1M
	if got := outcome.Span.Attributes[telemetry.AttrCostUSD]; got != wantCost {
		t.Errorf("recorded run span's cost = %v, want %v", got, wantCost)
	}
	if len(opts.findings.anomalies) != 1 {
		t.Errorf("findings = %+v, want the slow span", opts.findings)
	}
	mu.Lock()
	defer mu.Unlock()
	var final *ptrace.Span
	for i := range runs {
		if runs[i].EndTimestamp() != 0 {
			final = &runs[i]
		}
	}
	if final == nil {
		t.Fatalf("no finished run span uploaded (%d run spans)", len(runs))
	}
	attrs := final.Attributes().AsRaw()
	if attrs[telemetry.AttrCostUSD] != wantCost || attrs[telemetry.AttrAnomalyCount] != int64(1) {
		t.Errorf("uploaded run span attributes: cost %v, anomalies %v; want %v and 1", attrs[telemetry.AttrCostUSD], attrs[telemetry.AttrAnomalyCount], wantCost)
	}
	if attrs[telemetry.AttrSpanCount] != int64(6) || attrs[telemetry.AttrErrorSpanCount] != int64(0) {
		t.Errorf("uploaded run span attributes: spans %v, error spans %v; want 6 and 0", attrs[telemetry.AttrSpanCount], attrs[telemetry.AttrErrorSpanCount])
	}
	if final.Events().Len() != 1 {
		t.Fatalf("uploaded run span has %d events, want 1 anomaly", final.Events().Len())
	}
	ev := final.Events().At(0)
	got := ev.Attributes().AsRaw()
	want := map[string]any{telemetry.AttrAnomalyKind: anomaly.SlowSpan, telemetry.AttrAnomalyReason: "llm 4s (4.0× its median 1s)",
		telemetry.AttrAnomalyValue: 4.0, telemetry.AttrAnomalyBaseline: 1.0, telemetry.AttrAnomalyTraceID: id.traceID.String(),
		telemetry.AttrAnomalySpanID: b.Spans[5].SpanID.String()}
	if ev.Name() != telemetry.EventAnomaly || !reflect.DeepEqual(got, want) {
		t.Errorf("uploaded event %s %v, want %s %v", ev.Name(), got, telemetry.EventAnomaly, want)
	}
}

// TestSummaryCountsIntakeDrops: records the intake dropped under overload
// are counted with those the pipeline dropped, in the summary line.
func TestSummaryCountsIntakeDrops(t *testing.T) {
	metrics := []telemetry.Metric{
		{Name: ipc.MetricDropped, Value: 62_662},
		{Name: ipc.MetricMessages, Tags: telemetry.Tags{"type": "span"}, Value: 200_000},
	}
	s := runSummary{cfg: &Config{DataDir: "/data"}, intakeDropped: droppedAtIntake(metrics)}
	if got, want := s.where(), "62662 records not recorded to /data"; got != want {
		t.Errorf("where() = %q, want %q", got, want)
	}
}
