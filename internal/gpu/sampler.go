package gpu

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// SamplerName is the sampler's executable name, looked for beside
// graphsignal's own executable and then in PATH (FindSampler).
const SamplerName = "graphsignal-gpu"

// FindSampler returns the sampler's path: explicit when set (a path, or
// a name looked up in PATH), else SamplerName in the directory of self
// (graphsignal's executable), else in PATH (lookPath).
func FindSampler(explicit, self string, lookPath func(string) (string, error)) (string, error) {
	if explicit != "" {
		p, err := lookPath(explicit) // a name with a slash is only checked
		if err != nil {
			return "", fmt.Errorf("gpu sampler: %w", err)
		}
		return p, nil
	}
	if self != "" {
		p := filepath.Join(filepath.Dir(self), SamplerName)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := lookPath(SamplerName)
	if err != nil {
		return "", fmt.Errorf("gpu sampler %s not found beside graphsignal or in PATH (build it: see README.md)", SamplerName)
	}
	return p, nil
}

// SamplerConfig configures a started sampler process.
type SamplerConfig struct {
	// Path is the sampler's executable (FindSampler).
	Path string
	// Interval is the time between samples.
	Interval time.Duration
	// Env is the sampler's environment: the program's, so that it sees
	// the same CUDA_VISIBLE_DEVICES.
	Env []string
	// Handle receives each message, from the reading goroutine.
	Handle func(Message)
	// Stderr receives the sampler's stderr and the errors of its report
	// (--debug); nil discards them.
	Stderr io.Writer
}

// Sampler is a running sampler process and the goroutine that reads its
// report. Stop ends both.
type Sampler struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	read  sync.WaitGroup
	// bad counts malformed lines of the report (skipped).
	bad atomic.Int64
}

// StartSampler starts the sampler process of cfg in its own process group
// (a Ctrl-C meant for the program does not end it). It ends by itself when
// its stdin, a pipe from graphsignal, reaches EOF: when Stop closes it, or
// when graphsignal dies. (It is also sent SIGKILL when the thread that
// started it ends, which in a Go program is rarely before the process.)
func StartSampler(cfg SamplerConfig) (*Sampler, error) {
	cmd := exec.Command(cfg.Path, "--interval", cfg.Interval.String())
	cmd.Env = cfg.Env
	cmd.Stderr = cfg.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("gpu sampler: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("gpu sampler: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("gpu sampler: %w", err)
	}
	s := &Sampler{cmd: cmd, stdin: stdin}
	s.read.Go(func() {
		r := NewReader(stdout)
		for {
			m, err := r.Read()
			switch {
			case err == nil:
				cfg.Handle(m)
			case errors.Is(err, ErrBadMessage):
				s.bad.Add(1)
				if cfg.Stderr != nil {
					fmt.Fprintf(cfg.Stderr, "graphsignal: gpu sampler: %v\n", err)
				}
			default:
				if !errors.Is(err, io.EOF) && cfg.Stderr != nil {
					fmt.Fprintf(cfg.Stderr, "graphsignal: gpu sampler: %v\n", err)
				}
				_, _ = io.Copy(io.Discard, stdout) // never leave the sampler blocked on a full pipe
				return
			}
		}
	})
	return s, nil
}

// killWait bounds the wait for a killed sampler: one stuck in the kernel
// (in a driver call to a GPU that fell off the bus) dies only when the call
// returns.
const killWait = 100 * time.Millisecond

// Stop asks the sampler to end (its stdin is closed), waits up to wait for
// it to end and its report to be read, then kills it and waits at most
// killWait more: it never takes longer than wait+killWait. A sampler that
// outlives that is left to die (its reader then goes on calling Handle:
// the caller ignores what comes after Stop). It returns the number of
// malformed lines the report had so far.
func (s *Sampler) Stop(wait time.Duration) int {
	_ = s.stdin.Close()
	done := make(chan struct{})
	go func() { // ends once the sampler is gone and its report read
		s.read.Wait()
		_ = s.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(wait):
		_ = s.cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(killWait):
		}
	}
	return int(s.bad.Load())
}
