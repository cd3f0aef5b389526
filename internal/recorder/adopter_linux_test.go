package recorder

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/launcher"
)

// startTick returns the start time of pid in clock ticks (field 22 of
// /proc/<pid>/stat).
func startTick(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	v, err := strconv.ParseUint(fields[22-3], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// startSleep starts a sleep that the test kills at its end.
func startSleep(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// TestAdopterChildrenCounted stands in for graphsignal as PID 1, where
// orphans of the program are re-parented to graphsignal: with Adopter set
// to this process, a child of this process started after the program (as an
// orphan of the program would be) is part of the run's tree; one started
// before the program (graphsignal's stderr keeper) is not, nor is any
// without an Adopter.
func TestAdopterChildrenCounted(t *testing.T) {
	tests := []struct {
		name        string
		adopter     bool
		otherBefore bool // the other child is started before the root
		want        int
	}{
		{"orphan", true, false, 2},
		{"helper started before the program", true, true, 1},
		{"no adopter", false, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var root *exec.Cmd
			if tt.otherBefore {
				startSleep(t)
				root = startSleep(t)
			} else {
				root = startSleep(t)
				// The tree takes the adopter's children that started in a
				// later clock tick than the root.
				for other := startSleep(t); startTick(t, other.Process.Pid) <= startTick(t, root.Process.Pid); other = startSleep(t) {
				}
			}
			out := &collector{}
			cfg := testConfig(out)
			if tt.adopter {
				cfg.Adopter = os.Getpid()
			}
			r := Start(cfg, root.Process.Pid, time.Now())
			// The first sample reads the root alone; the quick passes that
			// follow read the whole tree.
			deadline := time.Now().Add(10 * time.Second)
			for r.sampler.Summary().Samples < 3 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			r.StopSampling()
			got := r.Finish(&launcher.Exit{Time: time.Now()}, launcher.StderrTail{Mode: launcher.StderrNone}, false)
			if got.PeakProcesses != tt.want {
				t.Errorf("PeakProcesses = %d, want %d", got.PeakProcesses, tt.want)
			}
		})
	}
}
