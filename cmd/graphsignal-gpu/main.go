//go:build cgo

// Command graphsignal-gpu is graphsignal's GPU sampler: it reports the
// NVIDIA devices that CUDA_VISIBLE_DEVICES leaves visible on stdout, as
// package gpu's line protocol, until its stdin reaches end of file or it
// gets SIGTERM or SIGINT. graphsignal starts it, with a pipe on stdin,
// only where an NVIDIA driver is loaded; it is built with cgo to load NVML
// (package nvmlgpu does the work). It writes nothing on stderr unless
// --debug.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/graphsignal/graphsignal/internal/gpu"
	"github.com/graphsignal/graphsignal/internal/gpu/nvmlgpu"
)

func main() { os.Exit(Main()) }

// Main runs the sampler and returns its exit status: 0, or 2 for bad flags.
func Main() int {
	flags := flag.NewFlagSet("graphsignal-gpu", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	interval := flags.Duration("interval", time.Second, "time between samples")
	debug := flags.Bool("debug", false, "write notes and errors on stderr")
	if err := flags.Parse(os.Args[1:]); err != nil || *interval <= 0 {
		fmt.Fprintln(os.Stderr, "usage: graphsignal-gpu [--interval 1s] [--debug]")
		return 2
	}
	cfg := nvmlgpu.Config{Interval: *interval}
	cfg.Visible, cfg.VisibleSet = os.LookupEnv(gpu.VisibleDevicesEnv)
	if *debug {
		cfg.Debug = os.Stderr
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // ends with the process: a read of stdin cannot be stopped
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	// Run's errors are in its report (NVML unavailable) or mean that its
	// reader is gone: either way there is nothing more to say.
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = nvmlgpu.Run(ctx, nvml.New(), cfg, os.Stdout)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		// graphsignal waits for the sampler on its exit path: a wait for
		// an XID event in flight (up to 500 ms) is not worth it.
		select {
		case <-done:
		case <-time.After(exitGrace):
		}
	}
	return 0
}

// exitGrace is how long the sampler lets Run finish once told to stop.
const exitGrace = 5 * time.Millisecond
