//go:build cgo

package nvmlgpu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/graphsignal/graphsignal/internal/gpu"
)

// Config is what the sampler process is told.
type Config struct {
	// Interval between Samples; the first is taken at once.
	Interval time.Duration
	// Visible and VisibleSet are CUDA_VISIBLE_DEVICES and whether it is
	// set.
	Visible    string
	VisibleSet bool
	// Debug, when not nil, receives the notes as lines too, for the
	// sampler's --debug.
	Debug io.Writer
}

// Run is the sampler process's life: it opens NVML on lib, writes a Hello
// to w, then a Sample every cfg.Interval, XIDs and Gones as they come and
// Notes when something is not reported, until ctx ends. When NVML cannot
// be opened it writes one Note saying why and returns the error. It
// returns nil when ctx ended, or the error of writing to w. Run owns and
// joins the goroutine that waits for XID events. cfg.Interval must be
// positive.
func Run(ctx context.Context, lib nvml.Interface, cfg Config, w io.Writer) error {
	out := gpu.NewWriter(w)
	if cfg.Interval <= 0 {
		return fmt.Errorf("sampling interval %v: not positive", cfg.Interval)
	}
	s, err := Open(lib, cfg.Visible, cfg.VisibleSet)
	if err != nil {
		r := &reporter{out: out, debug: cfg.Debug}
		return errors.Join(err, r.note(err.Error()))
	}
	defer s.Close()
	r := &reporter{out: out, debug: cfg.Debug, s: s}
	hello := s.Hello()
	if err := out.Write(gpu.Message{Hello: &hello}); err != nil {
		return err
	}
	if len(hello.Devices) == 0 {
		if err := r.note("no visible device: nothing to sample"); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	}

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	xids := make(chan gpu.XID)
	xidErr := make(chan error, 1) // WatchXID's one result
	wg.Go(func() { xidErr <- s.WatchXID(ctx, xids) })

	ticker := time.NewTicker(cfg.Interval)
	defer ticker.Stop()
	if err := r.sample(); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			if err := r.sample(); err != nil {
				return err
			}
		case x := <-xids:
			if err := out.Write(gpu.Message{XID: &x}); err != nil {
				return err
			}
		case err := <-xidErr:
			if err != nil {
				if err := r.note(fmt.Sprintf("XID events not reported: %v", err)); err != nil {
					return err
				}
			}
		}
	}
}

// reporter writes the report of Run.
type reporter struct {
	out   *gpu.Writer
	debug io.Writer
	s     *Sampler
}

func (r *reporter) sample() error {
	sample, gone := r.s.Sample(time.Now())
	dropNonFinite(&sample)
	if err := r.out.Write(gpu.Message{Sample: &sample}); err != nil {
		return err
	}
	for _, g := range gone {
		if err := r.out.Write(gpu.Message{Gone: &g}); err != nil {
			return err
		}
	}
	for _, n := range r.s.TakeNotes() {
		if err := r.note(n); err != nil {
			return err
		}
	}
	return nil
}

// dropNonFinite removes the NaN and infinite values of s: JSON has no way
// to write them, and a value NVML gives as one means nothing, so one such
// value never ends the report.
func dropNonFinite(s *gpu.Sample) {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	for _, d := range s.Devices {
		for name, v := range d.Values {
			if bad(v) {
				delete(d.Values, name)
			}
		}
	}
	for i := range s.Processes {
		if u := s.Processes[i].Utilization; u != nil && bad(*u) {
			s.Processes[i].Utilization = nil
		}
	}
}

func (r *reporter) note(n string) error {
	if r.debug != nil {
		fmt.Fprintln(r.debug, "graphsignal-gpu:", n)
	}
	return r.out.Write(gpu.Message{Note: n})
}
