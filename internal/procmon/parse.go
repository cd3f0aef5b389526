package procmon

import (
	"bytes"
	"errors"
	"fmt"
)

// errMalformed is wrapped by the parsers below for input that does not have
// the layout the kernel produces.
var errMalformed = errors.New("malformed")

// procStat holds the fields of /proc/<pid>/stat that a pass uses. Times are
// in clock ticks (USER_HZ), sizes as the kernel reports them.
type procStat struct {
	pid      int32
	ppid     int32
	state    byte
	utime    uint64 // field 14
	stime    uint64 // field 15
	cutime   uint64 // field 16
	cstime   uint64 // field 17
	threads  int64  // field 20
	start    uint64 // field 22, ticks after boot: with pid, the identity
	vsize    uint64 // field 23, bytes
	rssPages uint64 // field 24, pages
}

// parseStat parses one /proc/<pid>/stat line. The command name (field 2) may
// contain spaces and parentheses, so the fields after it are located from the
// last ')' in the line.
func parseStat(b []byte, st *procStat) error {
	open := bytes.IndexByte(b, '(')
	closeAt := bytes.LastIndexByte(b, ')')
	if open < 1 || closeAt < open {
		return fmt.Errorf("stat: no command name: %w", errMalformed)
	}
	pid, ok := parseUint(bytes.TrimSpace(b[:open]))
	if !ok || pid == 0 || pid > 1<<31-1 {
		return fmt.Errorf("stat: pid: %w", errMalformed)
	}
	*st = procStat{pid: int32(pid)}
	rest := b[closeAt+1:]
	// Field 3 is the first after the command name; stop after field 24.
	for field := 3; field <= 24; field++ {
		var tok []byte
		tok, rest = nextField(rest)
		if tok == nil {
			return fmt.Errorf("stat: %d fields, want at least 24: %w", field-1, errMalformed)
		}
		if field == 3 {
			if len(tok) != 1 {
				return fmt.Errorf("stat: state %q: %w", tok, errMalformed)
			}
			st.state = tok[0]
			continue
		}
		var dst *uint64
		var signed bool
		var tmp uint64
		switch field {
		case 4:
			dst = &tmp
		case 14:
			dst = &st.utime
		case 15:
			dst = &st.stime
		case 16:
			dst, signed = &st.cutime, true
		case 17:
			dst, signed = &st.cstime, true
		case 20:
			dst, signed = &tmp, true
		case 22:
			dst = &st.start
		case 23:
			dst = &st.vsize
		case 24:
			dst, signed = &st.rssPages, true
		default:
			continue
		}
		if signed && len(tok) > 1 && tok[0] == '-' {
			// cutime, cstime, num_threads and rss are signed in the
			// kernel's format; a negative value is read as zero.
			tok = tok[1:]
			if _, ok := parseUint(tok); !ok {
				return fmt.Errorf("stat: field %d %q: %w", field, tok, errMalformed)
			}
			continue
		}
		v, ok := parseUint(tok)
		if !ok {
			return fmt.Errorf("stat: field %d %q: %w", field, tok, errMalformed)
		}
		*dst = v
		switch field {
		case 4:
			if v > 1<<31-1 {
				return fmt.Errorf("stat: ppid %d: %w", v, errMalformed)
			}
			st.ppid = int32(v)
		case 20:
			st.threads = int64(v)
		}
	}
	return nil
}

// nextField returns the next space-separated token of b and the rest, or a
// nil token when b holds no more.
func nextField(b []byte) (tok, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\n') {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\n' {
		j++
	}
	if i == j {
		return nil, nil
	}
	return b[i:j], b[j:]
}

// parseUint parses a non-empty decimal number without allocating.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// ioCounters holds the storage I/O of /proc/<pid>/io, which includes dead
// threads and reaped children.
type ioCounters struct {
	read  uint64 // read_bytes
	write uint64 // write_bytes
}

var (
	keyReadBytes  = []byte("read_bytes:")
	keyWriteBytes = []byte("write_bytes:")
)

// parseIO parses /proc/<pid>/io. Both read_bytes and write_bytes are required.
func parseIO(b []byte) (ioCounters, error) {
	var io ioCounters
	var seen int
	for line := range bytes.Lines(b) {
		var dst *uint64
		var key []byte
		switch {
		case bytes.HasPrefix(line, keyReadBytes):
			dst, key = &io.read, keyReadBytes
		case bytes.HasPrefix(line, keyWriteBytes):
			dst, key = &io.write, keyWriteBytes
		default:
			continue
		}
		v, ok := parseUint(bytes.TrimSpace(line[len(key):]))
		if !ok {
			return ioCounters{}, fmt.Errorf("io: %s: %w", key, errMalformed)
		}
		*dst = v
		seen++
	}
	if seen != 2 {
		return ioCounters{}, fmt.Errorf("io: read_bytes or write_bytes missing: %w", errMalformed)
	}
	return io, nil
}

// cpuTimes are the host-wide busy and total ticks of the "cpu" line of
// /proc/stat.
type cpuTimes struct {
	busy, total uint64
}

// parseHostCPU parses the first line of /proc/stat:
// "cpu user nice system idle iowait irq softirq steal guest guest_nice".
// Guest time is already included in user and nice, so it is not added again.
func parseHostCPU(b []byte) (cpuTimes, error) {
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	tok, rest := nextField(line)
	if !bytes.Equal(tok, []byte("cpu")) {
		return cpuTimes{}, fmt.Errorf("host cpu: no cpu line: %w", errMalformed)
	}
	var t cpuTimes
	for i := 0; i < 8; i++ {
		tok, rest = nextField(rest)
		if tok == nil {
			if i < 4 {
				return cpuTimes{}, fmt.Errorf("host cpu: %d fields: %w", i, errMalformed)
			}
			break
		}
		v, ok := parseUint(tok)
		if !ok {
			return cpuTimes{}, fmt.Errorf("host cpu: field %q: %w", tok, errMalformed)
		}
		t.total += v
		if i != 3 && i != 4 { // idle and iowait are not busy
			t.busy += v
		}
	}
	return t, nil
}

var (
	keyMemTotal     = []byte("MemTotal:")
	keyMemAvailable = []byte("MemAvailable:")
)

// parseMeminfo returns MemTotal and MemAvailable of /proc/meminfo in bytes.
func parseMeminfo(b []byte) (total, available uint64, err error) {
	var seen int
	for line := range bytes.Lines(b) {
		var dst *uint64
		var key []byte
		switch {
		case bytes.HasPrefix(line, keyMemTotal):
			dst, key = &total, keyMemTotal
		case bytes.HasPrefix(line, keyMemAvailable):
			dst, key = &available, keyMemAvailable
		default:
			continue
		}
		f := bytes.TrimSpace(line[len(key):])
		f = bytes.TrimSpace(bytes.TrimSuffix(f, []byte("kB")))
		v, ok := parseUint(f)
		if !ok || v > 1<<53 {
			return 0, 0, fmt.Errorf("meminfo: %s: %w", key, errMalformed)
		}
		*dst = v * 1024
		seen++
		if seen == 2 {
			return total, available, nil
		}
	}
	return 0, 0, fmt.Errorf("meminfo: MemTotal or MemAvailable missing: %w", errMalformed)
}

var (
	keyVmHWM  = []byte("\nVmHWM:")
	keyVmRSS  = []byte("\nVmRSS:")
	keyVmSize = []byte("\nVmSize:")
)

// statusMemory is what a pass reads of /proc/<pid>/status, in bytes: one
// snapshot of the address space, so that the sizes agree with each other
// even for a process caught in execve(2), whose address space the stat
// file, read at another moment, may show before or after the exec.
type statusMemory struct {
	rss  uint64 // VmRSS: the resident set now
	hwm  uint64 // VmHWM: the peak resident set since the process started or exec'd
	size uint64 // VmSize: the virtual memory size
}

// parseStatusMemory returns the VmRSS, VmHWM and VmSize lines of
// /proc/<pid>/status.
// A process without an address space (a zombie, a kernel thread) has
// neither: zeros and no error. VmRSS is exact where the rss field of
// /proc/<pid>/stat is not: since Linux 6.2 that field reads per-CPU
// counters without summing them, and shows 0 for a process that has run
// only for a moment.
func parseStatusMemory(b []byte) (statusMemory, error) {
	rss, err := statusKB(b, keyVmRSS)
	if err != nil {
		return statusMemory{}, err
	}
	hwm, err := statusKB(b, keyVmHWM)
	if err != nil {
		return statusMemory{}, err
	}
	size, err := statusKB(b, keyVmSize)
	if err != nil {
		return statusMemory{}, err
	}
	return statusMemory{rss: rss, hwm: hwm, size: size}, nil
}

// statusKB returns the value of the "\nKey:  N kB" line of a status file
// in bytes, 0 when there is no such line.
func statusKB(b, key []byte) (uint64, error) {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0, nil
	}
	line, _, _ := bytes.Cut(b[i+len(key):], []byte{'\n'})
	v, ok := parseUint(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(line), []byte("kB"))))
	if !ok || v > 1<<53 {
		return 0, fmt.Errorf("status: %s %q: %w", bytes.TrimSpace(key), line, errMalformed)
	}
	return v * 1024, nil
}
