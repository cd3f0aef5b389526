package launcher

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

// keeperArg makes the test binary a stderr keeper (the helper-process
// pattern): see testKeeper.
const keeperArg = "launcher-test-keep-stderr"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == keeperArg {
		if err := KeepStderr(os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	// os/signal keeps one goroutine for good once a signal is caught.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("os/signal.signal_recv"))
}

// run starts args with the test's environment and waits for the exit code.
func run(t *testing.T, sigs *Signals, args ...string) int {
	t.Helper()
	c, err := Start(Config{Args: args, Env: os.Environ(), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		StderrTailBytes: 1 << 10, StderrTailLines: 5, Signals: sigs})
	if err != nil {
		t.Fatalf("Start(%q): %v", args, err)
	}
	defer c.Release()
	e, err := c.Wait()
	if err != nil {
		t.Fatalf("Wait(%q): %v", args, err)
	}
	return e.Code
}

func TestStartSignalsEarlyOrNot(t *testing.T) {
	for _, tt := range []struct {
		name  string
		early bool
		args  []string
		want  int
	}{
		{"true", false, []string{"true"}, 0},
		{"true, signals caught early", true, []string{"true"}, 0},
		{"exit code, signals caught early", true, []string{"/bin/sh", "-c", "exit 3"}, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var sigs *Signals
			if tt.early {
				sigs = CatchSignals()
			}
			if got := run(t, sigs, tt.args...); got != tt.want {
				t.Errorf("exit code of %q = %d, want %d", tt.args, got, tt.want)
			}
		})
	}
}

func TestStartFailureStopsSignals(t *testing.T) {
	for _, args := range [][]string{nil, {"graphsignal-no-such-program"}} {
		sigs := CatchSignals()
		_, err := Start(Config{Args: args, Env: []string{"PATH=" + t.TempDir()}, Signals: sigs})
		var ee *ExecError
		if !errors.As(err, &ee) || ee.Code != CodeNotFound {
			t.Errorf("Start(%q) = %v, want ExecError 127", args, err)
		}
		sigs.Stop() // already stopped by Start: does nothing
	}
}

func TestRuntimeOpenedDevNull(t *testing.T) {
	regular := filepath.Join(t.TempDir(), "f")
	for _, tt := range []struct {
		path string
		flag int
		want bool
	}{
		{os.DevNull, os.O_RDWR, true},
		{os.DevNull, os.O_WRONLY, false},
		{os.DevNull, os.O_RDONLY, false},
		{regular, os.O_RDWR | os.O_CREATE, false},
	} {
		f, err := os.OpenFile(tt.path, tt.flag, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if got := runtimeOpenedDevNull(f, int(f.Fd())); got != tt.want {
			t.Errorf("runtimeOpenedDevNull(%s opened %#x) = %v, want %v", tt.path, tt.flag, got, tt.want)
		}
		f.Close()
	}
}

func TestCheckExecutable(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	exe := filepath.Join(dir, "exe")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		want error
	}{
		{exe, nil},
		{dir, unix.EISDIR},
		{filepath.Join(dir, "missing"), unix.ENOENT},
		{filepath.Join(plain, "sub"), unix.ENOTDIR},
		{"/dev/null", unix.EACCES},
	} {
		if err := checkExecutable(tt.path); !errors.Is(err, tt.want) {
			t.Errorf("checkExecutable(%s) = %v, want %v", tt.path, err, tt.want)
		}
	}
}
