package store

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestUpsertInProgressRun(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	run := runSpan("s1", 0, 0)
	write(t, s, telemetry.Batch{Spans: []telemetry.Span{run}, Metrics: points(run.TraceID, "cpu", 3)})

	d, err := s.Session(ctx, "s1")
	if err != nil {
		t.Fatalf("Session() = %v", err)
	}
	if len(d.Runs) != 1 || !d.Runs[0].InProgress() || d.Summary.InProgress != 1 {
		t.Fatalf("in-progress run: runs=%+v summary=%+v", d.Runs, d.Summary)
	}
	if got, want := d.Runs[0].LastSeen, t0.Add(2*time.Second); !got.Equal(want) {
		t.Errorf("LastSeen = %v, want %v", got, want)
	}

	// The recorder rewrites the run at exit with the outcome.
	run.End = run.Start.Add(3 * time.Second)
	run.Status = telemetry.StatusError
	run.Attributes[telemetry.AttrExitCode] = int64(137)
	run.Attributes[telemetry.AttrExitSignal] = "SIGKILL"
	run.Attributes[telemetry.AttrErrorKind] = telemetry.ErrorKindSignal
	run.Attributes[telemetry.AttrStderrTail] = "line 1\nline 2"
	run.Attributes[telemetry.AttrCPUUserTime] = 1.5
	run.Attributes[telemetry.AttrPeakRSS] = int64(1 << 20)
	run.Exceptions = []telemetry.Exception{{Type: telemetry.ErrorKindSignal, Message: "killed by SIGKILL", Time: run.End}}
	write(t, s, telemetry.Batch{Spans: []telemetry.Span{run}})

	// A late in-progress rewrite does not erase the end.
	late := run
	late.End = time.Time{}
	write(t, s, telemetry.Batch{Spans: []telemetry.Span{late}})

	d, err = s.Session(ctx, "s1")
	if err != nil {
		t.Fatalf("Session() = %v", err)
	}
	if len(d.Runs) != 1 {
		t.Fatalf("runs = %d, want 1 (upsert, not insert)", len(d.Runs))
	}
	r := d.Runs[0]
	if r.InProgress() || r.Duration != 3*time.Second {
		t.Errorf("run end = %v, duration %v; want finished after 3s", r.End, r.Duration)
	}
	want := Run{ExitCode: 137, HasExitCode: true, Signal: "SIGKILL", ErrorKind: telemetry.ErrorKindSignal,
		ErrorMessage: "killed by SIGKILL", StderrTail: "line 1\nline 2",
		Resources: Resources{Known: true, CPUUser: 1500 * time.Millisecond, PeakRSS: 1 << 20}}
	got := Run{ExitCode: r.ExitCode, HasExitCode: r.HasExitCode, Signal: r.Signal, ErrorKind: r.ErrorKind,
		ErrorMessage: r.ErrorMessage, StderrTail: r.StderrTail, Resources: r.Resources}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("run outcome (-want +got):\n%s", diff)
	}
	if d.Summary.Failures != 1 || d.Summary.InProgress != 0 {
		t.Errorf("summary = %+v, want 1 failure, 0 in progress", d.Summary)
	}
}

func TestAttributeRoundTrip(t *testing.T) {
	attrs := map[string]any{
		"s":    "text",
		"b":    true,
		"i":    int64(-7),
		"i32":  int32(5),
		"f":    2.0,
		"frac": 0.25,
		"big":  1e300,
		"nan":  math.NaN(),
		"inf":  math.Inf(1),
		"ss":   []string{"a", "b"},
		"u64":  uint64(math.MaxUint64),
		"odd":  struct{ A int }{3},
	}
	text, _ := encodeAttrs(attrs).(string)
	got := decodeAttrs(&text)
	want := map[string]any{
		"s": "text", "b": true, "i": int64(-7), "i32": int64(5), "f": 2.0, "frac": 0.25, "big": 1e300,
		"nan": "NaN", "inf": "+Inf", "ss": []string{"a", "b"}, "u64": float64(math.MaxUint64),
		"odd": map[string]any{"A": int64(3)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decodeAttrs(encodeAttrs(x)) (-want +got):\n%s\n%s", diff, text)
	}
}

func TestWriteOddValues(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	run := runSpan("odd", 0, time.Second)
	run.Usage = []telemetry.Usage{{Name: "token_count", Value: math.NaN()}}
	run.Scores = []telemetry.Score{{Name: "q", Value: math.Inf(1)}}
	run.Payloads = []telemetry.Payload{{Name: "input", ContentType: "application/octet-stream", Data: []byte{0, 0xff}}}
	run.Events = []telemetry.Event{{Name: "e", Time: run.Start, Attributes: map[string]any{"x": math.NaN()}}}
	nan := telemetry.Metric{TraceID: run.TraceID, Name: "cpu", Kind: telemetry.Gauge, Time: t0, Value: math.NaN()}
	hist := telemetry.Metric{TraceID: run.TraceID, Name: "lat", Kind: telemetry.Histogram, Time: t0,
		Buckets: []float64{1, 2}, Counts: []uint64{1, 1, 0}, Count: 2, Sum: 3}
	empty := telemetry.Metric{TraceID: run.TraceID, Name: "empty", Kind: telemetry.Histogram, Time: t0}
	write(t, s, telemetry.Batch{
		Spans:   []telemetry.Span{run},
		Metrics: []telemetry.Metric{nan, hist, empty},
		Scores:  []telemetry.Score{{Name: "feedback", Value: math.NaN(), TraceID: run.TraceID}},
		Logs:    []telemetry.Log{{Level: "error", Message: "boom", TraceID: run.TraceID}},
	})
	d, err := s.Session(ctx, "odd")
	if err != nil {
		t.Fatalf("Session() = %v", err)
	}
	ms := d.Runs[0].Metrics
	if len(ms) != 1 || ms[0].Name != "lat" || ms[0].Avg != 1.5 {
		t.Errorf("metrics = %+v, want only lat with mean 1.5 (NaN and empty points skipped)", ms)
	}
	if len(d.Scores) != 2 || len(d.Logs) != 1 || d.Logs[0] != (Count{Name: "error", Value: 1}) {
		t.Errorf("scores = %+v, logs = %+v", d.Scores, d.Logs)
	}
}

func TestConcurrentStores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	stores := []*Store{openStore(t, dir), openStore(t, dir)}
	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*concurrentRuns)
	for i, s := range stores {
		wg.Go(func() {
			for j := range concurrentRuns {
				run := runSpan("s"+string(rune('a'+i)), time.Duration(j)*time.Second, time.Second)
				errs <- s.Write(ctx, telemetry.Batch{Spans: []telemetry.Span{run}, Metrics: points(run.TraceID, "cpu", 20)})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Write() = %v", err)
		}
	}
	sessions, err := stores[0].Sessions(ctx, SessionFilter{})
	if err != nil {
		t.Fatalf("Sessions() = %v", err)
	}
	if len(sessions) != 2 || sessions[0].Runs != concurrentRuns || sessions[1].Runs != concurrentRuns {
		t.Errorf("Sessions() = %+v, want 2 sessions of %d runs", sessions, concurrentRuns)
	}
}

// TestConcurrentProcesses runs two real writer processes (this test binary
// re-executed) against one data dir while this process writes too.
func TestConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	ctx := context.Background()
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	for range 2 {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+dir)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("start writer: %v", err)
		}
		cmds = append(cmds, cmd)
	}
	s := openStore(t, dir)
	for j := range concurrentRuns {
		run := runSpan("main", time.Duration(j)*time.Second, time.Second)
		if err := s.Write(ctx, telemetry.Batch{Spans: []telemetry.Span{run}}); err != nil {
			t.Errorf("Write() = %v", err)
		}
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer process: %v", err)
		}
	}
	d, err := s.Session(ctx, "proc")
	if err != nil {
		t.Fatalf("Session(proc) = %v", err)
	}
	if d.Summary.Runs != 2*concurrentRuns || d.Summary.InProgress != 0 {
		t.Errorf("proc session: %d runs, %d in progress; want %d, 0", d.Summary.Runs, d.Summary.InProgress, 2*concurrentRuns)
	}
	if m := d.Runs[0].Metrics; len(m) != 1 || m[0].Count != 20 {
		t.Errorf("first run metrics = %+v, want one series of 20 points", m)
	}
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
	run := runSpan("x", 0, 0)
	if err := s.Write(ctx, telemetry.Batch{Spans: []telemetry.Span{run}}); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	if _, err := s.Sessions(ctx, SessionFilter{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Sessions after Close = %v, want ErrClosed", err)
	}
}
