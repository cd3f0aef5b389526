package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/graphsignal/graphsignal/internal/launcher"
	"github.com/graphsignal/graphsignal/internal/redact"
)

// CodeUsage is graphsignal's own exit status for a usage or configuration
// error before the child starts (docs/launcher.md).
const CodeUsage = 125

// UsageError is a problem with the command line or configuration. It maps
// to exit status 125.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ChildExit carries how the child ended; its status becomes graphsignal's.
type ChildExit struct{ Exit *launcher.Exit }

func (e *ChildExit) Error() string {
	if e.Exit.Signaled() {
		return fmt.Sprintf("child killed by signal %d", e.Exit.Signal)
	}
	return fmt.Sprintf("child exited with code %d", e.Exit.Code)
}

// SilentError ends graphsignal with Code after the message has already been
// printed (or there is nothing to print).
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// exitStatus maps the outcome of a command to graphsignal's exit status and
// prints the one-line error message to stderr. A child killed by a signal
// is reported through dieBy (the caller re-raises it) with status 128+N as
// the fallback.
func exitStatus(err error, stderr io.Writer) (code int, dieBy *launcher.Exit) {
	if err == nil {
		return 0, nil
	}
	var child *ChildExit
	if errors.As(err, &child) {
		if child.Exit.Signaled() {
			return child.Exit.Code, child.Exit
		}
		return child.Exit.Code, nil
	}
	var silent *SilentError
	if errors.As(err, &silent) {
		return silent.Code, nil
	}
	// The message may quote a value the user gave (a URL, a path): what
	// looks secret in it is redacted.
	fmt.Fprintf(stderr, "graphsignal: %s\n", redact.Text(err.Error()))
	var execErr *launcher.ExecError
	if errors.As(err, &execErr) {
		return execErr.Code, nil
	}
	var usage *UsageError
	if errors.As(err, &usage) {
		return CodeUsage, nil
	}
	return 1, nil
}
