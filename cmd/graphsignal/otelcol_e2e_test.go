//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/graphsignal/graphsignal/internal/procmon"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// otlpSessionAttr is where OTLP records carry the run's session
// (docs/upload.md, "OTLP"): the semantic conventions' session.id, on the
// resource or on the record.
const otlpSessionAttr = "session.id"

// processMetrics are the process metrics graphsignal samples, with their
// units and whether they are counters (monotonic cumulative sums in OTLP)
// rather than gauges (docs/upload.md).
var processMetrics = map[string]struct {
	unit    string
	counter bool
}{
	procmon.MetricMemoryUsage:    {"By", false},
	procmon.MetricThreads:        {"{count}", false},
	procmon.MetricCPUUsage:       {"%", false},
	procmon.MetricCPUUserTime:    {"s", true},
	procmon.MetricCPUSystemTime:  {"s", true},
	procmon.MetricMemoryVirtual:  {"By", false},
	procmon.MetricOpenFDs:        {"{count}", false},
	procmon.MetricProcessCount:   {"{count}", false},
	procmon.MetricDiskReadBytes:  {"By", true},
	procmon.MetricDiskWriteBytes: {"By", true},
}

// TestOTLPToCollector runs graphsignal with an OTLP endpoint that is a real
// OpenTelemetry Collector, and reads what the collector wrote: the run span,
// the program's spans under the right parents, the process metrics and the
// logs, every record in the run's session, over OTLP/HTTP and OTLP/gRPC,
// with a program that reports over graphsignal's socket and with the
// OpenTelemetry JS SDK (over HTTP, and over gRPC).
func TestOTLPToCollector(t *testing.T) {
	bin := otelcolPath(t)
	tests := []struct {
		name     string
		protocol string // OTEL_EXPORTER_OTLP_PROTOCOL for the run (and so the program)
		node     string // export-spans.js argument; "" runs socketspans
		viaEnv   bool   // the endpoint from OTEL_EXPORTER_OTLP_ENDPOINT, not --otlp-endpoint
		exit     int
	}{
		{name: "socket/http-protobuf", exit: 3},
		{name: "socket/env-endpoint", viaEnv: true, exit: 0},
		{name: "socket/http-json", protocol: "http/json", exit: 0},
		{name: "socket/grpc", protocol: "grpc", exit: 5},
		{name: "node/http-protobuf", node: "proto"},
		{name: "node/grpc", protocol: "grpc", node: "grpc"},
		// The user's own endpoint: the program's OpenTelemetry data still
		// reaches it, through the run (docs/intake.md).
		{name: "node/env-endpoint", node: "proto", viaEnv: true},
		{name: "node/env-endpoint-grpc", protocol: "grpc", node: "grpc", viaEnv: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			program := []string{"socketspans", strconv.Itoa(tt.exit)}
			if tt.node != "" {
				program = []string{"node", nodeOTelScript(t, tt.node), tt.node}
			}
			sink := startFileSink(t, bin)
			endpoint := "http://" + sink.HTTPAddr
			if tt.protocol == "grpc" {
				endpoint = "http://" + sink.GRPCAddr
			}
			session := "s-otelcol-" + strings.ReplaceAll(tt.name, "/", "-")
			r := runWithOTLP(t, otlpRun{endpoint: endpoint, viaEnv: tt.viaEnv, protocol: tt.protocol, session: session, flushTimeout: 5 * time.Second}, program...)
			if r.code != tt.exit {
				t.Fatalf("graphsignal run exited %d, want the program's %d; stderr:\n%s", r.code, tt.exit, r.stderr)
			}
			ids := parseSpanIDs(t, r.stdout)
			want := runExpect{program: filepath.Base(program[0]), exit: tt.exit, session: session, ids: ids, socket: tt.node == ""}
			got := sink.waitFor(t, 30*time.Second, want.missing)
			want.check(t, got)
		})
	}
}

// TestOTLPCollectorDown: whatever the endpoint does (refuses connections,
// accepts and never answers), the run exits with the program's status
// within the flush timeout + 100 ms of the program's exit.
func TestOTLPCollectorDown(t *testing.T) {
	const flush = 500 * time.Millisecond
	refused, err := freeAddrs(1) // closed again: connections are refused
	if err != nil {
		t.Fatal(err)
	}
	silent := silentListener(t)
	tests := []struct {
		name, addr, protocol string
	}{
		{"refused/http", refused[0], ""},
		{"refused/grpc", refused[0], "grpc"},
		{"silent/http", silent, ""},
		{"silent/grpc", silent, "grpc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			end := filepath.Join(t.TempDir(), "end")
			// A shell, not a Go helper, so the program's own exit (a race
			// build's takes tens of milliseconds) is not counted.
			r := runWithOTLP(t, otlpRun{endpoint: "http://" + tt.addr, protocol: tt.protocol, session: "s-down", flushTimeout: flush},
				"sh", "-c", `date +%s%N >"$1"; exit 7`, "sh", end)
			if r.code != 7 {
				t.Fatalf("graphsignal run exited %d, want the program's 7; stderr:\n%s", r.code, r.stderr)
			}
			b, err := os.ReadFile(end)
			if err != nil {
				t.Fatalf("the program did not record its exit: %v", err)
			}
			ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			delay := r.exited.Sub(time.Unix(0, ns))
			t.Logf("graphsignal exited %v after its program (flush timeout %v)", delay, flush)
			// The contract is the flush timeout + 100 ms for the release
			// build (bench/upload-exit-delay.sh measures it); a race build
			// tears down several times slower, so it gets more room here.
			slack := 100 * time.Millisecond
			if raceBuild {
				slack = 400 * time.Millisecond
			}
			if delay > flush+slack {
				t.Errorf("graphsignal exited %v after its program, want at most the flush timeout %v + %v; stderr:\n%s", delay, flush, slack, r.stderr)
			}
		})
	}
}

// silentListener accepts connections and never reads or answers, until the
// test ends.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return l.Addr().String()
}

// otlpRun is one `graphsignal run --otlp-endpoint` invocation.
type otlpRun struct {
	endpoint, protocol, session string
	viaEnv                      bool // OTEL_EXPORTER_OTLP_ENDPOINT=endpoint instead of the flag
	flushTimeout                time.Duration
}

type runResult struct {
	code           int
	stdout, stderr string
	exited         time.Time // when graphsignal's exit was seen
}

// runWithOTLP runs the graphsignal in this test binary (testscript.Main
// put it on PATH) with isolated HOME and XDG directories and no inherited
// CI, Graphsignal or OpenTelemetry settings.
func runWithOTLP(t *testing.T, o otlpRun, program ...string) runResult {
	t.Helper()
	gs, err := exec.LookPath("graphsignal")
	if err != nil {
		t.Fatalf("graphsignal is not on PATH (TestMain registers it): %v", err)
	}
	home := t.TempDir()
	args := []string{"run", "--tag", "session_id=" + o.session, "--flush-timeout", o.flushTimeout.String()}
	if !o.viaEnv {
		args = append(args, "--otlp-endpoint", o.endpoint)
	}
	cmd := exec.Command(gs, append(append(args, "--"), program...)...)
	cmd.Env = isolatedEnv(home)
	if o.viaEnv {
		cmd.Env = append(cmd.Env, "OTEL_EXPORTER_OTLP_ENDPOINT="+o.endpoint)
	}
	if o.protocol != "" {
		cmd.Env = append(cmd.Env, "OTEL_EXPORTER_OTLP_PROTOCOL="+o.protocol)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := runResult{exited: time.Now(), stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("graphsignal run: %v", err)
	}
	return r
}

// isolatedEnv is this process's environment without the variables that
// would change what graphsignal, the program or the example collector
// (OTLP_*) does, with HOME and the XDG directories under home.
func isolatedEnv(home string) []string {
	drop := map[string]bool{"CI": true, "GITHUB_ACTIONS": true, "GITLAB_CI": true, "CIRCLECI": true, "BUILDKITE": true,
		"JENKINS_URL": true, "TF_BUILD": true, "TRAVIS": true, "BITBUCKET_BUILD_NUMBER": true, "BUILD_ID": true,
		"TRACEPARENT": true, "HOME": true, "XDG_CONFIG_HOME": true, "XDG_DATA_HOME": true}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if drop[k] || strings.HasPrefix(k, "GRAPHSIGNAL_") || strings.HasPrefix(k, "OTEL_") || strings.HasPrefix(k, "OTLP_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_DATA_HOME="+filepath.Join(home, "data"))
}

// nodeOTelScript returns testdata/node-otel/export-spans.js when node and
// the OpenTelemetry JS packages it needs for exporter (proto, json, grpc)
// are installed (.ci/run installs them). Without them the test is skipped,
// except in CI with node present, where it fails.
func nodeOTelScript(t *testing.T, exporter string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "node-otel"))
	if err != nil {
		t.Fatal(err)
	}
	pkg := map[string]string{"proto": "exporter-trace-otlp-proto", "json": "exporter-trace-otlp-http", "grpc": "exporter-trace-otlp-grpc"}[exporter]
	_, errNode := exec.LookPath("node")
	_, errMods := os.Stat(filepath.Join(dir, "node_modules", "@opentelemetry", pkg))
	switch {
	case errNode == nil && errMods == nil:
		return filepath.Join(dir, "export-spans.js")
	case errNode == nil && os.Getenv("CI") == "true":
		t.Fatalf("node is installed but @opentelemetry/%s is not: bash testdata/node-otel/install.sh (.ci/run does)", pkg)
	}
	t.Skipf("node or @opentelemetry/%s missing (node: %v; packages: %v): install with bash testdata/node-otel/install.sh", pkg, errNode, errMods)
	return ""
}

// spanIDs is what the programs print: the ids of the spans they made
// (Foreign, a root of a trace of its own, from socketspans only).
type spanIDs struct {
	Root    spanRef `json:"root"`
	Child   spanRef `json:"child"`
	Foreign spanRef `json:"foreign"`
}

type spanRef struct {
	TraceID string `json:"trace_id"`
	SpanID  string `json:"span_id"`
}

func parseSpanIDs(t *testing.T, stdout string) spanIDs {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var ids spanIDs
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &ids); err != nil || ids.Root.SpanID == "" || ids.Child.SpanID == "" {
		t.Fatalf("the program's output %q has no span ids (%v)", stdout, err)
	}
	return ids
}

// runExpect is what one run must have delivered to the collector.
type runExpect struct {
	program string // the run span's process.executable.name
	exit    int
	session string
	ids     spanIDs
	socket  bool // socketspans also sent a log and a metric
}

// missing says what has not arrived yet ("" when all has): the run span,
// both program spans, the process metrics and, from socketspans, its log
// and metric.
func (w runExpect) missing(r *received) string {
	var miss []string
	if findRunSpan(r) == nil {
		miss = append(miss, "the run span")
	}
	for _, id := range []string{w.ids.Root.SpanID, w.ids.Child.SpanID, w.ids.Foreign.SpanID} {
		if id != "" && findSpan(r, id) == nil {
			miss = append(miss, "span "+id)
		}
	}
	// Which process metrics a run of a few milliseconds gets depends on
	// whether a sample caught the program alive; it gets some.
	if !slices.ContainsFunc(r.metrics, func(m gotMetric) bool { _, ok := processMetrics[m.metric.Name()]; return ok }) {
		miss = append(miss, "process metrics")
	}
	if w.socket {
		if findMetric(r, socketMetric) == nil {
			miss = append(miss, "metric "+socketMetric)
		}
		if findLog(r, socketLogBody) == nil {
			miss = append(miss, "log "+strconv.Quote(socketLogBody))
		}
	}
	return strings.Join(miss, ", ")
}

// check compares everything received with what the run sent.
func (w runExpect) check(t *testing.T, r *received) {
	t.Helper()
	run := findRunSpan(r)
	if n := countRunSpans(r); n != 1 {
		t.Errorf("%d run spans, want 1", n)
	}
	if got := attrStr(run.span.Attributes(), run.res, telemetry.AttrExecutableName); got != w.program {
		t.Errorf("run span %s = %q, want %q", telemetry.AttrExecutableName, got, w.program)
	}
	// The deployment defaults to the program's name, and service.name to
	// the run's deployment (docs/upload.md).
	if got, _ := run.res.Get("service.name"); got.AsString() != w.program {
		t.Errorf("run's resource service.name = %q, want its deployment %q", got.AsString(), w.program)
	}
	if got, ok := attrInt(run.span.Attributes(), telemetry.AttrExitCode); !ok || got != int64(w.exit) {
		t.Errorf("run span %s = %d (present %v), want %d", telemetry.AttrExitCode, got, ok, w.exit)
	}
	runTrace, runSpan := run.span.TraceID().String(), run.span.SpanID().String()
	if runTrace != w.ids.Root.TraceID {
		t.Errorf("run span trace %s, the program's spans' %s: want one trace", runTrace, w.ids.Root.TraceID)
	}
	// The program's root span has no parent of its own: it hangs under the
	// run span; the child under the program's root; a root of another trace
	// stays a root.
	for _, c := range []struct {
		ref    spanRef
		parent string
	}{{w.ids.Root, runSpan}, {w.ids.Child, w.ids.Root.SpanID}, {w.ids.Foreign, ""}} {
		if c.ref.SpanID == "" {
			continue
		}
		sp := findSpan(r, c.ref.SpanID)
		if got := sp.span.TraceID().String(); got != c.ref.TraceID {
			t.Errorf("span %s (%s): trace %s, want %s", c.ref.SpanID, sp.span.Name(), got, c.ref.TraceID)
		}
		if got := sp.span.ParentSpanID().String(); got != c.parent {
			t.Errorf("span %s (%s): parent %q, want %q", c.ref.SpanID, sp.span.Name(), got, c.parent)
		}
	}
	for _, m := range r.metrics {
		want, ok := processMetrics[m.metric.Name()]
		if !ok {
			continue
		}
		if m.metric.Unit() != want.unit {
			t.Errorf("metric %s: unit %q, want %q", m.metric.Name(), m.metric.Unit(), want.unit)
		}
		counter := m.metric.Type() == pmetric.MetricTypeSum && m.metric.Sum().IsMonotonic() &&
			m.metric.Sum().AggregationTemporality() == pmetric.AggregationTemporalityCumulative
		if gauge := m.metric.Type() == pmetric.MetricTypeGauge; counter != want.counter || (!counter && !gauge) {
			t.Errorf("metric %s: type %v, want a counter (monotonic cumulative sum) %v", m.metric.Name(), m.metric.Type(), want.counter)
		}
	}
	if w.socket {
		if got := findMetric(r, socketMetric).metric.Unit(); got != socketUnit {
			t.Errorf("metric %s: unit %q, want %q", socketMetric, got, socketUnit)
		}
		lg := findLog(r, socketLogBody)
		if lg.rec.SeverityNumber() != plog.SeverityNumberError {
			t.Errorf("log %q: severity %v, want ERROR", socketLogBody, lg.rec.SeverityNumber())
		}
		if got := lg.rec.TraceID().String(); got != runTrace {
			t.Errorf("log %q: trace %s, want the run's %s", socketLogBody, got, runTrace)
		}
		if got := lg.rec.SpanID().String(); got != w.ids.Child.SpanID {
			t.Errorf("log %q: span %s, want %s", socketLogBody, got, w.ids.Child.SpanID)
		}
	}
	w.checkSession(t, r)
}

// checkSession: every record the collector got carries the run's session.
func (w runExpect) checkSession(t *testing.T, r *received) {
	t.Helper()
	var bad []string
	seen := make(map[string]bool)
	check := func(kind, name string, attrs, res pcommon.Map) {
		got := attrStr(attrs, res, otlpSessionAttr)
		if key := fmt.Sprintf("%s %q (%s = %q)", kind, name, otlpSessionAttr, got); got != w.session && !seen[key] {
			seen[key] = true
			bad = append(bad, key)
		}
	}
	for _, s := range r.spans {
		check("span", s.span.Name(), s.span.Attributes(), s.res)
	}
	for _, m := range r.metrics {
		check("metric", m.metric.Name(), pcommon.NewMap(), m.res)
	}
	for _, l := range r.logs {
		check("log", l.rec.Body().AsString(), l.rec.Attributes(), l.res)
	}
	if len(bad) > 0 {
		t.Errorf("records without the run's %s %q:\n\t%s", otlpSessionAttr, w.session, strings.Join(bad, "\n\t"))
	}
}

func findRunSpan(r *received) *gotSpan {
	for i := range r.spans {
		if v, ok := r.spans[i].span.Attributes().Get(telemetry.AttrSpanKind); ok && v.AsString() == telemetry.SpanKindRun {
			return &r.spans[i]
		}
	}
	return nil
}

func countRunSpans(r *received) int {
	n := 0
	for i := range r.spans {
		if v, ok := r.spans[i].span.Attributes().Get(telemetry.AttrSpanKind); ok && v.AsString() == telemetry.SpanKindRun {
			n++
		}
	}
	return n
}

func findSpan(r *received, spanID string) *gotSpan {
	for i := range r.spans {
		if r.spans[i].span.SpanID().String() == spanID {
			return &r.spans[i]
		}
	}
	return nil
}

func findMetric(r *received, name string) *gotMetric {
	for i := range r.metrics {
		if r.metrics[i].metric.Name() == name {
			return &r.metrics[i]
		}
	}
	return nil
}

func findLog(r *received, body string) *gotLog {
	for i := range r.logs {
		if r.logs[i].rec.Body().AsString() == body {
			return &r.logs[i]
		}
	}
	return nil
}

// attrStr is key's value on the record, else on its resource ("" if on
// neither).
func attrStr(attrs, res pcommon.Map, key string) string {
	if v, ok := attrs.Get(key); ok {
		return v.AsString()
	}
	if v, ok := res.Get(key); ok {
		return v.AsString()
	}
	return ""
}

func attrInt(attrs pcommon.Map, key string) (int64, bool) {
	v, ok := attrs.Get(key)
	if !ok {
		return 0, false
	}
	if v.Type() == pcommon.ValueTypeInt {
		return v.Int(), true
	}
	n, err := strconv.ParseInt(v.AsString(), 10, 64)
	return n, err == nil
}
