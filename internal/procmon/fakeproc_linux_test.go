package procmon

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// fakeProc lays out a /proc-like directory: every process has stat, io and
// an fd directory.
type fakeProc struct {
	t   *testing.T
	dir string
}

type fakeProcess struct {
	pid, ppid     int
	utime, cutime int
	start         int
	readBytes     int
	fds           int
}

func newFakeProc(t *testing.T) *fakeProc {
	p := &fakeProc{t: t, dir: t.TempDir()}
	p.write("stat", "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 1 1 1\n")
	p.write("meminfo", "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 400 kB\n")
	return p
}

func (p *fakeProc) write(name, content string) {
	p.t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *fakeProc) add(f fakeProcess) {
	p.t.Helper()
	pid := fmt.Sprint(f.pid)
	p.write(pid+"/stat", fmt.Sprintf("%d (proc %d) S %d 1 1 0 -1 0 0 0 0 0 %d 0 %d 0 20 0 1 0 %d 4096 2 0\n",
		f.pid, f.pid, f.ppid, f.utime, f.cutime, f.start))
	p.write(pid+"/io", fmt.Sprintf("read_bytes: %d\nwrite_bytes: 0\n", f.readBytes))
	if err := os.MkdirAll(filepath.Join(p.dir, pid, "fd"), 0o755); err != nil {
		p.t.Fatal(err)
	}
	for i := range f.fds {
		p.write(fmt.Sprintf("%s/fd/%d", pid, i), "")
	}
}

func TestSampleFakeProcMembership(t *testing.T) {
	tree := []fakeProcess{
		{pid: 1, ppid: 0, utime: 1000, start: 1},
		{pid: 50, ppid: 1, utime: 1000, start: 5}, // the launcher
		{pid: 100, ppid: 50, utime: 10, cutime: 5, start: 10, readBytes: 1, fds: 3},
		{pid: 101, ppid: 100, utime: 20, start: 11, readBytes: 2, fds: 1},
		{pid: 102, ppid: 101, utime: 40, start: 12, readBytes: 4},
		{pid: 200, ppid: 1, utime: 1000, start: 20},            // unrelated
		{pid: 300, ppid: 50, utime: 80, start: 30, fds: 2},     // orphan adopted by the launcher
		{pid: 60, ppid: 50, utime: 7, start: 9},                // the launcher's helper, started before the root
		{pid: 61, ppid: 50, utime: 7, start: 10},               // or in the same clock tick
		{pid: 400, ppid: 401, utime: 1000, start: 40},          // a parent cycle
		{pid: 401, ppid: 400, utime: 1000, start: 41},          // (never from a kernel)
		{pid: 500, ppid: 999, utime: 1000, start: 50},          // parent missing
		{pid: 103, ppid: 102, utime: 1000, start: 13, fds: 50}, // child of 102, listed before it
	}
	tests := []struct {
		name      string
		opts      []Option
		procs     int
		cpu       time.Duration
		read, fds int
	}{
		{"descendants of the root", nil, 4, (15 + 20 + 40 + 1000) * tick, 7, 54},
		{"with the adopter's children", []Option{WithAdopter(50)}, 5, (15 + 20 + 40 + 1000 + 80) * tick, 7, 56},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newFakeProc(t)
			for _, f := range tree {
				p.add(f)
			}
			clock := newFakeClock()
			s, err := New(100, append(tt.opts, WithProcDir(p.dir), WithClock(clock))...)
			if err != nil {
				t.Fatalf("New(100) = %v", err)
			}
			x, err := s.Sample()
			if err != nil {
				t.Fatalf("Sample() = %v", err)
			}
			if x.Processes != tt.procs || x.CPUUser != tt.cpu || x.ReadBytes != uint64(tt.read) || x.OpenFDs != tt.fds {
				t.Errorf("Sample() = %d processes, CPU %v, read %d, fds %d; want %d, %v, %d, %d",
					x.Processes, x.CPUUser, x.ReadBytes, x.OpenFDs, tt.procs, tt.cpu, tt.read, tt.fds)
			}
			if x.Threads != tt.procs || x.RSS != uint64(tt.procs*2*os.Getpagesize()) || x.Virtual != uint64(tt.procs*4096) {
				t.Errorf("Sample() threads %d, RSS %d, virtual %d; want one thread, 2 pages, 4096 bytes each",
					x.Threads, x.RSS, x.Virtual)
			}
			if x.HostMemoryTotal != 1000<<10 || x.HostMemoryUsed != 600<<10 {
				t.Errorf("host memory %d of %d, want %d of %d", x.HostMemoryUsed, x.HostMemoryTotal, 600<<10, 1000<<10)
			}

			// Next pass: host CPU moved; the root's pid now belongs to a
			// new process (another start time), so the tree is gone but
			// its totals stay.
			p.write("stat", "cpu  150 0 150 900 0 0 0 0 0 0\n")
			p.add(fakeProcess{pid: 100, ppid: 50, utime: 1, start: 99})
			clock.advance(time.Second)
			y, err := s.Sample()
			if err != nil {
				t.Fatalf("Sample() = %v", err)
			}
			if y.HostCPUPercent != 50 {
				t.Errorf("HostCPUPercent = %v, want 50", y.HostCPUPercent)
			}
			wantProcs := 0
			if tt.opts != nil {
				wantProcs = 1 // the adopted orphan 300
			}
			if y.Processes != wantProcs || y.CPUUser != x.CPUUser || y.ReadBytes != x.ReadBytes {
				t.Errorf("after the root's pid was reused: %d processes, CPU %v, read %d; want %d, %v, %d",
					y.Processes, y.CPUUser, y.ReadBytes, wantProcs, x.CPUUser, x.ReadBytes)
			}
		})
	}
}

func TestSampleFakeProcMalformed(t *testing.T) {
	p := newFakeProc(t)
	p.add(fakeProcess{pid: 100, ppid: 1, utime: 10, start: 10})
	p.add(fakeProcess{pid: 101, ppid: 100, utime: 10, start: 11})
	p.write("101/stat", "101 (bad) S 100 truncated")
	p.write("100/io", "garbage")
	s, err := New(100, WithProcDir(p.dir))
	if err != nil {
		t.Fatalf("New(100) = %v", err)
	}
	x, err := s.Sample()
	if err != nil {
		t.Fatalf("Sample() = %v", err)
	}
	if x.Processes != 1 || x.CPUUser != 10*tick || x.ReadBytes != 0 {
		t.Errorf("Sample() = %+v; want the malformed process skipped, the bad io ignored", x)
	}
	p.write("100/stat", "100 (bad) S")
	if _, err := New(100, WithProcDir(p.dir)); err == nil {
		t.Errorf("New(100) with a malformed stat = nil, want an error")
	}
	if _, err := New(100, WithProcDir(filepath.Join(p.dir, "missing"))); err == nil {
		t.Errorf("New(100) without a proc dir = nil, want an error")
	}
}

// TestSampleFakeProcShortReads: getdents64 on /proc returns fewer entries
// than fit whenever a signal is pending (Go's preemption sends many), not
// only at the end. A pass that took a short read for the end missed the
// rest of /proc, the root included, and the next pass counted the root's
// CPU time twice (the CI flake of testdata/script/accounting.txtar).
func TestSampleFakeProcShortReads(t *testing.T) {
	p := newFakeProc(t)
	p.add(fakeProcess{pid: 1, ppid: 0, utime: 1000, start: 1})
	for i := range 40 {
		p.add(fakeProcess{pid: 2 + i, ppid: 1, utime: 1000, start: 2}) // unrelated, listed first
	}
	p.add(fakeProcess{pid: 100, ppid: 1, utime: 10, start: 10, fds: 30})
	p.add(fakeProcess{pid: 101, ppid: 100, utime: 20, start: 11, fds: 30})
	s, err := New(100, WithProcDir(p.dir))
	if err != nil {
		t.Fatalf("New(100) = %v", err)
	}
	// At most two entries a call, and a short read every time.
	s.os.getdents = func(fd int, buf []byte) (int, error) { return syscall.Getdents(fd, buf[:64]) }
	for pass := range 3 {
		x, err := s.Sample()
		if err != nil {
			t.Fatalf("Sample() = %v", err)
		}
		if x.Processes != 2 || x.CPUUser != 30*tick || x.OpenFDs != 60 {
			t.Errorf("pass %d: %d processes, CPU %v, %d fds; want 2, %v, 60", pass, x.Processes, x.CPUUser, x.OpenFDs, 30*tick)
		}
	}
}
