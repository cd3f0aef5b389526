// Package launcher starts a program so that it behaves exactly as if it had
// been run directly: same argv, environment (plus what the caller adds), cwd,
// stdio file descriptors, process group and session, rlimits, umask and
// signal mask. It forwards signals sent to graphsignal to the child, waits
// for it, reaps orphans when graphsignal is PID 1, and reports how it ended.
//
// Optionally (Config.PTY) the child gets a pseudo-terminal on its stdio.
//
// A Child is owned by the goroutine that called Start: Wait must be called
// exactly once, from that goroutine or another, and returns only when the
// child has ended. Start installs signal handlers for the forwarded signals
// (or takes over those of CatchSignals); Release removes them.
package launcher

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Exit codes of the exec-failure contract (docs/launcher.md).
const (
	CodeNotExecutable = 126
	CodeNotFound      = 127
)

// Config describes the program to run.
type Config struct {
	// Args is the full argv; Args[0] names the program and is looked up in
	// PATH (from Env) like execvp does when it contains no slash. Args[0] is
	// passed to the child unchanged.
	Args []string
	// Env is the child's complete environment.
	Env []string
	// Stdin, Stdout, Stderr are handed to the child as file descriptors 0, 1
	// and 2. A nil file means the descriptor is closed in the child.
	Stdin, Stdout, Stderr *os.File
	// PTY gives the child a new pseudo-terminal as its stdio and controlling
	// terminal; graphsignal copies between it and Stdin/Stdout.
	PTY bool
	// Reaper makes Wait also reap every other child process that is
	// re-parented to graphsignal (set when graphsignal is PID 1).
	Reaper bool
	// StderrTailBytes and StderrTailLines bound the tail of the child's
	// stderr that Child.StderrTail returns; 0 bytes turns capture off.
	StderrTailBytes int
	StderrTailLines int
	// OwnStderr, if set, is graphsignal's own writer to Stderr: what it
	// wrote during the run is left out of the stderr tail read back from a
	// file.
	OwnStderr *OwnStderr
	// StderrKeeper, if set, is the argv (Args[0] an executable's path) of
	// the process that keeps the child's stderr flowing when graphsignal no
	// longer copies it (it exits while processes the child left behind
	// still write, or it is killed); the process must call KeepStderr. It
	// is started right after the child (before it with Reaper) when stderr
	// is teed (a pipe), in its own process group, and is not waited for.
	// Without it, or if it cannot be started, the child's writes to its
	// stderr fail with EPIPE once graphsignal is gone.
	StderrKeeper []string
	// BeforeReap, if set, is called once the child has exited but before it
	// is reaped, while /proc/<pid> still describes it (a zombie).
	BeforeReap func(pid int)
	// Signals, if set, is the result of an earlier CatchSignals, which Start
	// takes over (and stops if it fails); nil makes Start catch them itself.
	Signals *Signals
}

// ExecError reports that the program could not be started. Code is 126 or
// 127 per the exit-status contract.
type ExecError struct {
	Program string
	Code    int
	Reason  string
	Err     error
}

func (e *ExecError) Error() string {
	return fmt.Sprintf("cannot run %q: %s", e.Program, e.Reason)
}

func (e *ExecError) Unwrap() error { return e.Err }

// Exit describes how the child ended.
type Exit struct {
	// Code is the exit code, or 128+N when killed by signal N.
	Code int
	// Signal is the signal that killed the child, 0 if it exited.
	Signal syscall.Signal
	// CoreDumped reports that the kernel wrote a core file.
	CoreDumped bool
	// Rusage is the child's resource usage including all descendants it
	// reaped (wait4).
	Rusage syscall.Rusage
	// Time is when graphsignal observed the exit.
	Time time.Time
}

// Signaled reports whether the child was killed by a signal.
func (e *Exit) Signaled() bool { return e.Signal != 0 }

// ErrUnsupported is returned by Start on platforms without a launcher.
var ErrUnsupported = errors.New("launcher: unsupported platform")

// How the tail of the child's stderr is obtained (docs/launcher.md). The child's view
// of its stderr never changes, except that a pipe becomes another pipe.
const (
	StderrFile     = "file"     // a regular file: its end is read at exit
	StderrPipe     = "pipe"     // a pipe or socket: a transparent tee
	StderrPTY      = "pty"      // --pty: the terminal output
	StderrTerminal = "terminal" // a terminal: not captured
	StderrNone     = "none"     // closed, /dev/null, shared with stdout, or capture off
)

// StderrTail is what was captured of the child's stderr.
type StderrTail struct {
	// Mode is one of the Stderr* constants.
	Mode string
	// Text is the last lines (at most the configured lines and bytes).
	Text string
}
