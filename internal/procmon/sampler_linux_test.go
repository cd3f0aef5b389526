package procmon

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startTree starts sh -c script in its own process group and kills the group
// at the end of the test. extraEnv is added to the environment.
func startTree(t testing.TB, script string, extraEnv ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", script, exe)
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %q: %v", script, err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_, _ = cmd.Process.Wait()
	})
	return cmd
}

// waitFor samples until cond holds, for at most 10 s.
func waitFor(t testing.TB, s *Sampler, what string, cond func(Sample) bool) Sample {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		x, err := s.Sample()
		if err != nil {
			t.Fatalf("Sample() = %v", err)
		}
		if cond(x) {
			return x
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sample with %s within 10s; last %+v", what, x)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newSampler(t testing.TB, pid int, opts ...Option) *Sampler {
	t.Helper()
	s, err := New(pid, opts...)
	if err != nil {
		t.Fatalf("New(%d) = %v", pid, err)
	}
	return s
}

func TestSampleTreeCounts(t *testing.T) {
	tests := []struct {
		name   string
		script string
		procs  int
	}{
		{"single", "exec sleep 100", 1},
		{"shell and two children", "sleep 100 & sleep 100 & wait", 3},
		{"nested", `sh -c 'sleep 100 & sleep 100 & wait' & sleep 100 & wait`, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := startTree(t, tt.script)
			s := newSampler(t, cmd.Process.Pid)
			// A process caught inside execve(2) has a new, still empty
			// address space (RSS 0), so wait for the tree to have settled.
			x := waitFor(t, s, "the whole tree, exec'd", func(x Sample) bool { return x.Processes == tt.procs && x.RSS > 0 })
			if x.Threads < tt.procs {
				t.Errorf("Threads = %d, want >= %d", x.Threads, tt.procs)
			}
			if x.OpenFDs < 3*tt.procs {
				t.Errorf("OpenFDs = %d, want >= %d (stdin, stdout, stderr each)", x.OpenFDs, 3*tt.procs)
			}
			if x.Virtual < x.RSS {
				t.Errorf("RSS = %d, Virtual = %d: want RSS <= Virtual", x.RSS, x.Virtual)
			}
			if x.HostMemoryTotal == 0 || x.HostMemoryUsed > x.HostMemoryTotal {
				t.Errorf("host memory %d of %d", x.HostMemoryUsed, x.HostMemoryTotal)
			}
			if x.Unreadable != 0 {
				t.Errorf("Unreadable = %d, want 0 for our own processes", x.Unreadable)
			}
		})
	}
}

// startHelper runs the test binary as a helper that allocates mib MiB, and
// returns once it is ready; closing the returned file ends it.
func startHelper(t *testing.T, path string, mib string) (*exec.Cmd, *os.File) {
	t.Helper()
	cmd := exec.Command(path, mib)
	cmd.Env = append(os.Environ(), helperEnv+"=alloc")
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
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	buf := make([]byte, 6)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("helper: read %q, %v; want ready", buf, err)
	}
	return cmd, stdout.(*os.File)
}

func TestSampleRSSOfAllocatingProcess(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd, _ := startHelper(t, exe, "64")
	s := newSampler(t, cmd.Process.Pid)
	x, err := s.Sample()
	if err != nil {
		t.Fatalf("Sample() = %v", err)
	}
	if x.Processes != 1 || x.RSS < 64<<20 {
		t.Errorf("Processes = %d, RSS = %d MiB; want 1 and >= 64 MiB", x.Processes, x.RSS>>20)
	}
	if x.Threads < 2 {
		t.Errorf("Threads = %d, want >= 2 for a Go program", x.Threads)
	}
}

// TestSampleCommWithParens runs a program named "a) (b": the stat line must
// still parse, so the root is found and sampled.
func TestSampleCommWithParens(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	odd := filepath.Join(t.TempDir(), "a) (b")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(odd, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd, _ := startHelper(t, odd, "8")
	comm, _ := os.ReadFile(filepath.Join("/proc", itoa(cmd.Process.Pid), "comm"))
	if string(comm) != "a) (b\n" {
		t.Fatalf("comm = %q, want %q", comm, "a) (b\n")
	}
	s := newSampler(t, cmd.Process.Pid)
	x, err := s.Sample()
	if err != nil {
		t.Fatalf("Sample() = %v", err)
	}
	if x.Processes != 1 || x.RSS < 8<<20 || x.Threads < 2 {
		t.Errorf("sample of %q = %+v; want 1 process, RSS >= 8 MiB, >= 2 threads", odd, x)
	}
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// waitExited blocks until pid has exited, without reaping it.
func waitExited(t *testing.T, pid int, hang bool) bool {
	t.Helper()
	var info unix.Siginfo
	opts := unix.WEXITED | unix.WNOWAIT
	if !hang {
		opts |= unix.WNOHANG
	}
	if err := unix.Waitid(unix.P_PID, pid, &info, opts, nil); err != nil {
		t.Fatalf("waitid(%d) = %v", pid, err)
	}
	// With WNOHANG and no exited child, the kernel leaves si_pid zero.
	return info.Signo == int32(unix.SIGCHLD)
}

// reap reaps pid and returns its rusage CPU time (user+sys).
func reap(t *testing.T, cmd *exec.Cmd) (user, sys time.Duration) {
	t.Helper()
	var ws unix.WaitStatus
	var ru unix.Rusage
	if _, err := unix.Wait4(cmd.Process.Pid, &ws, 0, &ru); err != nil {
		t.Fatalf("wait4 = %v", err)
	}
	_ = cmd.Process.Release()
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// TestShortLivedChildrenCount forks 100 busy processes of ~20 ms each and
// checks that the zombie root's sample matches wait4's rusage within 5%.
func TestShortLivedChildrenCount(t *testing.T) {
	// Each child: a shell loop of about 20 ms of CPU.
	script := `busy='i=0; while [ $i -lt 10000 ]; do i=$((i+1)); done'
		i=0; while [ $i -lt 25 ]; do
			sh -c "$busy" & sh -c "$busy" & sh -c "$busy" & sh -c "$busy" & wait; i=$((i+1))
		done`
	cmd := startTree(t, script)
	s := newSampler(t, cmd.Process.Pid)
	var last Sample
	check := func(x Sample) {
		t.Helper()
		if x.CPUUser < last.CPUUser || x.CPUSystem < last.CPUSystem || x.ReadBytes < last.ReadBytes || x.WriteBytes < last.WriteBytes {
			t.Errorf("totals went down: %+v after %+v", x, last)
		}
		last = x
	}
	for !waitExited(t, cmd.Process.Pid, false) {
		x, err := s.Sample()
		if err != nil {
			t.Fatalf("Sample() = %v", err)
		}
		check(x)
		time.Sleep(100 * time.Millisecond)
	}
	zombie, err := s.Sample()
	if err != nil {
		t.Fatalf("Sample() of the zombie root = %v", err)
	}
	check(zombie)
	if zombie.Processes != 1 {
		t.Errorf("zombie sample has %d processes, want 1", zombie.Processes)
	}
	user, sys := reap(t, cmd)
	got, want := zombie.CPUUser+zombie.CPUSystem, user+sys
	t.Logf("sampled %v (user %v sys %v), wait4 %v (user %v sys %v), %d samples",
		got, zombie.CPUUser, zombie.CPUSystem, want, user, sys, s.Summary().Samples)
	if want < 500*time.Millisecond {
		t.Fatalf("wait4 CPU %v: the workload did not run", want)
	}
	if d := math.Abs(float64(got-want)) / float64(want); d > 0.05 {
		t.Errorf("sampled CPU %v differs from wait4's %v by %.1f%%, want <= 5%%", got, want, 100*d)
	}
	after, err := s.Sample()
	if err != nil {
		t.Fatalf("Sample() after reaping = %v", err)
	}
	check(after)
	if after.Processes != 0 || after.CPUUser != zombie.CPUUser || after.CPUSystem != zombie.CPUSystem {
		t.Errorf("sample after reaping = %+v, want no processes and the zombie's totals", after)
	}
}

// TestOrphanKeepsTotals orphans a busy process: its time while in the tree
// must stay in the totals after it leaves.
func TestOrphanKeepsTotals(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "go")
	// The middle shell starts a long busy loop, waits for the flag file and
	// exits, which orphans the loop (the test process kills it at the end).
	script := `sh -c 'sh -c "i=0; while [ \$i -lt 2000000 ]; do i=\$((i+1)); done" &
		while [ ! -e "$0" ]; do sleep 0.02; done' '` + flag + `'; sleep 0.3`
	cmd := startTree(t, script)
	s := newSampler(t, cmd.Process.Pid)
	before := waitFor(t, s, "200ms of CPU", func(x Sample) bool { return x.CPUUser+x.CPUSystem >= 200*time.Millisecond })
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	last := before
	minProcs := before.Processes
	for !waitExited(t, cmd.Process.Pid, false) {
		x, err := s.Sample()
		if err != nil {
			t.Fatalf("Sample() = %v", err)
		}
		if x.CPUUser+x.CPUSystem < last.CPUUser+last.CPUSystem {
			t.Errorf("CPU went down: %v after %v", x.CPUUser+x.CPUSystem, last.CPUUser+last.CPUSystem)
		}
		minProcs = min(minProcs, x.Processes)
		last = x
		time.Sleep(20 * time.Millisecond)
	}
	x, err := s.Sample()
	if err != nil {
		t.Fatalf("Sample() = %v", err)
	}
	user, sys := reap(t, cmd)
	t.Logf("before orphaning %v in %d processes; at exit %v, root's wait4 %v", before.CPUUser+before.CPUSystem,
		before.Processes, x.CPUUser+x.CPUSystem, user+sys)
	if x.CPUUser+x.CPUSystem < before.CPUUser+before.CPUSystem {
		t.Errorf("CPU at exit %v < %v before the orphan left", x.CPUUser+x.CPUSystem, before.CPUUser+before.CPUSystem)
	}
	if before.Processes < 3 || minProcs > 2 {
		t.Errorf("processes: %d before, min %d after; want >= 3 then <= 2 (the orphan left)", before.Processes, minProcs)
	}
}

func TestSampleRootExited(t *testing.T) {
	cmd := startTree(t, "exit 3")
	s := newSampler(t, cmd.Process.Pid) // a zombie or still running: both exist
	waitExited(t, cmd.Process.Pid, true)
	zombie, err := s.Sample()
	if err != nil || zombie.Processes != 1 || zombie.RSS != 0 {
		t.Errorf("Sample() of a zombie = %+v, %v; want 1 process without RSS", zombie, err)
	}
	reap(t, cmd)
	gone, err := s.Sample()
	if err != nil || gone.Processes != 0 || gone.CPUUser != zombie.CPUUser {
		t.Errorf("Sample() after reaping = %+v, %v; want no processes, same totals", gone, err)
	}
	if _, err := New(cmd.Process.Pid); !errors.Is(err, ErrNoProcess) {
		t.Errorf("New(reaped pid) = %v, want ErrNoProcess", err)
	}
	if _, err := New(-1); !errors.Is(err, ErrNoProcess) {
		t.Errorf("New(-1) = %v, want ErrNoProcess", err)
	}
}

// BenchmarkSample measures a steady-state pass over a 20-process tree. It
// reports, besides wall time, the CPU time of a pass (cpu-ns/op, from
// getrusage: on a loaded machine wall time overstates it) and the share of
// one core that sampling at 1 Hz costs.
func BenchmarkSample(b *testing.B) {
	benchmarkSample(b, false)
}

// BenchmarkSampleCold measures a first pass, which reads the stat of every
// process on the host.
func BenchmarkSampleCold(b *testing.B) {
	benchmarkSample(b, true)
}

func benchmarkSample(b *testing.B, cold bool) {
	cmd := startTree(b, `for i in $(seq 19); do sleep 1000 & done; wait`)
	s := newSampler(b, cmd.Process.Pid)
	waitFor(b, s, "20 processes", func(x Sample) bool { return x.Processes == 20 })
	entries, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	procs := 0
	for _, e := range entries {
		if e.Name()[0] >= '0' && e.Name()[0] <= '9' {
			procs++
		}
	}
	b.ReportAllocs()
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for b.Loop() {
		if cold {
			s = newSampler(b, cmd.Process.Pid)
		}
		if _, err := s.Sample(); err != nil {
			b.Fatal(err)
		}
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := float64(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) / float64(b.N)
	b.ReportMetric(cpu, "cpu-ns/op")
	b.ReportMetric(cpu/1e9*100, "%core@1Hz")
	b.ReportMetric(float64(procs), "procs_on_host")
}
