package procmon

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeClock is a Clock whose time moves and whose ticker fires only when
// the test says so.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	ticks   chan time.Time
	stopped chan struct{}
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1_700_000_000, 0), ticks: make(chan time.Time), stopped: make(chan struct{})}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTicker(time.Duration) (<-chan time.Time, func()) {
	return c.ticks, func() { close(c.stopped) }
}

// advance moves the time by d and returns the new time.
func (c *fakeClock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// tick advances the time by d and fires the ticker; Run must be receiving.
func (c *fakeClock) tick(d time.Duration) { c.ticks <- c.advance(d) }

func TestRunFakeClock(t *testing.T) {
	clock := newFakeClock()
	s, err := New(os.Getpid(), WithClock(clock))
	if err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	samples := make(chan Sample)
	done := make(chan error)
	go func() { done <- s.Run(ctx, time.Second, func(x Sample) { samples <- x }) }()

	first := <-samples // taken at once, before any tick
	if first.Interval != 0 || first.Processes < 1 || !first.Time.Equal(clock.Now()) {
		t.Errorf("first sample = %+v, want Interval 0, >= 1 process, the clock's time", first)
	}
	for i := 1; i <= 2; i++ {
		clock.tick(1500 * time.Millisecond)
		x := <-samples
		if x.Interval != 1500*time.Millisecond || x.CPUPercent < 0 {
			t.Errorf("sample %d: Interval %v, CPUPercent %v; want 1.5s, >= 0", i, x.Interval, x.CPUPercent)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v after cancel, want nil", err)
	}
	<-clock.stopped
	if got := s.Summary().Samples; got != 3 {
		t.Errorf("Summary().Samples = %d, want 3", got)
	}
}

func TestRunSystemClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := New(os.Getpid())
		if err != nil {
			t.Skip(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 3500*time.Millisecond)
		defer cancel()
		var got []time.Duration
		if err := s.Run(ctx, time.Second, func(x Sample) { got = append(got, x.Interval) }); err != nil {
			t.Fatalf("Run() = %v", err)
		}
		want := []time.Duration{0, time.Second, time.Second, time.Second}
		if len(got) != len(want) {
			t.Fatalf("intervals = %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("intervals = %v, want %v", got, want)
			}
		}
	})
}

func TestRunBadInterval(t *testing.T) {
	s, err := New(os.Getpid())
	if err != nil {
		t.Skip(err)
	}
	for _, d := range []time.Duration{0, -time.Second} {
		if err := s.Run(t.Context(), d, func(Sample) {}); err == nil {
			t.Errorf("Run(interval %v) = nil, want an error", d)
		}
	}
}
