package recorder

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/graphsignal/graphsignal/internal/launcher"
	"github.com/graphsignal/graphsignal/internal/procmon"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// record runs cmd under a Recorder as graphsignal does: Start right after
// the child started, StopSampling once it has exited but before it is
// reaped, Finish with its wait4 rusage.
func record(t *testing.T, cfg Config, cmd *exec.Cmd) Outcome {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	r := Start(cfg, cmd.Process.Pid, time.Now())
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatalf("waitid: %v", err)
		}
		break
	}
	r.StopSampling()
	_ = cmd.Wait()
	exit := &launcher.Exit{Code: cmd.ProcessState.ExitCode(), Time: time.Now()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		exit.Rusage = *ru
	}
	if exit.Code != 0 {
		t.Fatalf("%v exited with %d", cmd.Args, exit.Code)
	}
	return r.Finish(exit, launcher.StderrTail{Mode: launcher.StderrNone}, false)
}

// seriesMax returns the largest value of the named series and how many
// points it has.
func seriesMax(c *collector, name string) (float64, int) {
	var top float64
	n := 0
	for _, b := range c.snapshot() {
		for _, m := range b.Metrics {
			if m.Name == name {
				top = max(top, m.Value)
				n++
			}
		}
	}
	return top, n
}

// poolScript is a Python program that, after a start-up of 0.3 s, forks
// a pool of workers that each hold the given MiB; once all hold it, the
// pool lives on for 0.3 s, then the workers exit. Arguments: workers, MiB.
const poolScript = `
import os, sys, time
n, mib = int(sys.argv[1]), int(sys.argv[2])
time.sleep(0.3)
ready_r, ready_w = os.pipe()
go_r, go_w = os.pipe()
pids = []
for _ in range(n):
    pid = os.fork()
    if pid == 0:
        os.close(go_w)
        held = b"x" * (mib << 20)
        os.write(ready_w, b"r")
        os.read(go_r, 1)
        os._exit(len(held) != mib << 20)
    pids.append(pid)
got = 0
while got < n:
    got += len(os.read(ready_r, n))
time.sleep(0.3)
os.close(go_w)
sys.exit(sum(os.waitpid(p, 0)[1] != 0 for p in pids))
`

// interpreter returns the path of the Python interpreter itself: a
// python3 on PATH may be a launcher script (pyenv's shims take seconds and
// start processes of their own).
func interpreter(t *testing.T) string {
	t.Helper()
	b, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Fatalf("python3 (a requirement of the tests): %v", err)
	}
	return strings.TrimSpace(string(b))
}

// TestShortRunResources records a sub-second run of a pool, started after
// a program's usual start-up, at the default 1 s interval: the summary must
// see all its processes and its memory, and every series must end where the
// summary says.
func TestShortRunResources(t *testing.T) {
	const (
		workers = 4
		mib     = 24
	)
	python := interpreter(t)
	for i := range 3 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			out := &collector{}
			cfg := testConfig(out)
			cfg.Interval = time.Second
			started := time.Now()
			cmd := exec.Command(python, "-c", poolScript, strconv.Itoa(workers), strconv.Itoa(mib))
			cmd.Stderr = os.Stderr
			got := record(t, cfg, cmd)
			t.Logf("the run took %v: %+v", time.Since(started), got.Resources)

			if want := 1 + workers; got.PeakProcesses != want {
				t.Errorf("PeakProcesses = %d, want %d (the pool and its workers)", got.PeakProcesses, want)
			}
			// Besides what the workers hold, each process has the
			// interpreter's own resident pages (about 10 MiB).
			lo, hi := uint64(workers*mib)<<20, uint64(workers*mib+(1+workers)*16)<<20
			if got.PeakRSS < lo || got.PeakRSS > hi {
				t.Errorf("PeakRSS = %.1f MiB, want %d..%d MiB", float64(got.PeakRSS)/(1<<20), lo>>20, hi>>20)
			}
			if got.LargestRSS < mib<<20 || got.LargestRSS > (mib+16)<<20 {
				t.Errorf("LargestRSS = %.1f MiB, want %d..%d MiB (one worker)", float64(got.LargestRSS)/(1<<20), mib, mib+16)
			}
			checkSeriesEndAtSummary(t, out, got)
		})
	}
}

// checkSeriesEndAtSummary checks that the maximum of each series is the
// figure of the summary and of the run span's attribute.
func checkSeriesEndAtSummary(t *testing.T, out *collector, got Outcome) {
	t.Helper()
	a := got.Span.Attributes
	checks := []struct {
		series string
		attr   string
		want   float64
	}{
		{procmon.MetricMemoryUsage, telemetry.AttrPeakRSS, float64(got.PeakRSS)},
		{procmon.MetricProcessCount, telemetry.AttrPeakProcs, float64(got.PeakProcesses)},
		{procmon.MetricCPUUserTime, telemetry.AttrCPUUserTime, got.CPUUser.Seconds()},
		{procmon.MetricCPUSystemTime, telemetry.AttrCPUSysTime, got.CPUSystem.Seconds()},
	}
	for _, c := range checks {
		top, points := seriesMax(out, c.series)
		if top != c.want {
			t.Errorf("series %s max = %v over %d points, want the summary's %v", c.series, top, points, c.want)
		}
		var attr float64
		switch v := a[c.attr].(type) {
		case int64:
			attr = float64(v)
		case float64:
			attr = v
		}
		if attr != c.want {
			t.Errorf("attribute %s = %v, want the summary's %v", c.attr, a[c.attr], c.want)
		}
	}
	// Memory no sample saw is unknown, not 0: the attributes are absent.
	for attr, want := range map[string]uint64{telemetry.AttrLargestRSS: got.LargestRSS, telemetry.AttrPeakRSS: got.PeakRSS} {
		v, ok := a[attr]
		if (want == 0 && ok) || (want != 0 && v != int64(want)) {
			t.Errorf("attribute %s = %v, want %d (absent for 0)", attr, v, want)
		}
	}
}

// TestTinyRunSeen records runs that last less than the first quick
// sampling period. The first sample, taken before Start returns, must see a
// program that lives 0.2 s alive every time, with its real resident set
// (the rss of /proc/<pid>/stat can read 0 for such a process). true lives about a
// millisecond: a run of it that the first sample missed must have no
// memory figures at all rather than wrong ones (the summary then says that
// nothing was seen instead of "0 B").
func TestTinyRunSeen(t *testing.T) {
	tests := []struct {
		args    []string
		runs    int
		minSeen int
	}{
		{[]string{"sleep", "0.2"}, 5, 5},
		// Whether true is seen depends on which of it and the recorder
		// runs first: on a loaded machine often not.
		{[]string{"true"}, 20, 0},
	}
	for _, tt := range tests {
		t.Run(tt.args[0], func(t *testing.T) {
			path, err := exec.LookPath(tt.args[0])
			if err != nil {
				t.Fatalf("no %s program: %v", tt.args[0], err)
			}
			seen := 0
			for i := range tt.runs {
				out := &collector{}
				got := record(t, testConfig(out), exec.Command(path, tt.args[1:]...))
				switch {
				case got.PeakRSS > 0 && got.LargestRSS >= got.PeakRSS:
					seen++
				case got.PeakRSS > 0 || got.LargestRSS > 0:
					t.Errorf("run %d: PeakRSS %d, LargestRSS %d; want both or neither, and the process's peak at least its RSS", i, got.PeakRSS, got.LargestRSS)
				}
				if got.PeakProcesses != 1 {
					t.Errorf("run %d: PeakProcesses = %d, want 1", i, got.PeakProcesses)
				}
				checkSeriesEndAtSummary(t, out, got)
			}
			t.Logf("%d of %d runs of %v seen alive", seen, tt.runs, tt.args)
			if seen < tt.minSeen {
				t.Errorf("%d of %d runs of %v seen alive, want at least %d", seen, tt.runs, tt.args, tt.minSeen)
			}
		})
	}
}

// TestLargestFromRusage checks the use of the child's ru_maxrss: the
// kernel starts a child made with CLONE_VM at its parent's peak, so a
// maxrss up to graphsignal's own peak may be graphsignal's and is not used;
// above it, it is the peak of a process of the tree.
func TestLargestFromRusage(t *testing.T) {
	own := procmon.OwnPeakRSS()
	if own == 0 {
		t.Fatal("OwnPeakRSS() = 0")
	}
	tests := []struct {
		name   string
		maxrss int64 // KiB
		want   uint64
	}{
		{"graphsignal's own peak", int64(own >> 10), 0},
		{"below it", int64(own>>10) / 2, 0},
		{"above it", int64(own>>10) + 64<<10, own&^1023 + 64<<20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &collector{}
			r := Start(testConfig(out), 0, time.Now()) // pid 0: not sampled
			r.StopSampling()
			exit := &launcher.Exit{Time: time.Now()}
			exit.Rusage.Maxrss = tt.maxrss
			got := r.Finish(exit, launcher.StderrTail{Mode: launcher.StderrNone}, false)
			if got.LargestRSS != tt.want {
				t.Errorf("ru_maxrss %d KiB, own peak %d KiB: LargestRSS = %d, want %d", tt.maxrss, own>>10, got.LargestRSS, tt.want)
			}
			if v, ok := got.Span.Attributes[telemetry.AttrLargestRSS]; (tt.want == 0) == ok || (ok && v != int64(tt.want)) {
				t.Errorf("attribute %s = %v, want %d (absent for 0)", telemetry.AttrLargestRSS, v, tt.want)
			}
		})
	}
}
