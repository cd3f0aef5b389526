// Package recorder records one run of a program: the run span (written when
// the child starts and rewritten when it ends, so a run cut short still
// shows), the process tree's metrics sampled over the run, and the way the
// run ended (exit code, signal, OOM kill, exec failure, stderr tail).
//
// It hands every record to an Enqueuer (the pipeline) and never blocks on it.
// A Recorder owns one sampling goroutine, started by Start and joined by
// StopSampling.
package recorder

import (
	"context"
	"fmt"
	"io"
	"maps"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/graphsignal/graphsignal/internal/gpu"
	"github.com/graphsignal/graphsignal/internal/launcher"
	"github.com/graphsignal/graphsignal/internal/procmon"
	"github.com/graphsignal/graphsignal/internal/redact"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Enqueuer accepts records without blocking; it reports false when it had
// to drop them.
type Enqueuer interface {
	Enqueue(b telemetry.Batch) bool
}

// Config describes the run being recorded.
type Config struct {
	TraceID      telemetry.TraceID
	SpanID       telemetry.SpanID
	ParentSpanID telemetry.SpanID
	// Name is the run span's name: the program's base name.
	Name string
	// Args is the command line with secrets already redacted.
	Args []string
	// Tags are the run's merged tags, session_id and deployment included.
	Tags telemetry.Tags
	// Attributes are added to the run span (host and CI facts).
	Attributes map[string]any
	// Interval is the sampling interval.
	Interval time.Duration
	// Out receives every record.
	Out Enqueuer
	// Secrets are removed from the stderr tail and messages before they are
	// recorded (API keys, header values).
	Secrets []string
	// Adopter, if not 0, is a process whose children belong to the run's
	// process tree besides the child's descendants: graphsignal's own pid
	// when it is PID 1, so that orphans re-parented to it stay counted.
	Adopter int
	// GPU, when set, samples the machine's GPUs while the child runs
	// (docs/gpu.md).
	GPU *GPUConfig
	// Annotate, when set, is called by Finish with the outcome before the
	// final run span is enqueued, and may add to the span's attributes
	// and events (the run's costs and anomalies, docs/upload.md).
	Annotate func(*Outcome)
}

// GPUConfig says how to sample the GPUs.
type GPUConfig struct {
	// Sampler is the GPU sampler's executable (gpu.FindSampler).
	Sampler string
	// Env is the sampler's environment: the child's.
	Env []string
	// Debug receives the sampler's diagnostics (--debug); nil discards.
	Debug io.Writer
}

// gpuStopWait bounds what stopping a reporting GPU sampler adds to the
// exit; one that has not reported yet (still loading NVML) is killed at
// once. gpuStartDelay is how long a run must last before its sampler is
// started: no program uses a GPU sooner (creating a CUDA context alone
// takes longer), and a shorter run pays nothing for GPU support
// (BENCHMARKS.md, "GPU support").
const (
	gpuStopWait   = 100 * time.Millisecond
	gpuStartDelay = 50 * time.Millisecond
)

// Recorder records one started child. See the package doc.
type Recorder struct {
	cfg     Config
	pid     int
	started time.Time
	// ownPeak is graphsignal's own peak resident set once the child was
	// started: what the child's ru_maxrss may hold of graphsignal's.
	ownPeak uint64
	sampler *procmon.Sampler
	cancel  context.CancelFunc
	done    chan struct{}

	mu   sync.Mutex
	last procmon.Sample
	have bool

	gpu        *gpu.Recording // nil without GPU sampling
	gpuStarted chan struct{}  // closed once the sampler started, or failed to, or never will
	gpuStop    chan struct{}  // closed by stopGPU: start no sampler
	gpuSampler *gpu.Sampler   // set before gpuStarted is closed; nil if it failed
}

// Start records the run's start and begins sampling the process tree of pid.
// The first sample, of the child alone, is taken before Start returns, so
// that a child that exits within milliseconds is still seen alive; then
// every 50 ms for the first second, every twentieth of the run's age after
// that, until that reaches Interval (docs/metrics.md). If the tree cannot
// be sampled the run is still recorded, without metrics.
func Start(cfg Config, pid int, started time.Time) *Recorder {
	r := &Recorder{cfg: cfg, pid: pid, started: started, done: make(chan struct{})}
	opts := []procmon.Option{procmon.WithFreshRoot()}
	if cfg.Adopter > 0 {
		opts = append(opts, procmon.WithAdopter(cfg.Adopter))
	}
	sampler, err := procmon.New(pid, opts...)
	r.ownPeak = procmon.OwnPeakRSS()
	cfg.Out.Enqueue(telemetry.Batch{Spans: []telemetry.Span{r.span()}})
	r.startGPU()
	if err != nil {
		close(r.done)
		return r
	}
	r.sampler = sampler
	// StopSampling cancels ctx and joins the goroutine.
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		_ = sampler.Run(ctx, cfg.Interval, r.emit)
	}()
	return r
}

func (r *Recorder) emit(s procmon.Sample) {
	r.mu.Lock()
	r.last, r.have = s, true
	r.mu.Unlock()
	r.cfg.Out.Enqueue(telemetry.Batch{Metrics: s.Metrics(r.cfg.TraceID)})
}

// startGPU starts the GPU sampler in the background, so that its start
// (a fork and exec) never delays the child's.
func (r *Recorder) startGPU() {
	g := r.cfg.GPU
	if g == nil {
		return
	}
	r.gpu = gpu.NewRecording(gpu.RecordingConfig{
		Trace: r.cfg.TraceID, RunSpan: r.cfg.SpanID,
		Out:    func(b telemetry.Batch) { r.cfg.Out.Enqueue(b) },
		InTree: gpu.TreeMatcher("/proc", r.pid),
	})
	r.gpuStarted, r.gpuStop = make(chan struct{}), make(chan struct{})
	go func() { // joined by stopGPU through gpuStarted
		defer close(r.gpuStarted)
		wait := time.NewTimer(gpuStartDelay)
		defer wait.Stop()
		select {
		case <-wait.C:
		case <-r.gpuStop:
			return
		}
		s, err := gpu.StartSampler(gpu.SamplerConfig{Path: g.Sampler, Interval: r.cfg.Interval, Env: g.Env,
			Handle: r.gpu.Handle, Stderr: g.Debug})
		if err != nil {
			if g.Debug != nil {
				fmt.Fprintf(g.Debug, "graphsignal: %v (no GPU metrics)\n", err)
			}
			return
		}
		r.gpuSampler = s
	}()
}

// stopGPU ends the GPU sampler, within gpuStopWait, and returns the run's
// GPU summary; ok is false without GPU sampling.
func (r *Recorder) stopGPU() (gpu.Result, bool) {
	if r.gpu == nil {
		return gpu.Result{}, false
	}
	close(r.gpuStop)
	<-r.gpuStarted
	if s := r.gpuSampler; s != nil {
		wait := gpuStopWait
		if !r.gpu.Reported() {
			wait = 0
		}
		s.Stop(wait)
		r.gpu.Stop()
	}
	res := r.gpu.Result()
	if d := r.cfg.GPU.Debug; d != nil {
		for _, n := range res.Notes {
			fmt.Fprintf(d, "graphsignal: gpu sampler: %s\n", n)
		}
	}
	return res, true
}

// StopSampling stops the sampling goroutine and takes the last sample, which
// Finish records. Call it once the child has exited but before it is reaped
// (launcher's BeforeReap), while its exited descendants' CPU time is still
// readable.
func (r *Recorder) StopSampling() {
	if r.cancel != nil {
		r.cancel()
	}
	<-r.done
	if r.sampler == nil {
		return
	}
	// The exited child's children were re-parented away when it exited:
	// reading the child alone is exact, and much cheaper than a full scan.
	s, err := r.sampler.SampleRoot()
	if err != nil {
		return
	}
	r.mu.Lock()
	r.last, r.have = s, true
	r.mu.Unlock()
}

// span returns the run span as known so far.
func (r *Recorder) span() telemetry.Span {
	attrs := map[string]any{
		telemetry.AttrSpanKind:       telemetry.SpanKindRun,
		telemetry.AttrExecutableName: r.cfg.Name,
		telemetry.AttrCommandArgs:    r.cfg.Args,
	}
	if r.pid > 0 {
		attrs[telemetry.AttrPID] = int64(r.pid)
	}
	for k, v := range r.cfg.Attributes {
		attrs[k] = v
	}
	return telemetry.Span{
		TraceID:      r.cfg.TraceID,
		SpanID:       r.cfg.SpanID,
		ParentSpanID: r.cfg.ParentSpanID,
		Name:         r.cfg.Name,
		Start:        r.started,
		Tags:         r.cfg.Tags.Clone(),
		Attributes:   attrs,
	}
}

// Outcome is how a run ended, as recorded.
type Outcome struct {
	Span telemetry.Span
	// Kind is one of telemetry.ErrorKind*, "" for success.
	Kind string
	// Resources used by the process tree (docs/metrics.md): the values of
	// the run span's attributes and of the last point of each series.
	Resources
	// GPU is the run's GPU summary (empty without GPU sampling).
	GPU gpu.Result
}

// Resources are the figures of a run's resource summary.
type Resources struct {
	// CPUUser and CPUSystem are the tree's CPU time: the larger of the
	// sampled totals and the child's wait4 rusage (which counts what it
	// reaped, to the microsecond).
	CPUUser, CPUSystem time.Duration
	// PeakRSS is the largest total resident set of the tree that a sample
	// saw: the maximum of the process.memory.usage series.
	PeakRSS uint64
	// LargestRSS is the largest peak resident set of a single process of
	// the tree: the peaks (VmHWM) of the processes that samples saw, and
	// the child's wait4 ru_maxrss (which covers the descendants it reaped)
	// where it exceeds what the kernel may have folded in of graphsignal's
	// own. 0 when neither is known.
	LargestRSS uint64
	// PeakProcesses is the most processes of the tree that a sample saw
	// at once: the maximum of the process.count series.
	PeakProcesses int
	// PeakThreads is the most threads a sample saw: the maximum of the
	// process.threads series.
	PeakThreads int
	// ReadBytes and WriteBytes are the tree's storage I/O at the last
	// sample.
	ReadBytes, WriteBytes uint64
	// Sampled reports that the tree was sampled; without it only the CPU
	// times (from rusage) are known.
	Sampled bool
}

// resources returns the run's resource figures from the samples and the
// child's rusage, and the final points of the cumulative series, stamped at
// the exit: the same figures, so that each series ends where the summary
// says.
func (r *Recorder) resources(exit *launcher.Exit) (Resources, []telemetry.Metric) {
	res := Resources{
		CPUUser:   time.Duration(exit.Rusage.Utime.Nano()),
		CPUSystem: time.Duration(exit.Rusage.Stime.Nano()),
	}
	// ru_maxrss is in KiB. The child is started with CLONE_VM: its maxrss
	// starts at graphsignal's own peak at the exec, which is at most
	// r.ownPeak; above that it can only be a process of the tree.
	if maxrss := uint64(max(exit.Rusage.Maxrss, 0)) << 10; maxrss > r.ownPeak {
		res.LargestRSS = maxrss
	}
	r.mu.Lock()
	last, have := r.last, r.have
	r.mu.Unlock()
	if r.sampler == nil || !have {
		return res, nil
	}
	sum := r.sampler.Summary()
	res.Sampled = true
	res.PeakRSS = sum.PeakRSS
	res.PeakProcesses = sum.PeakProcesses
	res.PeakThreads = sum.PeakThreads
	res.ReadBytes, res.WriteBytes = last.ReadBytes, last.WriteBytes
	res.LargestRSS = max(res.LargestRSS, sum.LargestPeakRSS)
	// The sampled totals also count orphans re-parented to graphsignal and
	// children reaped automatically, which wait4 cannot see; rusage is
	// exact to the microsecond where /proc counts in 10 ms ticks.
	res.CPUUser = max(res.CPUUser, last.CPUUser)
	res.CPUSystem = max(res.CPUSystem, last.CPUSystem)
	final := last
	final.Time, final.Interval = exit.Time, 0
	final.CPUUser, final.CPUSystem = res.CPUUser, res.CPUSystem
	// Only the cumulative series get a point at the exit: the gauges of an
	// exited process (memory 0, no descriptors) would only drag the run's
	// minimum and average down.
	var counters []telemetry.Metric
	for _, m := range final.Metrics(r.cfg.TraceID) {
		if m.Kind == telemetry.Counter {
			counters = append(counters, m)
		}
	}
	return res, counters
}

// Finish records how the child ended and returns the final run span, which
// it also enqueues after the final points of the cumulative series.
// oomKilled reports that the kernel's OOM killer ended it.
func (r *Recorder) Finish(exit *launcher.Exit, tail launcher.StderrTail, oomKilled bool) Outcome {
	span := r.span()
	span.End = exit.Time
	res, final := r.resources(exit)
	if len(final) > 0 {
		r.cfg.Out.Enqueue(telemetry.Batch{Metrics: final})
	}
	out := Outcome{Resources: res}
	a := span.Attributes
	a[telemetry.AttrExitCode] = int64(exit.Code)
	a[telemetry.AttrCPUUserTime] = res.CPUUser.Seconds()
	a[telemetry.AttrCPUSysTime] = res.CPUSystem.Seconds()
	if res.LargestRSS > 0 {
		a[telemetry.AttrLargestRSS] = int64(res.LargestRSS)
	}
	gpuRes, sampledGPU := r.stopGPU()
	if sampledGPU {
		maps.Copy(a, gpuRes.Attributes())
		span.Events = append(span.Events, gpuRes.Events()...)
		out.GPU = gpuRes
	}
	if res.Sampled {
		if res.PeakRSS > 0 { // else no sample saw a live process: unknown
			a[telemetry.AttrPeakRSS] = int64(res.PeakRSS)
		}
		a[telemetry.AttrPeakThreads] = int64(res.PeakThreads)
		a[telemetry.AttrPeakProcs] = int64(res.PeakProcesses)
		a[telemetry.AttrReadBytes] = int64(res.ReadBytes)
		a[telemetry.AttrWriteBytes] = int64(res.WriteBytes)
	}

	var message string
	switch {
	case exit.Signaled() && oomKilled:
		out.Kind, message = telemetry.ErrorKindOOMKill, fmt.Sprintf("killed by the kernel's OOM killer (%s)", SignalName(exit.Signal))
	case exit.Signaled() && exit.CoreDumped:
		out.Kind, message = telemetry.ErrorKindCoreDump, fmt.Sprintf("killed by signal %s (core dumped)", SignalName(exit.Signal))
	case exit.Signaled():
		out.Kind, message = telemetry.ErrorKindSignal, fmt.Sprintf("killed by signal %s", SignalName(exit.Signal))
	case exit.Code != 0:
		out.Kind, message = telemetry.ErrorKindExitCode, fmt.Sprintf("exited with code %d", exit.Code)
	}
	if lost, ok := out.GPU.Lost(); ok {
		// A device lost during the run is the run's error, whatever the
		// program made of it (docs/gpu.md).
		if message != "" {
			message = lost + "; the program " + message
		} else {
			message = lost
		}
		out.Kind = telemetry.ErrorKindGPU
	}
	if exit.Signaled() {
		a[telemetry.AttrExitSignal] = SignalName(exit.Signal)
		a[telemetry.AttrCoreDumped] = exit.CoreDumped
	}
	if out.Kind != "" {
		fail(&span, out.Kind, message, redact.Output(tail.Text, r.cfg.Secrets...), exit.Time)
	} else {
		span.Status = telemetry.StatusOK
	}
	a[telemetry.AttrStderrCapture] = tail.Mode
	out.Span = span
	if r.cfg.Annotate != nil {
		r.cfg.Annotate(&out)
	}
	r.cfg.Out.Enqueue(telemetry.Batch{Spans: []telemetry.Span{out.Span}})
	return out
}

// fail marks span as failed with an exception event of the given kind.
func fail(span *telemetry.Span, kind, message, stderrTail string, at time.Time) {
	span.Status = telemetry.StatusError
	span.StatusMessage = message
	span.Attributes[telemetry.AttrErrorKind] = kind
	if stderrTail != "" {
		span.Attributes[telemetry.AttrStderrTail] = stderrTail
	}
	span.Exceptions = append(span.Exceptions, telemetry.Exception{
		Type: kind, Message: message, StackTrace: stderrTail, Time: at,
	})
}

// RecordExecFailure records a run whose program could not be started.
func RecordExecFailure(cfg Config, err *launcher.ExecError, at time.Time) Outcome {
	r := &Recorder{cfg: cfg, started: at}
	span := r.span()
	span.End = at
	span.Attributes[telemetry.AttrExitCode] = int64(err.Code)
	fail(&span, telemetry.ErrorKindExecFailure, redact.String(err.Error(), cfg.Secrets...), "", at)
	cfg.Out.Enqueue(telemetry.Batch{Spans: []telemetry.Span{span}})
	return Outcome{Span: span, Kind: telemetry.ErrorKindExecFailure}
}

// SignalName returns "SIGKILL" style names.
func SignalName(s syscall.Signal) string {
	if name := unix.SignalName(s); name != "" {
		return name
	}
	return "SIG" + strings.ToUpper(fmt.Sprint(int(s)))
}
