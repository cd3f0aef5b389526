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

// WithAdopter makes the children of pid that started after the root (in a
// later clock tick: 10 ms) members of the tree, besides the root's
// descendants. A launcher that is a subreaper (or PID 1) passes its own
// pid, so that orphans re-parented to it stay in the tree; a helper process
// it started before the root is not one of them, one it starts later would
// be. The adopter itself is never a member.
func WithAdopter(pid int) Option { return func(cfg *config) { cfg.adopter = pid } }

// The start-up schedule of Run with a fresh root: until the root is
// rampSamples intervals old, the time to the next pass is a rampSamples-th
// of the root's age, at least minPeriod: a run of any length is sampled
// about rampSamples times or more (20 in its first second, 20 more by the
// time it is e.g. 2.7 s old), so that a short run's peak memory and process
// count are seen. A pass costs about a millisecond; at the default 1 s
// interval the ramp adds some 60 passes over the first 20 s of a run.
const (
	minPeriod   = 50 * time.Millisecond
	rampSamples = 20
)

// nextWait returns the time from a pass taken at age to the next one: a
// rampSamples-th of age, between minPeriod and interval.
func nextWait(age, interval time.Duration) time.Duration {
	return min(max(age/rampSamples, minPeriod), interval)
}

// WithFreshRoot says that the root has just been started and cannot have
// descendants yet. New then takes the first sample at once, reading only
// the root (SampleRoot), so that a root that exits within a millisecond is
// still seen alive; Run hands that sample on first instead of taking one.
// Run then samples often while the run is young: every 50 ms for the first
// second, then every twentieth of the run's age, until that reaches the
// interval (docs/metrics.md).
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
	// first is the sample New took with a fresh root, until Run hands it
	// on; ok is false once it has.
	first   Sample
	firstOK bool
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
	s := &Sampler{clock: cfg.clock, freshRoot: cfg.freshRoot, os: o}
	if cfg.freshRoot {
		if s.first, err = s.SampleRoot(); err != nil {
			return nil, fmt.Errorf("process tree of pid %d: %w", pid, err)
		}
		s.firstOK = true
	}
	return s, nil
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

// Run takes a sample at once (or hands on the one New took with
// WithFreshRoot, even when ctx is already done) and then one every interval (see WithFreshRoot for the
// start-up schedule), handing each to emit, until ctx is done. It runs in
// the caller's goroutine and returns only when ctx is done (nil) or a pass
// fails (that error); emit is called from that goroutine and must not block
// for long. The caller that wants a last sample at the root's exit cancels
// ctx, waits for Run to return and calls Sample or SampleRoot itself.
func (s *Sampler) Run(ctx context.Context, interval time.Duration, emit func(Sample)) error {
	if interval <= 0 {
		return fmt.Errorf("sample interval %v: must be positive", interval)
	}
	s.mu.Lock()
	first, ok := s.first, s.firstOK
	s.firstOK = false
	s.mu.Unlock()
	if !ok {
		if ctx.Err() != nil {
			return nil
		}
		var err error
		if first, err = s.Sample(); err != nil {
			return err
		}
	}
	emit(first)
	wait, ramp := interval, s.freshRoot
	if ramp {
		wait = nextWait(0, interval)
	}
	ticks, stop := s.clock.NewTicker(wait)
	defer func() { stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticks:
		}
		if ctx.Err() != nil {
			return nil
		}
		x, err := s.Sample()
		if err != nil {
			return err
		}
		emit(x)
		if !ramp {
			continue
		}
		if next := nextWait(x.Time.Sub(first.Time), interval); next != wait {
			stop()
			wait = next
			ticks, stop = s.clock.NewTicker(wait)
		}
		ramp = wait < interval
	}
}
