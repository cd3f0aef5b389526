package launcher

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Child is a started program. See the package doc for ownership.
type Child struct {
	// Pid is the child's process id.
	Pid int
	// Path is the file that was executed.
	Path string
	// Started is when the child was started.
	Started time.Time

	cfg    Config
	sigs   *Signals
	tty    *os.File // our controlling terminal, nil without one
	pty    *ptySession
	exit   *exitWatch // nil: Wait catches SIGCHLD
	stderr *stderrCapture
	tail   StderrTail
}

// StderrTail returns the captured end of the child's stderr; valid after
// Wait has returned.
func (c *Child) StderrTail() StderrTail { return c.tail }

// Start resolves and starts the program. Errors that mean the program could
// not be executed are *ExecError; any other error is graphsignal's own.
func Start(cfg Config) (*Child, error) {
	if len(cfg.Args) == 0 {
		if cfg.Signals != nil {
			cfg.Signals.Stop()
		}
		return nil, &ExecError{Code: CodeNotFound, Reason: "no program given"}
	}
	// Handlers go in before the fork so that no signal is lost in between;
	// the program is looked up while they do.
	sigs := cfg.Signals
	if sigs == nil {
		sigs = CatchSignals()
	}
	name := cfg.Args[0]
	pathEnv, havePath := lookupEnv(cfg.Env, "PATH")
	path, err := resolve(name, pathEnv, havePath)
	if err != nil {
		sigs.Stop()
		return nil, err
	}

	c := &Child{Path: path, cfg: cfg, sigs: sigs}
	c.stderr, err = newStderrCapture(cfg.Stderr, cfg.Stdout, cfg.StderrTailBytes, cfg.StderrTailLines, cfg.PTY, cfg.StderrKeeper, cfg.Reaper)
	if err != nil {
		c.stopSignals()
		return nil, err
	}
	c.stderr.own = cfg.OwnStderr
	attr, err := c.procAttr()
	if err != nil {
		c.stopSignals()
		c.stderr.abort()
		return nil, err
	}
	c.stderr.beforeFork()
	sigs.wait()
	c.Started = time.Now()
	pid, err := forkExec(path, cfg.Args, attr)
	if errors.Is(err, unix.ENOEXEC) {
		// Like execvp: a file without a "#!" line is a shell script.
		args := append([]string{"/bin/sh", path}, cfg.Args[1:]...)
		pid, err = forkExec("/bin/sh", args, attr)
	}
	if err != nil {
		c.stopSignals()
		c.closePTY()
		c.stderr.abort()
		if errors.Is(err, unix.ENOENT) {
			return nil, interpreterError(name, path, err)
		}
		return nil, execErrorFor(name, err)
	}
	c.Pid = pid
	sigs.catchLate()
	if !cfg.PTY && !cfg.Reaper {
		c.exit, _ = watchExit(pid) // nil: Wait catches SIGCHLD instead
	}
	c.stderr.started()
	if c.pty != nil {
		c.pty.started(pid, sigs)
	} else {
		c.tty = openControllingTTY()
	}
	return c, nil
}

func forkExec(path string, args []string, attr *syscall.ProcAttr) (int, error) {
	for {
		pid, err := syscall.ForkExec(path, args, attr)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return pid, err
	}
}

// procAttr builds the fork/exec attributes: the child's stdio are exactly the
// given files (or the pty), nothing else is opened for it, and it stays in
// graphsignal's process group and session unless it gets a pty.
func (c *Child) procAttr() (*syscall.ProcAttr, error) {
	attr := &syscall.ProcAttr{Env: c.cfg.Env, Sys: &syscall.SysProcAttr{}}
	if c.cfg.PTY {
		p, err := openPTY(c.cfg.Stdin, c.cfg.Stdout, c.stderr.tail)
		if err != nil {
			return nil, fmt.Errorf("open pseudo-terminal: %w", err)
		}
		c.pty = p
		fd := p.slave.Fd()
		attr.Files = []uintptr{fd, fd, fd}
		attr.Sys.Setsid = true
		attr.Sys.Setctty = true
		attr.Sys.Ctty = 0
		return attr, nil
	}
	attr.Files = []uintptr{stdioFd(c.cfg.Stdin, 0), stdioFd(c.cfg.Stdout, 1), stdioFd(c.cfg.Stderr, 2)}
	if fd, ok := c.stderr.childFd(); ok {
		attr.Files[2] = fd
	}
	return attr, nil
}

// stdioFd returns the descriptor to hand over as fd n, or -1 (closed in the
// child) for a nil file or for a descriptor that the Go runtime opened on
// /dev/null because it was closed when graphsignal started.
func stdioFd(f *os.File, n int) uintptr {
	if f == nil || runtimeOpenedDevNull(f, n) {
		return ^uintptr(0)
	}
	return f.Fd()
}

// runtimeOpenedDevNull reports whether f is standard descriptor n that was
// closed when graphsignal started: the Go runtime then opens /dev/null
// read-write on it, which no shell redirection does for fd 1 or 2 (">" opens
// write-only) and which "<" does not do for fd 0. It costs one system call
// for a descriptor that is not open read-write, two otherwise.
func runtimeOpenedDevNull(f *os.File, n int) bool {
	if int(f.Fd()) != n {
		return false
	}
	flags, err := unix.FcntlInt(uintptr(n), unix.F_GETFL, 0)
	if err != nil || flags&unix.O_ACCMODE != unix.O_RDWR {
		return false
	}
	var st unix.Stat_t
	return unix.Fstat(n, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == devNull
}

// devNull is the device number of /dev/null on Linux.
var devNull = unix.Mkdev(1, 3)

// openControllingTTY opens the controlling terminal, if any, to find out
// later whether graphsignal is in its foreground process group.
func openControllingTTY() *os.File {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil
	}
	return f
}

// lookupEnv finds key in the child's environment; the first occurrence
// wins, as for getenv(3), which is what execvp would have used.
func lookupEnv(env []string, key string) (string, bool) {
	for i := range env {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

func (c *Child) stopSignals() { c.sigs.Stop() }

func (c *Child) closePTY() {
	if c.pty != nil {
		c.pty.close()
	}
}
