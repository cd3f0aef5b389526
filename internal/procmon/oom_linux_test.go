package procmon

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// makeMemoryCgroup creates a child of this process's memory cgroup limited to
// limit bytes without swap, or skips the test where that is not permitted.
func makeMemoryCgroup(t *testing.T, limit int) string {
	t.Helper()
	v2Path, v1Path, err := Cgroups{}.cgroupPaths(os.Getpid())
	if err != nil {
		t.Skipf("no memory cgroup: %v", err)
	}
	v2, v1, err := Cgroups{}.mountedDirs(v2Path, v1Path)
	if err != nil {
		t.Skipf("no memory cgroup: %v", err)
	}
	name := fmt.Sprintf("procmon-test-%d", os.Getpid())
	var dir string
	var files []string
	switch {
	case v1 != "":
		dir = filepath.Join(v1, name)
		files = []string{"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"}
	case v2 != "":
		dir = filepath.Join(v2, name)
		files = []string{"memory.max", "memory.swap.max"}
	default:
		t.Skip("no memory cgroup")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot create a memory cgroup here: %v", err)
	}
	t.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			t.Errorf("remove cgroup: %v", err)
		}
	})
	if err := os.WriteFile(filepath.Join(dir, files[0]), []byte(fmt.Sprint(limit)), 0o644); err != nil {
		t.Skipf("cannot limit memory: %v", err)
	}
	swap := fmt.Sprint(limit)
	if v1 == "" {
		swap = "0"
	}
	_ = os.WriteFile(filepath.Join(dir, files[1]), []byte(swap), 0o644) // absent without swap accounting
	return dir
}

// TestOOMKillsRealOOM runs a process that outgrows a 32 MiB cgroup: the
// kernel kills it with SIGKILL and the cgroup's counter goes from 0 to 1.
// The counter is located through a sleeping process of the same cgroup, as
// the launcher locates it through itself.
func TestOOMKillsRealOOM(t *testing.T) {
	dir := makeMemoryCgroup(t, 32<<20)
	sleeper := startTree(t, `echo $$ > "$CG/cgroup.procs" && exec sleep 100`, "CG="+dir)
	ctr := waitForCounter(t, sleeper.Process.Pid, dir)
	before, err := ctr.Read()
	if err != nil || before != 0 {
		t.Fatalf("Read() before = %d, %v; want 0", before, err)
	}

	hog := startTree(t, `echo $$ > "$CG/cgroup.procs" && exec "$0" 256`, helperEnv+"=alloc", "CG="+dir)
	var ws unix.WaitStatus
	if _, err := unix.Wait4(hog.Process.Pid, &ws, 0, nil); err != nil {
		t.Fatalf("wait4 = %v", err)
	}
	_ = hog.Process.Release()
	if !ws.Signaled() || ws.Signal() != unix.SIGKILL {
		t.Fatalf("memory hog ended with %v (exit %d), want SIGKILL from the OOM killer", ws, ws.ExitStatus())
	}
	after, err := ctr.Read()
	if err != nil || after != 1 {
		t.Errorf("Read() after the OOM kill = %d, %v; want 1", after, err)
	}
	if n, err := (Cgroups{}).OOMKills(sleeper.Process.Pid); err != nil || n != after {
		t.Errorf("OOMKills(sleeper) = %d, %v; want %d", n, err, after)
	}
	_ = unix.Kill(sleeper.Process.Pid, unix.SIGKILL)
	_, _ = sleeper.Process.Wait()
}

// waitForCounter locates the counter of pid once it has moved into dir.
func waitForCounter(t *testing.T, pid int, dir string) OOMCounter {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctr, err := Cgroups{}.OOMCounter(pid)
		if err == nil && ctr.Dir() == dir {
			return ctr
		}
		if time.Now().After(deadline) {
			t.Fatalf("OOMCounter(%d) = %q, %v; want the counter of %s", pid, ctr.Dir(), err, dir)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
