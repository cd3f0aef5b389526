package procmon

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNoOOMCounter is returned (wrapped) when a process has no memory cgroup
// with an OOM-kill counter that can be read: no cgroup file system, no
// memory controller, the root cgroup of cgroup v2 (which has no
// memory.events), or a kernel older than 4.13.
var ErrNoOOMCounter = errors.New("no cgroup oom_kill counter")

// Cgroups reads the cgroup facts of processes. The zero value reads the
// running system; tests lay out a fake one and set ProcDir and Root.
// Methods only read files and are safe for concurrent use.
type Cgroups struct {
	// ProcDir is where /proc is; "" means "/proc".
	ProcDir string
	// Root is prepended to the mount points listed in
	// /proc/self/mountinfo; "" means the real root.
	Root string
}

// OOMCounter is the OOM-kill counter of one memory cgroup, located once
// and read any number of times. The zero value reads nothing and returns
// ErrNoOOMCounter.
//
// cgroup v2: oom_kill of memory.events (which counts the cgroup and its
// descendants), or of memory.events.local when that is larger or the only
// one present. cgroup v1: oom_kill of memory.oom_control.
type OOMCounter struct {
	dir string
	v2  bool
}

// OOMCounter locates the OOM-kill counter of the memory cgroup that pid
// belongs to, and checks that it can be read. Locate it while the process
// is alive, or through another process of the same cgroup: on cgroup v1 a
// zombie is listed in the root cgroup. The launcher locates the counter of
// its own cgroup (os.Getpid()), which the child inherits, reads it before
// starting the child and again after the child died of SIGKILL: a larger
// value means the kernel's OOM killer killed a process of the cgroup.
//
// On a hybrid system v2 is tried first, then the v1 memory hierarchy.
// Errors wrap ErrNoOOMCounter when no counter exists; a counter that cannot
// be parsed gives an error that does not.
func (c Cgroups) OOMCounter(pid int) (OOMCounter, error) {
	v2Path, v1Path, err := c.cgroupPaths(pid)
	if err != nil {
		return OOMCounter{}, err
	}
	// The conventional mount points first: reading /proc/self/mountinfo
	// costs more than the rest together, and is needed only where the
	// hierarchies are mounted elsewhere or show a subtree (a container
	// without a cgroup namespace), which the conventional guess misses
	// because the directory it names does not exist there.
	conventional := []OOMCounter{
		{dir: c.under(mount{root: "/", dir: "/sys/fs/cgroup"}, v2Path), v2: true},
		{dir: c.under(mount{root: "/", dir: "/sys/fs/cgroup/unified"}, v2Path), v2: true},
		{dir: c.under(mount{root: "/", dir: "/sys/fs/cgroup/memory"}, v1Path)},
	}
	for _, ctr := range conventional {
		if ctr.dir == "" {
			continue
		}
		if _, err := ctr.Read(); err == nil {
			return ctr, nil
		}
	}
	v2Dir, v1Dir, err := c.mountedDirs(v2Path, v1Path)
	if err != nil {
		return OOMCounter{}, err
	}
	for _, ctr := range []OOMCounter{{dir: v2Dir, v2: true}, {dir: v1Dir}} {
		if ctr.dir == "" {
			continue
		}
		if _, err := ctr.Read(); !errors.Is(err, ErrNoOOMCounter) {
			return ctr, err
		}
	}
	return OOMCounter{}, fmt.Errorf("memory cgroup of pid %d: %w", pid, ErrNoOOMCounter)
}

// OOMKills returns the current value of pid's OOM-kill counter: OOMCounter
// followed by Read.
func (c Cgroups) OOMKills(pid int) (uint64, error) {
	ctr, err := c.OOMCounter(pid)
	if err != nil {
		return 0, err
	}
	return ctr.Read()
}

// Dir returns the cgroup directory of the counter ("" for the zero value).
func (o OOMCounter) Dir() string { return o.dir }

// Read returns the counter's current value.
func (o OOMCounter) Read() (uint64, error) {
	switch {
	case o.dir == "":
		return 0, ErrNoOOMCounter
	case o.v2:
		return readV2OOMKills(o.dir)
	default:
		return readKeyedCounter(filepath.Join(o.dir, "memory.oom_control"), "oom_kill")
	}
}

// v1NoLimit: cgroup v1 says "no limit" with the largest page counter in
// bytes (9223372036854771712 with 4 KiB pages); a limit from here up is
// none.
const v1NoLimit = 1 << 62

// MemoryLimit returns the memory limit in bytes that applies to the
// counter's cgroup: the smallest of its own and its ancestors' (a limit on
// a parent bounds its children), from memory.max (cgroup v2) or
// memory.limit_in_bytes (v1). It returns 0 when none is set ("max", v1's
// no-limit value, 0, or no file) and for the zero OOMCounter. The walk up
// stops at the first directory without the file: the root cgroup of v2
// has none, and neither has the directory above a mounted hierarchy. A
// file that cannot be read or parsed is an error.
func (o OOMCounter) MemoryLimit() (uint64, error) {
	if o.dir == "" {
		return 0, nil
	}
	name := "memory.limit_in_bytes"
	if o.v2 {
		name = "memory.max"
	}
	var limit uint64
	for dir := o.dir; ; {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return limit, nil
		}
		if err != nil {
			return 0, err // the *PathError names the file
		}
		v := bytes.TrimSpace(b)
		n, ok := parseUint(v)
		switch {
		case !ok && string(v) != "max":
			return 0, fmt.Errorf("%s %q: %w", path, v, errMalformed)
		case ok && n > 0 && n < v1NoLimit && (limit == 0 || n < limit):
			limit = n
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return limit, nil
		}
		dir = parent
	}
}

// cgroupPaths returns pid's cgroup path in the v2 hierarchy and in the v1
// memory hierarchy ("" for either that does not exist).
func (c Cgroups) cgroupPaths(pid int) (v2Path, v1Path string, err error) {
	procDir := orDefault(c.ProcDir, "/proc")
	member, err := os.ReadFile(filepath.Join(procDir, strconv.Itoa(pid), "cgroup"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", "", fmt.Errorf("cgroup of pid %d: %w: %w", pid, ErrNoOOMCounter, err)
		}
		return "", "", fmt.Errorf("cgroup of pid %d: %w", pid, err)
	}
	v2Path, v1Path = parseProcCgroup(member)
	return v2Path, v1Path, nil
}

// mountedDirs returns the directories of the cgroup paths where this
// process's mounts show them ("" for either that is not mounted). The files
// are read in this process's mount namespace, so its mounts say where they
// are (a zombie has no mountinfo of its own anyway).
func (c Cgroups) mountedDirs(v2Path, v1Path string) (v2Dir, v1Dir string, err error) {
	mounts, err := os.ReadFile(filepath.Join(orDefault(c.ProcDir, "/proc"), "self", "mountinfo"))
	if err != nil {
		return "", "", fmt.Errorf("mounts: %w: %w", ErrNoOOMCounter, err)
	}
	v2Mount, v1Mount := parseMountinfo(mounts)
	return c.under(v2Mount, v2Path), c.under(v1Mount, v1Path), nil
}

// under is cgroupDir under the fake root, "" when path is not under m.
func (c Cgroups) under(m mount, path string) string {
	dir, _ := cgroupDir(c.Root, m, path)
	return dir
}

// HostOOMKills returns the host-wide OOM-kill counter (oom_kill of
// /proc/vmstat, Linux 4.13+). It is a coarse fallback where no cgroup
// counter exists: an OOM kill anywhere on the host moves it.
func (c Cgroups) HostOOMKills() (uint64, error) {
	return readKeyedCounter(filepath.Join(orDefault(c.ProcDir, "/proc"), "vmstat"), "oom_kill")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// mount is where a cgroup hierarchy is mounted: root is the cgroup path the
// mount shows at dir.
type mount struct {
	root, dir string
}

// parseProcCgroup returns the cgroup v2 path ("0::/path") and the path in
// the v1 hierarchy that has the memory controller; "" when absent.
func parseProcCgroup(b []byte) (v2, v1Memory string) {
	for line := range bytes.Lines(b) {
		f := strings.SplitN(strings.TrimRight(string(line), "\n"), ":", 3)
		if len(f) != 3 || !strings.HasPrefix(f[2], "/") {
			continue
		}
		switch {
		case f[0] == "0" && f[1] == "":
			v2 = f[2]
		case hasItem(f[1], "memory"):
			v1Memory = f[2]
		}
	}
	return v2, v1Memory
}

// parseMountinfo returns the cgroup2 mount and the v1 mount of the memory
// controller listed in a /proc/<pid>/mountinfo; zero when absent.
func parseMountinfo(b []byte) (v2, v1Memory mount) {
	for line := range bytes.Lines(b) {
		// id parent maj:min root mountpoint options [optional...] - type source superoptions
		pre, post, ok := strings.Cut(strings.TrimRight(string(line), "\n"), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 {
			continue
		}
		m := mount{root: unescapeMount(f[3]), dir: unescapeMount(f[4])}
		switch {
		case g[0] == "cgroup2" && v2.dir == "":
			v2 = m
		case g[0] == "cgroup" && hasItem(g[2], "memory") && v1Memory.dir == "":
			v1Memory = m
		}
	}
	return v2, v1Memory
}

func hasItem(list, item string) bool {
	for it := range strings.SplitSeq(list, ",") {
		if it == item {
			return true
		}
	}
	return false
}

// unescapeMount undoes the octal escapes (\040 for a space) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cgroupDir maps a cgroup path to its directory under a mount. It fails when
// there is no mount or path, or path lies outside what the mount shows.
func cgroupDir(root string, m mount, path string) (string, bool) {
	if m.dir == "" || path == "" || !filepath.IsAbs(m.dir) {
		return "", false
	}
	rel, ok := strings.CutPrefix(path, m.root)
	if !ok || (m.root != "/" && rel != "" && !strings.HasPrefix(rel, "/")) {
		return "", false
	}
	for part := range strings.SplitSeq(rel, "/") {
		if part == ".." {
			return "", false
		}
	}
	return filepath.Join(root, m.dir, rel), true
}

// readV2OOMKills reads oom_kill from memory.events and memory.events.local
// in dir and returns the larger.
func readV2OOMKills(dir string) (uint64, error) {
	var best uint64
	var found bool
	for _, name := range []string{"memory.events", "memory.events.local"} {
		n, err := readKeyedCounter(filepath.Join(dir, name), "oom_kill")
		if errors.Is(err, ErrNoOOMCounter) {
			continue
		}
		if err != nil {
			return 0, err
		}
		best, found = max(best, n), true
	}
	if !found {
		return 0, fmt.Errorf("%s: %w", dir, ErrNoOOMCounter)
	}
	return best, nil
}

// readKeyedCounter reads the value of key from a file of "key value" lines.
// A missing file or key wraps ErrNoOOMCounter.
func readKeyedCounter(path, key string) (uint64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%s: %w", path, ErrNoOOMCounter)
	}
	if err != nil {
		return 0, err // the *PathError names the file
	}
	n, found, err := parseKeyedCounter(b, key)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if !found {
		return 0, fmt.Errorf("%s: no %s: %w", path, key, ErrNoOOMCounter)
	}
	return n, nil
}

func parseKeyedCounter(b []byte, key string) (uint64, bool, error) {
	for line := range bytes.Lines(b) {
		f := bytes.Fields(line)
		if len(f) == 0 || string(f[0]) != key {
			continue
		}
		if len(f) != 2 {
			return 0, false, fmt.Errorf("%s: %w", key, errMalformed)
		}
		v, ok := parseUint(f[1])
		if !ok {
			return 0, false, fmt.Errorf("%s %q: %w", key, f[1], errMalformed)
		}
		return v, true, nil
	}
	return 0, false, nil
}
