package procmon

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

const (
	mountsHybrid = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
	mountsV2       = "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
	mountsV1Docker = "35 31 0:32 /docker/abc /sys/fs/cgroup/memory ro master:15 - cgroup cgroup rw,memory\n"
	mountsSpace    = "30 23 0:26 / /mnt/my\\040cg rw - cgroup2 cgroup2 rw\n"
	events         = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n"
)

func TestOOMKills(t *testing.T) {
	tests := []struct {
		name    string
		cgroup  string            // /proc/<pid>/cgroup
		mounts  string            // /proc/self/mountinfo
		files   map[string]string // under the fake root
		want    uint64
		wantErr error // nil, ErrNoOOMCounter or errMalformed
	}{
		{
			name:   "v2 memory.events",
			cgroup: "0::/user.slice/run-1.scope\n", mounts: mountsV2,
			files: map[string]string{"sys/fs/cgroup/user.slice/run-1.scope/memory.events": events},
			want:  2,
		},
		{
			name:   "v2 memory.events.local larger",
			cgroup: "0::/a\n", mounts: mountsV2,
			files: map[string]string{
				"sys/fs/cgroup/a/memory.events":       events,
				"sys/fs/cgroup/a/memory.events.local": "oom_kill 5\n",
			},
			want: 5,
		},
		{
			name:   "v2 only memory.events.local",
			cgroup: "0::/a\n", mounts: mountsV2,
			files: map[string]string{"sys/fs/cgroup/a/memory.events.local": "oom 1\noom_kill 1\n"},
			want:  1,
		},
		{
			name:   "v2 root cgroup has no counter",
			cgroup: "0::/\n", mounts: mountsV2,
			files:   map[string]string{"sys/fs/cgroup/cgroup.procs": "1\n"},
			wantErr: ErrNoOOMCounter,
		},
		{
			name:   "hybrid: v1 memory controller",
			cgroup: "9:name=systemd:/\n4:memory:/process_api/3f88\n1:cpu:/\n0::/\n", mounts: mountsHybrid,
			files: map[string]string{
				"sys/fs/cgroup/memory/process_api/3f88/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 7\n",
			},
			want: 7,
		},
		{
			name:   "v1 mount root inside the container",
			cgroup: "4:memory:/docker/abc\n", mounts: mountsV1Docker,
			files: map[string]string{"sys/fs/cgroup/memory/memory.oom_control": "oom_kill 4\n"},
			want:  4,
		},
		{
			name:   "v1 on a kernel without oom_kill",
			cgroup: "4:memory:/x\n", mounts: mountsHybrid,
			files:   map[string]string{"sys/fs/cgroup/memory/x/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\n"},
			wantErr: ErrNoOOMCounter,
		},
		{
			name:   "mount point with a space",
			cgroup: "0::/a\n", mounts: mountsSpace,
			files: map[string]string{"mnt/my cg/a/memory.events": events},
			want:  2,
		},
		{
			name:   "path escaping the mount",
			cgroup: "0::/../../etc\n", mounts: mountsV2,
			files:   map[string]string{"etc/memory.events": events},
			wantErr: ErrNoOOMCounter,
		},
		{
			name:   "cgroup outside the mount's root",
			cgroup: "4:memory:/other\n", mounts: mountsV1Docker,
			files:   map[string]string{"sys/fs/cgroup/memory/memory.oom_control": "oom_kill 4\n"},
			wantErr: ErrNoOOMCounter,
		},
		{
			name:   "no cgroup file system",
			cgroup: "0::/a\n", mounts: "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n",
			wantErr: ErrNoOOMCounter,
		},
		{
			name:   "malformed counter",
			cgroup: "0::/a\n", mounts: mountsV2,
			files:   map[string]string{"sys/fs/cgroup/a/memory.events": "oom_kill lots\n"},
			wantErr: errMalformed,
		},
		{
			name:   "counter without a value",
			cgroup: "4:memory:/x\n", mounts: mountsHybrid,
			files:   map[string]string{"sys/fs/cgroup/memory/x/memory.oom_control": "oom_kill\n"},
			wantErr: errMalformed,
		},
		{
			name:   "v2 at the conventional mount point needs no mountinfo",
			cgroup: "0::/a\n", mounts: "",
			files: map[string]string{"sys/fs/cgroup/a/memory.events": events},
			want:  2,
		},
		{
			name:   "v1 memory at the conventional mount point needs no mountinfo",
			cgroup: "4:memory:/process_api/3f88\n0::/\n", mounts: "",
			files: map[string]string{"sys/fs/cgroup/memory/process_api/3f88/memory.oom_control": "oom_kill 7\n"},
			want:  7,
		},
		{
			name:   "garbage lines are skipped",
			cgroup: "junk\n::\n0::/a\n", mounts: "junk\n1 2 3 - cgroup2\n" + mountsV2,
			files: map[string]string{"sys/fs/cgroup/a/memory.events": events},
			want:  2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proc, root := t.TempDir(), t.TempDir()
			writeFiles(t, proc, map[string]string{"42/cgroup": tt.cgroup, "self/mountinfo": tt.mounts})
			writeFiles(t, root, tt.files)
			got, err := Cgroups{ProcDir: proc, Root: root}.OOMKills(42)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("OOMKills(42) = %d, %v; want error %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("OOMKills(42) = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestMemoryLimit(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		name    string
		cgroup  string            // /proc/<pid>/cgroup
		mounts  string            // /proc/self/mountinfo
		files   map[string]string // under the fake root, besides the OOM counter
		want    uint64
		wantErr bool
	}{
		{name: "v2 memory.max", cgroup: "0::/a/b\n", mounts: mountsV2,
			files: map[string]string{"sys/fs/cgroup/a/b/memory.max": "8589934592\n"}, want: 8 * gib},
		{name: "v2 max is no limit", cgroup: "0::/a/b\n", mounts: mountsV2,
			files: map[string]string{"sys/fs/cgroup/a/b/memory.max": "max\n", "sys/fs/cgroup/a/memory.max": "max\n"}},
		{name: "v2 a parent's smaller limit applies", cgroup: "0::/a/b\n", mounts: mountsV2,
			files: map[string]string{"sys/fs/cgroup/a/b/memory.max": "8589934592\n", "sys/fs/cgroup/a/memory.max": "4294967296\n"},
			want:  4 * gib},
		{name: "v2 the smallest along the way", cgroup: "0::/a/b\n", mounts: mountsV2,
			files: map[string]string{"sys/fs/cgroup/a/b/memory.max": "2147483648\n", "sys/fs/cgroup/a/memory.max": "4294967296\n"},
			want:  2 * gib},
		{name: "v2 a parent's limit under max", cgroup: "0::/a/b\n", mounts: mountsV2,
			files: map[string]string{"sys/fs/cgroup/a/b/memory.max": "max\n", "sys/fs/cgroup/a/memory.max": "4294967296\n"},
			want:  4 * gib},
		{name: "v2 the walk stops at a cgroup without memory.max", cgroup: "0::/a/b\n", mounts: mountsV2,
			files: map[string]string{"sys/fs/cgroup/a/b/memory.max": "max\n", "sys/fs/memory.max": "1024\n"}},
		{name: "v2 no memory.max", cgroup: "0::/a\n", mounts: mountsV2,
			files: map[string]string{"sys/fs/cgroup/a/memory.events": events}},
		{name: "v2 zero is no limit", cgroup: "0::/a\n", mounts: mountsV2,
			files: map[string]string{"sys/fs/cgroup/a/memory.max": "0\n"}},
		{name: "v1 memory.limit_in_bytes", cgroup: "4:memory:/docker/abc\n", mounts: mountsV1Docker,
			files: map[string]string{"sys/fs/cgroup/memory/memory.limit_in_bytes": "536870912\n"}, want: gib / 2},
		{name: "v1 unlimited", cgroup: "4:memory:/x\n", mounts: mountsHybrid,
			files: map[string]string{"sys/fs/cgroup/memory/x/memory.limit_in_bytes": "9223372036854771712\n",
				"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}},
		{name: "malformed", cgroup: "0::/a\n", mounts: mountsV2,
			files: map[string]string{"sys/fs/cgroup/a/memory.max": "lots\n"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proc, root := t.TempDir(), t.TempDir()
			writeFiles(t, proc, map[string]string{"42/cgroup": tt.cgroup, "self/mountinfo": tt.mounts})
			// Each directory given a file gets an OOM counter too, so that
			// OOMCounter locates the cgroup.
			counter := map[string]string{}
			for name := range tt.files {
				counter[filepath.Join(filepath.Dir(name), "memory.events")] = events
				counter[filepath.Join(filepath.Dir(name), "memory.oom_control")] = "oom_kill 0\n"
			}
			writeFiles(t, root, counter)
			writeFiles(t, root, tt.files)
			ctr, err := Cgroups{ProcDir: proc, Root: root}.OOMCounter(42)
			if err != nil {
				t.Fatalf("OOMCounter(42) = %v", err)
			}
			got, err := ctr.MemoryLimit()
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("MemoryLimit() = %d, %v; want %d (error: %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if got, err := (OOMCounter{}).MemoryLimit(); got != 0 || err != nil {
		t.Errorf("OOMCounter{}.MemoryLimit() = %d, %v; want 0, nil", got, err)
	}
}

func TestOOMKillsNoProcess(t *testing.T) {
	_, err := Cgroups{ProcDir: t.TempDir()}.OOMKills(42)
	if !errors.Is(err, ErrNoOOMCounter) {
		t.Errorf("OOMKills of a missing process = %v, want ErrNoOOMCounter", err)
	}
}

func TestHostOOMKills(t *testing.T) {
	proc := t.TempDir()
	writeFiles(t, proc, map[string]string{"vmstat": "nr_free_pages 1\noom_kill 9\n"})
	if got, err := (Cgroups{ProcDir: proc}).HostOOMKills(); err != nil || got != 9 {
		t.Errorf("HostOOMKills() = %d, %v; want 9", got, err)
	}
}

// TestOOMKillsThisMachine reads the real counter of this process's cgroup.
func TestOOMKillsThisMachine(t *testing.T) {
	n, err := Cgroups{}.OOMKills(os.Getpid())
	if errors.Is(err, ErrNoOOMCounter) {
		t.Skipf("no cgroup OOM counter here: %v", err)
	}
	if err != nil {
		t.Fatalf("OOMKills(self) = %v", err)
	}
	t.Logf("oom_kill of this process's memory cgroup: %d", n)
	if host, err := (Cgroups{}).HostOOMKills(); err == nil {
		t.Logf("host oom_kill: %d", host)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkOOMCounter locates and reads this process's OOM-kill counter, as
// every run does while its child starts.
func BenchmarkOOMCounter(b *testing.B) {
	if _, err := (Cgroups{}).OOMCounter(os.Getpid()); err != nil {
		b.Skipf("no cgroup counter here: %v", err)
	}
	for b.Loop() {
		if _, err := (Cgroups{}).OOMCounter(os.Getpid()); err != nil {
			b.Fatal(err)
		}
	}
}
