// Package pagein maps the running executable's code into the process's
// page tables ahead of use, in one system call rather than a page fault
// per 64 KiB of code run (docs/architecture.md, "Start-up").
package pagein

import (
	"bytes"
	"errors"
	"strconv"
)

// ErrNotFound reports that no mapping of the executable was found in the
// process's memory map.
var ErrNotFound = errors.New("pagein: the executable's mappings were not found")

// mapping is one line of /proc/<pid>/maps.
type mapping struct {
	start, end uintptr
	readable   bool
	writable   bool
	exec       bool
	dev        string // major:minor of the file's device
	inode      uint64 // 0 for anonymous memory
}

// parseMaps returns the mappings in the text of /proc/<pid>/maps
// ("start-end perms offset dev inode [path]" per line); lines it cannot
// read are skipped.
func parseMaps(text []byte) []mapping {
	var out []mapping
	for line := range bytes.Lines(text) {
		f := bytes.Fields(line)
		if len(f) < 5 || len(f[1]) < 2 {
			continue
		}
		lo, hi, ok := bytes.Cut(f[0], []byte("-"))
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		inode, err3 := strconv.ParseUint(string(f[4]), 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || end <= start {
			continue
		}
		out = append(out, mapping{start: uintptr(start), end: uintptr(end),
			readable: f[1][0] == 'r', writable: f[1][1] == 'w', exec: len(f[1]) > 2 && f[1][2] == 'x', dev: string(f[3]), inode: inode})
	}
	return out
}

// segments returns the executable, not writable mappings of the file that
// also maps pc (the executable's code, when pc is one of its functions).
func segments(maps []mapping, pc uintptr) []mapping {
	var file *mapping
	for i := range maps {
		if m := &maps[i]; m.start <= pc && pc < m.end && m.inode != 0 {
			file = m
		}
	}
	if file == nil {
		return nil
	}
	var out []mapping
	for _, m := range maps {
		if m.dev == file.dev && m.inode == file.inode && m.readable && !m.writable && m.exec {
			out = append(out, m)
		}
	}
	return out
}
