//go:build !linux

package launcher

import (
	"os"
	"syscall"
	"time"
)

// Child is a started program; on this platform none can be started.
type Child struct {
	Pid     int
	Path    string
	Started time.Time
}

// Start reports ErrUnsupported: the launcher needs Linux.
func Start(Config) (*Child, error) { return nil, ErrUnsupported }

// Wait reports ErrUnsupported.
func (c *Child) Wait() (*Exit, error) { return nil, ErrUnsupported }

// DieBySignal returns at once: the caller exits with 128+sig.
func DieBySignal(syscall.Signal) {}

// Signals returns nil: no signal is ever caught here.
func (c *Child) Signals() <-chan os.Signal { return nil }

// Release does nothing here.
func (c *Child) Release() {}

// StderrTail returns nothing here.
func (c *Child) StderrTail() StderrTail { return StderrTail{Mode: StderrNone} }

// KeepStderr reports ErrUnsupported: there is no stderr keeper here.
func KeepStderr(tee, stderr *os.File) error { return ErrUnsupported }

// Signals catches nothing on this platform.
type Signals struct{}

// CatchSignals returns a Signals that catches nothing here.
func CatchSignals() *Signals { return &Signals{} }

// Stop does nothing here.
func (s *Signals) Stop() {}
