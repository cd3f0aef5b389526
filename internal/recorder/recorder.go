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
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

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
}

// Recorder records one started child. See the package doc.
type Recorder struct {
	cfg     Config
	pid     int
	started time.Time
	sampler *procmon.Sampler
	cancel  context.CancelFunc
	done    chan struct{}

	mu   sync.Mutex
	last procmon.Sample
	have bool
}

// Start records the run's start and begins sampling the process tree of pid
// (the first sample at once, then every Interval). If the tree cannot be
// sampled the run is still recorded, without metrics.
func Start(cfg Config, pid int, started time.Time) *Recorder {
	r := &Recorder{cfg: cfg, pid: pid, started: started, done: make(chan struct{})}
	span := r.span()
	cfg.Out.Enqueue(telemetry.Batch{Spans: []telemetry.Span{span}})

	// The sampler is set up in its goroutine: the caller (the child's
	// start) does not wait for /proc. StopSampling reads r.sampler only
	// after that goroutine is done.
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		sampler, err := procmon.New(pid, procmon.WithFreshRoot())
		if err != nil {
			return
		}
		r.sampler = sampler
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

// StopSampling stops the sampling goroutine and takes the last sample. Call
// it once the child has exited but before it is reaped (launcher's
// BeforeReap), while its exited descendants' CPU time is still readable.
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
	// Only its cumulative counters (CPU time, I/O) are kept: the gauges of
	// an exited process (memory 0, no descriptors) would only drag the
	// run's minimum and average down.
	s, err := r.sampler.SampleRoot()
	if err != nil {
		return
	}
	r.mu.Lock()
	r.last, r.have = s, true
	r.mu.Unlock()
	var counters []telemetry.Metric
	for _, m := range s.Metrics(r.cfg.TraceID) {
		if m.Kind == telemetry.Counter {
			counters = append(counters, m)
		}
	}
	r.cfg.Out.Enqueue(telemetry.Batch{Metrics: counters})
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
	// Summary of the resources used.
	CPUUser, CPUSystem time.Duration
	PeakRSS            uint64
}

// Finish records how the child ended and returns the final run span, which
// it also enqueues. oomKilled reports that the kernel's OOM killer ended it.
func (r *Recorder) Finish(exit *launcher.Exit, tail launcher.StderrTail, oomKilled bool) Outcome {
	span := r.span()
	span.End = exit.Time
	out := Outcome{
		CPUUser:   time.Duration(exit.Rusage.Utime.Nano()),
		CPUSystem: time.Duration(exit.Rusage.Stime.Nano()),
	}
	a := span.Attributes
	a[telemetry.AttrExitCode] = int64(exit.Code)
	a[telemetry.AttrCPUUserTime] = out.CPUUser.Seconds()
	a[telemetry.AttrCPUSysTime] = out.CPUSystem.Seconds()
	// Not wait4's ru_maxrss: the child is started with CLONE_VM, so the
	// kernel counts graphsignal's own resident set in the child's peak.
	// The peak is the sampled sum over the process tree.
	r.mu.Lock()
	last, have := r.last, r.have
	r.mu.Unlock()
	if r.sampler != nil {
		sum := r.sampler.Summary()
		out.PeakRSS = sum.PeakRSS
		a[telemetry.AttrPeakThreads] = int64(sum.PeakThreads)
		a[telemetry.AttrPeakProcs] = int64(sum.PeakProcesses)
	}
	if have {
		// The sampled totals also count orphans re-parented to graphsignal
		// and children reaped automatically, which wait4 cannot see.
		out.CPUUser = max(out.CPUUser, last.CPUUser)
		out.CPUSystem = max(out.CPUSystem, last.CPUSystem)
		a[telemetry.AttrCPUUserTime] = out.CPUUser.Seconds()
		a[telemetry.AttrCPUSysTime] = out.CPUSystem.Seconds()
		a[telemetry.AttrReadBytes] = int64(last.ReadBytes)
		a[telemetry.AttrWriteBytes] = int64(last.WriteBytes)
	}
	a[telemetry.AttrPeakRSS] = int64(out.PeakRSS)

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
	r.cfg.Out.Enqueue(telemetry.Batch{Spans: []telemetry.Span{span}})
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
