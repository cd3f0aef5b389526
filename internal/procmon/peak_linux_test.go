package procmon

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

func TestParseStatusMemory(t *testing.T) {
	tests := []struct {
		in      string
		want    statusMemory
		wantErr bool
	}{
		{"Name:\tsleep\nVmPeak:\t    8408 kB\nVmSize:\t    8404 kB\nVmHWM:\t    1832 kB\nVmRSS:\t     996 kB\n", statusMemory{rss: 996 << 10, hwm: 1832 << 10, size: 8404 << 10}, false},
		{"Name:\tkthreadd\nState:\tS (sleeping)\nThreads:\t1\n", statusMemory{}, false}, // no address space
		{"Name:\tx\nVmRSS:\t  8 kB\nVmHWM:\t  12 kB", statusMemory{rss: 8 << 10, hwm: 12 << 10}, false},
		{"VmHWM:\t12 kB\n", statusMemory{}, false}, // first line: not a status file's layout
		{"Name:\tx\nVmHWM:\t  twelve kB\n", statusMemory{}, true},
		{"Name:\tx\nVmRSS:\t\n", statusMemory{}, true},
		{"Name:\tx\nVmRSS:\t99999999999999999999 kB\n", statusMemory{}, true},
		{"Name:\tx\nVmSize:\tlots\nVmRSS:\t8 kB\n", statusMemory{}, true},
	}
	for _, tt := range tests {
		got, err := parseStatusMemory([]byte(tt.in))
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseStatusMemory(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestLargestPeakRSS samples a process that touched 96 MiB and gave the
// pages back before the first sample: the sampled RSS misses that peak, the
// process's own high-water mark does not.
func TestLargestPeakRSS(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "96")
	cmd.Env = append(os.Environ(), helperEnv+"=allocfree")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	buf := make([]byte, 6)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("helper: read %q, %v; want ready", buf, err)
	}
	s := newSampler(t, cmd.Process.Pid)
	x, err := s.Sample()
	if err != nil {
		t.Fatal(err)
	}
	// The race detector's shadow of the touched pages stays resident: only
	// the difference is what was given back.
	if x.LargestPeakRSS < x.RSS+64<<20 {
		t.Errorf("RSS %d MiB, LargestPeakRSS %d MiB; want the 96 MiB given back in the peak, not in the RSS", x.RSS>>20, x.LargestPeakRSS>>20)
	}
	if got := s.Summary().LargestPeakRSS; got != x.LargestPeakRSS {
		t.Errorf("Summary().LargestPeakRSS = %d, want the sample's %d", got, x.LargestPeakRSS)
	}
	if own := OwnPeakRSS(); own == 0 {
		t.Errorf("OwnPeakRSS() = 0, want this process's peak")
	}
}

// TestFreshRootSchedule checks Run with a fresh root: the sample New took
// comes first, then one every 50 ms for the first second, then one every
// twentieth of the run's age, up to the interval.
func TestFreshRootSchedule(t *testing.T) {
	tests := []struct {
		interval, runFor time.Duration
		wantSamples      int
	}{
		// 1 + 20 in the first second, then about 20*ln(t) more.
		{time.Second, 3 * time.Second, 43},
		{time.Second, 60 * time.Second, 122}, // 81 by 20 s, when the ramp ends; then one a second
		{20 * time.Millisecond, time.Second, 50},
	}
	for _, tt := range tests {
		t.Run(tt.interval.String()+"/"+tt.runFor.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, err := New(os.Getpid(), WithFreshRoot())
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(t.Context(), tt.runFor)
				defer cancel()
				var got []Sample
				if err := s.Run(ctx, tt.interval, func(x Sample) { got = append(got, x) }); err != nil {
					t.Fatalf("Run() = %v", err)
				}
				if len(got) < tt.wantSamples-2 || len(got) > tt.wantSamples+2 {
					t.Errorf("%d samples in %v, want about %d", len(got), tt.runFor, tt.wantSamples)
				}
				if got[0].Interval != 0 || got[0].Processes != 1 {
					t.Errorf("first sample: Interval %v, %d processes; want 0, the root alone", got[0].Interval, got[0].Processes)
				}
				for i := 1; i < len(got); i++ {
					age := got[i-1].Time.Sub(got[0].Time)
					want := min(max(age/20, 50*time.Millisecond), tt.interval)
					if got[i].Interval != want {
						t.Fatalf("sample %d at %v: Interval %v, want %v", i, age, got[i].Interval, want)
					}
				}
			})
		})
	}
}

// TestFreshRootSampledInNew checks that New with a fresh root samples the
// root before it returns: a root that is gone by the time Run starts (true
// lives about a millisecond) is still in the series, with its memory.
// Run hands that sample on even when its context is already done.
func TestFreshRootSampledInNew(t *testing.T) {
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s, err := New(cmd.Process.Pid, WithFreshRoot())
	if err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var got []Sample
	if err := s.Run(ctx, time.Second, func(x Sample) { got = append(got, x) }); err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if len(got) != 1 || got[0].Processes != 1 || got[0].RSS == 0 || got[0].LargestPeakRSS < got[0].RSS {
		t.Fatalf("emitted %+v, want New's sample of the live root", got)
	}
	if sum := s.Summary(); sum.Samples != 1 || sum.PeakRSS != got[0].RSS {
		t.Errorf("Summary() = %+v, want the one sample", sum)
	}
}

// TestRSSExact samples a stopped process: its RSS must be the exact
// VmRSS of /proc/<pid>/status, not the rss field of /proc/<pid>/stat,
// which reads per-CPU counters without summing them (since Linux 6.2) and
// is off by up to a few hundred pages, 0 for a process that just started.
func TestRSSExact(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd, _ := startHelper(t, exe, "8")
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGCONT) }()
	waitFor(t, newSampler(t, os.Getpid()), "the helper stopped", func(Sample) bool {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
		return err == nil && strings.Contains(string(b), ") T ")
	})
	b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	want, err := parseStatusMemory(b)
	if err != nil {
		t.Fatal(err)
	}
	x, err := newSampler(t, cmd.Process.Pid).Sample()
	if err != nil {
		t.Fatal(err)
	}
	if x.RSS != want.rss || x.LargestPeakRSS != want.hwm {
		t.Errorf("RSS %d, LargestPeakRSS %d; want VmRSS %d, VmHWM %d", x.RSS, x.LargestPeakRSS, want.rss, want.hwm)
	}
}
