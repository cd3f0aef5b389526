package recorder

import (
	"errors"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/graphsignal/graphsignal/internal/launcher"
	"github.com/graphsignal/graphsignal/internal/procmon"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// collector is an Enqueuer that keeps every batch; the sampling goroutine
// and the test call it concurrently.
type collector struct {
	mu      sync.Mutex
	batches []telemetry.Batch
}

var _ Enqueuer = (*collector)(nil)

func (c *collector) Enqueue(b telemetry.Batch) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches = append(c.batches, b)
	return true
}

func (c *collector) snapshot() []telemetry.Batch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]telemetry.Batch(nil), c.batches...)
}

// spans and metrics return the enqueued records of each kind, in order.
func (c *collector) spans() []telemetry.Span {
	var out []telemetry.Span
	for _, b := range c.snapshot() {
		out = append(out, b.Spans...)
	}
	return out
}

func (c *collector) metricBatches() int {
	n := 0
	for _, b := range c.snapshot() {
		if len(b.Metrics) > 0 {
			n++
		}
	}
	return n
}

const secret = "sk-secret-value-123"

func testConfig(out Enqueuer) Config {
	return Config{
		TraceID:      telemetry.TraceID{1, 2, 3},
		SpanID:       telemetry.SpanID{4, 5, 6},
		ParentSpanID: telemetry.SpanID{7, 8, 9},
		Name:         "train.py",
		Args:         []string{"python", "train.py", "--api-key=REDACTED"},
		Tags:         telemetry.Tags{"session_id": "s1", "deployment": "prod"},
		Attributes:   map[string]any{telemetry.AttrHostName: "box"},
		Interval:     20 * time.Millisecond,
		Out:          out,
		Secrets:      []string{secret},
	}
}

func TestFinish(t *testing.T) {
	started := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ended := started.Add(3 * time.Second)
	const tailText = "Traceback (most recent call last):\nRuntimeError: bad key " + secret
	const wantTail = "Traceback (most recent call last):\nRuntimeError: bad key REDACTED"
	tests := []struct {
		name      string
		exit      launcher.Exit
		tail      string
		oomKilled bool

		wantKind   string
		wantStatus telemetry.Status
		wantMsg    string
		wantSignal string // "" when AttrExitSignal must be absent
		wantCore   bool
		wantTail   string // "" when AttrStderrTail must be absent
	}{
		{
			name: "exit 0", exit: launcher.Exit{Code: 0}, tail: tailText,
			wantStatus: telemetry.StatusOK,
		},
		{
			name: "exit 3", exit: launcher.Exit{Code: 3}, tail: tailText,
			wantKind: telemetry.ErrorKindExitCode, wantStatus: telemetry.StatusError,
			wantMsg: "exited with code 3", wantTail: wantTail,
		},
		{
			name: "exit 3 without stderr", exit: launcher.Exit{Code: 3},
			wantKind: telemetry.ErrorKindExitCode, wantStatus: telemetry.StatusError,
			wantMsg: "exited with code 3",
		},
		{
			name: "SIGTERM", exit: launcher.Exit{Code: 128 + 15, Signal: syscall.SIGTERM}, tail: tailText,
			wantKind: telemetry.ErrorKindSignal, wantStatus: telemetry.StatusError,
			wantMsg: "killed by signal SIGTERM", wantSignal: "SIGTERM", wantTail: wantTail,
		},
		{
			name: "SIGKILL by the OOM killer", exit: launcher.Exit{Code: 128 + 9, Signal: syscall.SIGKILL}, tail: tailText, oomKilled: true,
			wantKind: telemetry.ErrorKindOOMKill, wantStatus: telemetry.StatusError,
			wantMsg: "killed by the kernel's OOM killer (SIGKILL)", wantSignal: "SIGKILL", wantTail: wantTail,
		},
		{
			name: "SIGKILL not by the OOM killer", exit: launcher.Exit{Code: 128 + 9, Signal: syscall.SIGKILL},
			wantKind: telemetry.ErrorKindSignal, wantStatus: telemetry.StatusError,
			wantMsg: "killed by signal SIGKILL", wantSignal: "SIGKILL",
		},
		{
			name: "core dumped", exit: launcher.Exit{Code: 128 + 11, Signal: syscall.SIGSEGV, CoreDumped: true}, tail: tailText,
			wantKind: telemetry.ErrorKindCoreDump, wantStatus: telemetry.StatusError,
			wantMsg: "killed by signal SIGSEGV (core dumped)", wantSignal: "SIGSEGV", wantCore: true, wantTail: wantTail,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &collector{}
			cfg := testConfig(out)
			// pid 0 cannot be sampled: the run is recorded without metrics.
			r := Start(cfg, 0, started)
			r.StopSampling()
			exit := tt.exit
			exit.Time = ended
			exit.Rusage.Utime = syscall.Timeval{Sec: 1, Usec: 500000}
			exit.Rusage.Stime = syscall.Timeval{Sec: 0, Usec: 250000}
			got := r.Finish(&exit, launcher.StderrTail{Mode: launcher.StderrPipe, Text: tt.tail}, tt.oomKilled)

			if got.Kind != tt.wantKind {
				t.Errorf("Outcome.Kind = %q, want %q", got.Kind, tt.wantKind)
			}
			if got.CPUUser != 1500*time.Millisecond || got.CPUSystem != 250*time.Millisecond {
				t.Errorf("Outcome CPU = %v user, %v system, want 1.5s, 250ms", got.CPUUser, got.CPUSystem)
			}
			span := got.Span
			if span.Status != tt.wantStatus || span.StatusMessage != tt.wantMsg {
				t.Errorf("span status = %v %q, want %v %q", span.Status, span.StatusMessage, tt.wantStatus, tt.wantMsg)
			}
			if !span.Start.Equal(started) || !span.End.Equal(ended) {
				t.Errorf("span time = %v..%v, want %v..%v", span.Start, span.End, started, ended)
			}
			a := span.Attributes
			wantAttrs := map[string]any{
				telemetry.AttrExitCode:      int64(tt.exit.Code),
				telemetry.AttrCPUUserTime:   1.5,
				telemetry.AttrCPUSysTime:    0.25,
				telemetry.AttrStderrCapture: launcher.StderrPipe,
				telemetry.AttrSpanKind:      telemetry.SpanKindRun,
				telemetry.AttrHostName:      "box",
			}
			for k, want := range wantAttrs {
				if diff := cmp.Diff(want, a[k]); diff != "" {
					t.Errorf("attribute %s (-want +got):\n%s", k, diff)
				}
			}
			checkOptional(t, a, telemetry.AttrExitSignal, tt.wantSignal)
			checkOptional(t, a, telemetry.AttrErrorKind, tt.wantKind)
			checkOptional(t, a, telemetry.AttrStderrTail, tt.wantTail)
			if tt.wantSignal != "" {
				if a[telemetry.AttrCoreDumped] != tt.wantCore {
					t.Errorf("attribute %s = %v, want %v", telemetry.AttrCoreDumped, a[telemetry.AttrCoreDumped], tt.wantCore)
				}
			} else if v, ok := a[telemetry.AttrCoreDumped]; ok {
				t.Errorf("attribute %s = %v, want it absent for an exit", telemetry.AttrCoreDumped, v)
			}

			if tt.wantKind == "" {
				if len(span.Exceptions) != 0 {
					t.Errorf("exceptions = %+v, want none", span.Exceptions)
				}
			} else {
				want := []telemetry.Exception{{Type: tt.wantKind, Message: tt.wantMsg, StackTrace: tt.wantTail, Time: ended}}
				if diff := cmp.Diff(want, span.Exceptions); diff != "" {
					t.Errorf("exceptions (-want +got):\n%s", diff)
				}
			}
			assertNoSecret(t, span)

			spans := out.spans()
			if len(spans) != 2 {
				t.Fatalf("enqueued %d spans, want 2 (start, finish)", len(spans))
			}
			if !spans[0].End.IsZero() || spans[0].Status != telemetry.StatusUnset {
				t.Errorf("first span End = %v, Status = %v; want an in-progress span", spans[0].End, spans[0].Status)
			}
			if diff := cmp.Diff(span, spans[1]); diff != "" {
				t.Errorf("enqueued final span differs from Outcome.Span (-outcome +enqueued):\n%s", diff)
			}
		})
	}
}

// checkOptional checks that attribute key is want, or absent when want is "".
func checkOptional(t *testing.T, a map[string]any, key, want string) {
	t.Helper()
	v, ok := a[key]
	switch {
	case want == "" && ok:
		t.Errorf("attribute %s = %v, want it absent", key, v)
	case want != "" && v != want:
		t.Errorf("attribute %s = %v, want %q", key, v, want)
	}
}

// assertNoSecret fails if the secret appears in the span's messages,
// attributes or exceptions.
func assertNoSecret(t *testing.T, span telemetry.Span) {
	t.Helper()
	texts := []string{span.StatusMessage}
	for _, v := range span.Attributes {
		if s, ok := v.(string); ok {
			texts = append(texts, s)
		}
	}
	for _, e := range span.Exceptions {
		texts = append(texts, e.Message, e.StackTrace)
	}
	for _, s := range texts {
		if strings.Contains(s, secret) {
			t.Errorf("secret recorded in %q", s)
		}
	}
}

func TestRunSpanIdentity(t *testing.T) {
	out := &collector{}
	cfg := testConfig(out)
	started := time.Now()
	r := Start(cfg, 0, started)
	// An enqueued span is owned by the consumer: changing its tags and
	// attributes must not change the spans recorded afterwards.
	first := out.spans()[0]
	first.Tags["session_id"] = "changed"
	first.Attributes[telemetry.AttrSpanKind] = "changed"
	r.StopSampling()
	got := r.Finish(&launcher.Exit{Time: started.Add(time.Second)}, launcher.StderrTail{Mode: launcher.StderrNone}, false)

	spans := out.spans()
	if len(spans) != 2 {
		t.Fatalf("enqueued %d spans, want 2", len(spans))
	}
	if diff := cmp.Diff(telemetry.Tags{"session_id": "s1", "deployment": "prod"}, cfg.Tags); diff != "" {
		t.Errorf("Config.Tags changed (-want +got):\n%s", diff)
	}
	for i, span := range []telemetry.Span{spans[1], got.Span} {
		if span.TraceID != cfg.TraceID || span.SpanID != cfg.SpanID || span.ParentSpanID != cfg.ParentSpanID {
			t.Errorf("span %d ids = %v/%v/%v, want %v/%v/%v", i, span.TraceID, span.SpanID, span.ParentSpanID, cfg.TraceID, cfg.SpanID, cfg.ParentSpanID)
		}
		if span.Name != "train.py" {
			t.Errorf("span %d Name = %q, want train.py", i, span.Name)
		}
		if diff := cmp.Diff(telemetry.Tags{"session_id": "s1", "deployment": "prod"}, span.Tags); diff != "" {
			t.Errorf("span %d tags (-want +got):\n%s", i, diff)
		}
		a := span.Attributes
		if a[telemetry.AttrSpanKind] != telemetry.SpanKindRun {
			t.Errorf("span %d %s = %v, want %q", i, telemetry.AttrSpanKind, a[telemetry.AttrSpanKind], telemetry.SpanKindRun)
		}
		if a[telemetry.AttrExecutableName] != "train.py" {
			t.Errorf("span %d %s = %v, want train.py", i, telemetry.AttrExecutableName, a[telemetry.AttrExecutableName])
		}
		if diff := cmp.Diff(cfg.Args, a[telemetry.AttrCommandArgs]); diff != "" {
			t.Errorf("span %d args (-want +got):\n%s", i, diff)
		}
		if v, ok := a[telemetry.AttrPID]; ok {
			t.Errorf("span %d %s = %v, want it absent for pid 0", i, telemetry.AttrPID, v)
		}
	}
}

func TestRecordExecFailure(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		err     *launcher.ExecError
		wantMsg string
	}{
		{
			name:    "not found",
			err:     &launcher.ExecError{Program: "nope", Code: launcher.CodeNotFound, Reason: "not found in PATH"},
			wantMsg: `cannot run "nope": not found in PATH`,
		},
		{
			name:    "not executable, secret in the path",
			err:     &launcher.ExecError{Program: "/tmp/" + secret + "/tool", Code: launcher.CodeNotExecutable, Reason: "permission denied", Err: errors.New("EACCES")},
			wantMsg: `cannot run "/tmp/REDACTED/tool": permission denied`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &collector{}
			got := RecordExecFailure(testConfig(out), tt.err, at)
			if got.Kind != telemetry.ErrorKindExecFailure {
				t.Errorf("Outcome.Kind = %q, want %q", got.Kind, telemetry.ErrorKindExecFailure)
			}
			span := got.Span
			if span.Status != telemetry.StatusError || span.StatusMessage != tt.wantMsg {
				t.Errorf("span status = %v %q, want error %q", span.Status, span.StatusMessage, tt.wantMsg)
			}
			if !span.Start.Equal(at) || !span.End.Equal(at) {
				t.Errorf("span time = %v..%v, want %v..%v", span.Start, span.End, at, at)
			}
			a := span.Attributes
			if a[telemetry.AttrExitCode] != int64(tt.err.Code) {
				t.Errorf("attribute %s = %v, want %d", telemetry.AttrExitCode, a[telemetry.AttrExitCode], tt.err.Code)
			}
			if a[telemetry.AttrSpanKind] != telemetry.SpanKindRun {
				t.Errorf("attribute %s = %v, want %q", telemetry.AttrSpanKind, a[telemetry.AttrSpanKind], telemetry.SpanKindRun)
			}
			checkOptional(t, a, telemetry.AttrErrorKind, telemetry.ErrorKindExecFailure)
			checkOptional(t, a, telemetry.AttrStderrTail, "")
			checkOptional(t, a, telemetry.AttrExitSignal, "")
			want := []telemetry.Exception{{Type: telemetry.ErrorKindExecFailure, Message: tt.wantMsg, Time: at}}
			if diff := cmp.Diff(want, span.Exceptions); diff != "" {
				t.Errorf("exceptions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(telemetry.Tags{"session_id": "s1", "deployment": "prod"}, span.Tags); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			assertNoSecret(t, span)
			spans := out.spans()
			if len(spans) != 1 {
				t.Fatalf("enqueued %d spans, want 1", len(spans))
			}
			if diff := cmp.Diff(span, spans[0]); diff != "" {
				t.Errorf("enqueued span differs from Outcome.Span (-outcome +enqueued):\n%s", diff)
			}
		})
	}
}

// TestStartSamplesChild records a real child: the in-progress span comes
// first, then metrics of its process tree until StopSampling.
func TestStartSamplesChild(t *testing.T) {
	cmd := exec.Command("sleep", "0.2")
	if err := cmd.Start(); err != nil {
		t.Skipf("no sleep program: %v", err)
	}
	out := &collector{}
	cfg := testConfig(out)
	started := time.Now()
	r := Start(cfg, cmd.Process.Pid, started)

	// The first sample is taken at once; wait for it with a generous bound.
	deadline := time.Now().Add(10 * time.Second)
	for out.metricBatches() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	// Let the child run a moment so that its pages are resident: the first
	// sample may be taken before it has run at all (RSS 0).
	time.Sleep(50 * time.Millisecond)
	r.StopSampling() // the child is still running: sampling stops anyway
	before := out.metricBatches()
	if before < 2 {
		t.Errorf("enqueued %d metric batches, want the first sample and the one taken by StopSampling", before)
	}

	waitErr := cmd.Wait()
	if waitErr != nil {
		t.Fatalf("sleep: %v", waitErr)
	}
	if out.metricBatches() != before {
		t.Errorf("metrics enqueued after StopSampling returned")
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	exit := &launcher.Exit{Code: cmd.ProcessState.ExitCode(), Time: time.Now()}
	if ru != nil {
		exit.Rusage = *ru
	}
	got := r.Finish(exit, launcher.StderrTail{Mode: launcher.StderrNone}, false)

	batches := out.snapshot()
	if len(batches) == 0 || len(batches[0].Spans) != 1 {
		t.Fatalf("first batch = %+v, want the run span", batches)
	}
	first := batches[0].Spans[0]
	if !first.End.IsZero() || first.Status != telemetry.StatusUnset {
		t.Errorf("first span End = %v, Status = %v; want an in-progress span", first.End, first.Status)
	}
	if first.Attributes[telemetry.AttrPID] != int64(cmd.Process.Pid) {
		t.Errorf("first span %s = %v, want %d", telemetry.AttrPID, first.Attributes[telemetry.AttrPID], cmd.Process.Pid)
	}
	if first.Attributes[telemetry.AttrSpanKind] != telemetry.SpanKindRun {
		t.Errorf("first span %s = %v, want %q", telemetry.AttrSpanKind, first.Attributes[telemetry.AttrSpanKind], telemetry.SpanKindRun)
	}

	names := map[string]bool{}
	for _, b := range batches[1:] {
		for _, m := range b.Metrics {
			if m.TraceID != cfg.TraceID {
				t.Errorf("metric %s TraceID = %v, want %v", m.Name, m.TraceID, cfg.TraceID)
			}
			names[m.Name] = true
			if m.Name == procmon.MetricProcessCount && m.Value < 1 {
				t.Errorf("metric %s = %v, want at least 1 while the child lives", m.Name, m.Value)
			}
		}
	}
	for _, want := range []string{procmon.MetricProcessCount, procmon.MetricMemoryUsage, procmon.MetricCPUUserTime} {
		if !names[want] {
			t.Errorf("no %s metric among %v", want, names)
		}
	}

	if got.Kind != "" || got.Span.Status != telemetry.StatusOK {
		t.Errorf("Outcome = %q %v, want success", got.Kind, got.Span.Status)
	}
	if got.PeakRSS == 0 {
		t.Errorf("Outcome.PeakRSS = 0, want the sampled peak")
	}
	a := got.Span.Attributes
	if a[telemetry.AttrPeakRSS] != int64(got.PeakRSS) {
		t.Errorf("attribute %s = %v, want %d", telemetry.AttrPeakRSS, a[telemetry.AttrPeakRSS], got.PeakRSS)
	}
	if p, _ := a[telemetry.AttrPeakProcs].(int64); p < 1 {
		t.Errorf("attribute %s = %v, want at least 1", telemetry.AttrPeakProcs, a[telemetry.AttrPeakProcs])
	}
	for _, k := range []string{telemetry.AttrReadBytes, telemetry.AttrWriteBytes, telemetry.AttrPeakThreads} {
		if _, ok := a[k]; !ok {
			t.Errorf("attribute %s missing after sampling", k)
		}
	}
	if last := batches[len(batches)-1]; len(last.Spans) != 1 || last.Spans[0].End.IsZero() {
		t.Errorf("last batch = %+v, want the final run span", last)
	}
}
