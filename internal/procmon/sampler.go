package procmon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrNoProcess is returned by New when the root process does not exist
// (it was never started, or it has already been reaped).
var ErrNoProcess = errors.New("no such process")

// Clock is the time source of a Sampler: the instants of samples and the
// ticker of Run. The zero Option set uses the system clock.
type Clock interface {
	Now() time.Time
	// NewTicker returns a channel that receives a tick every d and a
	// function that stops it.
	NewTicker(d time.Duration) (<-chan time.Time, func())
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

type config struct {
	clock     Clock
	procDir   string
	adopter   int
	freshRoot bool
}

// Option configures a Sampler.
type Option func(*config)

// WithClock sets the clock (default: the system clock).
func WithClock(c Clock) Option { return func(cfg *config) { cfg.clock = c } }

// WithProcDir reads process information from dir instead of /proc.
func WithProcDir(dir string) Option { return func(cfg *config) { cfg.procDir = dir } }

// WithAdopter makes every child of pid a member of the tree, besides the
// root's descendants. A launcher that is a subreaper (or PID 1) passes its
// own pid, so that orphans reparented to it stay in the tree. The adopter
// itself is never a member.
func WithAdopter(pid int) Option { return func(cfg *config) { cfg.adopter = pid } }

// quickPass is when Run takes its second sample after a root-only first one.
const quickPass = 100 * time.Millisecond

// WithFreshRoot says that the root has just been started and cannot have
// descendants yet: Run's first sample reads only the root (SampleRoot)
// instead of the whole of /proc, so that a very short child does not wait
// for a full scan before it is reaped; the second, full sample follows
// after 100 ms (or the interval, if shorter) rather than a whole interval.
func WithFreshRoot() Option { return func(cfg *config) { cfg.freshRoot = true } }

// Sampler samples the process tree rooted at one process. It is safe for
// concurrent use; passes are serialized. It holds no file descriptors and
// no goroutines between calls, so it needs no Close.
type Sampler struct {
	mu        sync.Mutex
	clock     Clock
	freshRoot bool
	os        *osSampler
	prev      Sample // the previous pass; Time is zero before the first
	sum       Summary
}

// New returns a Sampler for the tree rooted at pid. The root must exist (a
// zombie qualifies): otherwise New returns an error wrapping ErrNoProcess.
// On a platform without /proc it returns an error wrapping
// errors.ErrUnsupported.
func New(pid int, opts ...Option) (*Sampler, error) {
	cfg := config{clock: systemClock{}, procDir: "/proc"}
	for _, o := range opts {
		o(&cfg)
	}
	if pid <= 0 || pid > 1<<31-1 {
		return nil, fmt.Errorf("process tree of pid %d: %w", pid, ErrNoProcess)
	}
	o, err := newOSSampler(int32(pid), cfg)
	if err != nil {
		return nil, fmt.Errorf("process tree of pid %d: %w", pid, err)
	}
	return &Sampler{clock: cfg.clock, freshRoot: cfg.freshRoot, os: o}, nil
}

// Sample takes one pass over the tree. The root having exited and been
// reaped is not an error: the sample then has no processes and the last
// cumulative totals. Errors come from /proc itself being unreadable.
func (s *Sampler) Sample() (Sample, error) { return s.sample(false) }

// SampleRoot is Sample reading only the root process instead of listing the
// whole of /proc. It is exact when the root's tree can hold nothing else:
// right after the root was started, and once it has exited (the kernel
// re-parents a process's children away when it exits, and the exited root
// still reports the CPU time of every child it reaped). Totals carried from
// earlier passes are kept, as with Sample.
func (s *Sampler) SampleRoot() (Sample, error) { return s.sample(true) }

func (s *Sampler) sample(rootOnly bool) (Sample, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rootOnly {
		s.os.setRootOnly()
	}
	var x Sample
	if err := s.os.pass(&x); err != nil {
		return Sample{}, err
	}
	x.Time = s.clock.Now()
	if !s.prev.Time.IsZero() {
		x.Interval = x.Time.Sub(s.prev.Time)
	}
	if x.Interval > 0 {
		cpu := (x.CPUUser + x.CPUSystem) - (s.prev.CPUUser + s.prev.CPUSystem)
		x.CPUPercent = 100 * cpu.Seconds() / x.Interval.Seconds()
	} else {
		x.HostCPUPercent = 0
	}
	s.prev = x
	s.sum.Add(x)
	return x, nil
}

// Summary returns the summary of every sample taken so far.
func (s *Sampler) Summary() Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sum
}

// Run takes a sample at once and then one every interval, handing each to
// emit, until ctx is done. It runs in the caller's goroutine and returns
// only when ctx is done (nil) or a pass fails (that error); emit is called
// from that goroutine and must not block for long. The caller that wants a
// last sample at the root's exit cancels ctx, waits for Run to return and
// calls Sample itself.
func (s *Sampler) Run(ctx context.Context, interval time.Duration, emit func(Sample)) error {
	if interval <= 0 {
		return fmt.Errorf("sample interval %v: must be positive", interval)
	}
	// With a fresh root the first sample reads only the root, so the second
	// comes soon after (quickPass), when a short-lived run's children exist.
	wait, rootOnly := interval, s.freshRoot
	if rootOnly && interval > quickPass {
		wait = quickPass
	}
	ticks, stop := s.clock.NewTicker(wait)
	defer func() { stop() }()
	for {
		if ctx.Err() != nil {
			return nil
		}
		x, err := s.sample(rootOnly)
		if err != nil {
			return err
		}
		emit(x)
		if !rootOnly && wait != interval {
			stop()
			wait = interval
			ticks, stop = s.clock.NewTicker(wait)
		}
		rootOnly = false
		select {
		case <-ctx.Done():
			return nil
		case <-ticks:
		}
	}
}
