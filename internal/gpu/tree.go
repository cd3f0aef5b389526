package gpu

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
)

// hostPIDNamespace is the inode of the initial PID namespace
// (PROC_PID_INIT_INO), the one NVML reports process ids in.
const hostPIDNamespace = "pid:[4026531836]"

// TreeMatcher returns the InTree function of a Recording for the tree of
// root, reading the /proc mounted at proc: a process belongs when root is
// itself or one of its ancestors. It returns nil when graphsignal runs in
// a PID namespace of its own (a container): NVML reports the host's process
// ids, which that /proc cannot resolve, so the program's processes cannot
// be told from others' (docs/gpu.md). (The orphans that graphsignal adopts
// as PID 1 are in that case too.)
func TreeMatcher(proc string, root int) func(pid int) bool {
	ns, err := os.Readlink(filepath.Join(proc, "self/ns/pid"))
	if err != nil || ns != hostPIDNamespace {
		return nil
	}
	return func(pid int) bool {
		for range 64 { // deeper trees are not worth the reads
			if pid == root {
				return true
			}
			if pid <= 1 {
				return false
			}
			ppid, ok := parentOf(proc, pid)
			if !ok {
				return false
			}
			pid = ppid
		}
		return false
	}
}

// parentOf reads a process's parent from /proc/<pid>/stat.
func parentOf(proc string, pid int) (int, bool) {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	// "pid (comm) state ppid …": comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(string(f[1]))
	return ppid, err == nil
}
