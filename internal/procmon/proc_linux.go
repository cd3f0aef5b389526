package procmon

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// userHZ is the unit of the times in /proc/<pid>/stat (USER_HZ, part of the
// kernel ABI: 100 on every architecture Go supports).
const userHZ = 100

const tick = time.Second / userHZ

// membership states of a process in one pass.
const (
	unknown int8 = iota
	inTree
	outOfTree
	visiting
)

// osSampler does the /proc work of a pass. It is used under Sampler.mu.
type osSampler struct {
	root      int32
	rootStart uint64
	adopter   int32
	procPath  []byte // procDir, NUL-terminated
	pageSize  uint64

	buf   []byte // file contents
	dents []byte // directory entries
	// getdents is getdents64(2). It may return fewer entries than fit
	// before the end (the kernel ends a batch early when a signal is
	// pending, and a Go program gets many; seen on /proc under load while
	// pids wrapped around): only 0 is the end. Tests substitute short reads.
	getdents func(fd int, buf []byte) (int, error)
	path     []byte     // "<pid>/<file>\x00", relative to the /proc fd
	procs    []procStat // processes whose stat this pass read, sorted by pid
	ino      []uint64   // their inode numbers in /proc, parallel to procs
	state    []int8     // membership, parallel to procs
	// Processes known to be outside the tree, sorted by pid, of the
	// previous pass (outs) and of this one (nextOuts).
	outs, nextOuts []outside
	stack          []int // walk scratch
	acct           accountant

	host   cpuTimes // the previous pass's host CPU ticks
	hostOK bool

	// rootOnly makes the next pass read only the root instead of listing
	// /proc (see Sampler.SampleRoot).
	rootOnly bool
}

var _ liveness = (*osSampler)(nil)

// outside is a process known to be outside the tree. A process outside the
// tree never joins it (its descendants and the orphans reparented to it stay
// outside too), so its stat is not read again while /proc lists the same
// inode for its pid. A pid reused by a new process gets a new inode: the
// kernel drops the old /proc/<pid> dentry when it reaps the old process.
type outside struct {
	pid int32
	ino uint64
}

func newOSSampler(root int32, cfg config) (*osSampler, error) {
	o := &osSampler{
		root:     root,
		adopter:  int32(cfg.adopter),
		procPath: append([]byte(cfg.procDir), 0),
		pageSize: uint64(os.Getpagesize()),
		buf:      make([]byte, 4096),
		dents:    make([]byte, 8192),
		getdents: syscall.Getdents,
	}
	dir, err := o.openProc()
	if err != nil {
		return nil, err
	}
	defer syscall.Close(dir)
	var st procStat
	if err := o.readStat(dir, root, &st); err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH) {
			return nil, ErrNoProcess
		}
		return nil, err
	}
	o.rootStart = st.start
	return o, nil
}

func (o *osSampler) openProc() (int, error) {
	fd, err := openat(atFDCWD, o.procPath, syscall.O_DIRECTORY)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", o.procPath[:len(o.procPath)-1], err)
	}
	return fd, nil
}

// setRootOnly makes the next pass read only the root.
func (o *osSampler) setRootOnly() { o.rootOnly = true }

// pass fills x with everything but Time, Interval and CPUPercent.
func (o *osSampler) pass(x *Sample) error {
	dir, err := o.openProc()
	if err != nil {
		return err
	}
	defer syscall.Close(dir)
	if err := o.scan(dir); err != nil {
		return err
	}
	members := o.acct.next()
	for i := range o.procs {
		if o.resolve(i) != inTree {
			continue
		}
		p := &o.procs[i]
		m := member{
			pid: p.pid, ppid: p.ppid, start: p.start,
			user: p.utime + p.cutime, sys: p.stime + p.cstime,
			cuser: p.cutime, csys: p.cstime,
		}
		x.Processes++
		x.Threads += int(p.threads)
		rss, virt := p.rssPages*o.pageSize, p.vsize
		if mem, err := o.readStatusMemory(dir, p.pid); err == nil {
			rss, virt = mem.rss, mem.size
			x.LargestPeakRSS = max(x.LargestPeakRSS, mem.hwm, rss)
		}
		x.RSS += rss
		x.Virtual += virt
		io, err := o.readIO(dir, p.pid)
		m.read, m.write, m.ioOK = io.read, io.write, err == nil
		n, fdErr := o.countFDs(dir, p.pid)
		x.OpenFDs += n
		if isDenied(err) || isDenied(fdErr) {
			x.Unreadable++
		}
		members = append(members, m)
	}
	o.rememberOutside()
	t := o.acct.account(members, o)
	x.CPUUser = time.Duration(t.user) * tick
	x.CPUSystem = time.Duration(t.sys) * tick
	x.ReadBytes, x.WriteBytes = t.read, t.write
	o.hostFigures(dir, x)
	return nil
}

// scan lists /proc and reads the stat of every process that is not known
// to be outside the tree into o.procs.
func (o *osSampler) scan(dir int) error {
	o.procs, o.ino = o.procs[:0], o.ino[:0]
	o.nextOuts = o.nextOuts[:0]
	if o.rootOnly {
		o.rootOnly = false
		o.procs = append(o.procs, procStat{})
		if o.readStat(dir, o.root, &o.procs[0]) != nil {
			o.procs = o.procs[:0] // reaped meanwhile
		} else {
			o.ino = append(o.ino, 0) // unknown: never remembered as outside
		}
		o.state = slices.Grow(o.state[:0], len(o.procs))[:len(o.procs)]
		clear(o.state)
		return nil
	}
	k := 0 // cursor in o.outs; /proc lists pids in increasing order
	for {
		n, err := o.getdents(dir, o.dents)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("read proc: %w", err)
		}
		if n <= 0 {
			break
		}
		for b := o.dents[:n]; len(b) >= 19; {
			reclen := int(*(*uint16)(unsafe.Pointer(&b[16])))
			if reclen < 19 || reclen > len(b) {
				return fmt.Errorf("read proc: bad directory entry length %d", reclen)
			}
			ino := *(*uint64)(unsafe.Pointer(&b[0]))
			name := b[19:reclen]
			if i := indexNUL(name); i >= 0 {
				name = name[:i]
			}
			b = b[reclen:]
			v, ok := parseUint(name)
			if !ok || v == 0 || v > 1<<31-1 {
				continue
			}
			pid := int32(v)
			for k < len(o.outs) && o.outs[k].pid < pid {
				k++
			}
			if k < len(o.outs) && o.outs[k].pid == pid && o.outs[k].ino == ino && pid != o.root {
				o.nextOuts = append(o.nextOuts, o.outs[k])
				continue
			}
			o.procs = append(o.procs, procStat{})
			if o.readStat(dir, pid, &o.procs[len(o.procs)-1]) != nil {
				o.procs = o.procs[:len(o.procs)-1] // exited meanwhile
				continue
			}
			o.ino = append(o.ino, ino)
		}
	}
	if !slices.IsSortedFunc(o.procs, func(a, b procStat) int { return cmp.Compare(a.pid, b.pid) }) {
		// Not from a real /proc, which lists pids in order; give up the
		// parallel inode numbers rather than sort two slices together.
		slices.SortFunc(o.procs, func(a, b procStat) int { return cmp.Compare(a.pid, b.pid) })
		clear(o.ino)
	}
	o.state = slices.Grow(o.state[:0], len(o.procs))[:len(o.procs)]
	clear(o.state)
	return nil
}

// rememberOutside records the processes this pass found outside the tree,
// for the next pass to skip.
func (o *osSampler) rememberOutside() {
	for i := range o.procs {
		if o.state[i] == outOfTree && o.ino[i] != 0 && o.procs[i].pid != o.root {
			o.nextOuts = append(o.nextOuts, outside{pid: o.procs[i].pid, ino: o.ino[i]})
		}
	}
	slices.SortFunc(o.nextOuts, func(a, b outside) int { return cmp.Compare(a.pid, b.pid) })
	o.outs, o.nextOuts = o.nextOuts, o.outs
}

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

func (o *osSampler) find(pid int32) (int, bool) {
	return slices.BinarySearchFunc(o.procs, pid, func(p procStat, pid int32) int { return cmp.Compare(p.pid, pid) })
}

func (o *osSampler) alive(pid int32, start uint64) bool {
	i, ok := o.find(pid)
	return ok && o.procs[i].start == start
}

// resolve returns the membership of o.procs[i], walking up the parent chain
// and recording the answer for every process on the way. A parent cycle
// (impossible from a real kernel) resolves to out of the tree.
func (o *osSampler) resolve(i int) int8 {
	o.stack = o.stack[:0]
	result := outOfTree
	for j := i; ; {
		if s := o.state[j]; s != unknown {
			if s == inTree {
				result = inTree
			}
			break
		}
		p := &o.procs[j]
		if p.pid == o.root {
			if p.start == o.rootStart {
				result = inTree
			}
			o.stack = append(o.stack, j)
			break
		}
		if o.adopter != 0 && p.pid != o.adopter && p.ppid == o.adopter && p.start > o.rootStart {
			result = inTree
			o.stack = append(o.stack, j)
			break
		}
		k, ok := o.find(p.ppid)
		o.stack = append(o.stack, j)
		if !ok || p.pid == o.adopter {
			break
		}
		o.state[j] = visiting
		j = k
	}
	for _, j := range o.stack {
		o.state[j] = result
	}
	return result
}

// setPath makes o.path "<pid>/<file>\x00".
func (o *osSampler) setPath(pid int32, file string) []byte {
	o.path = strconv.AppendInt(o.path[:0], int64(pid), 10)
	o.path = append(o.path, '/')
	o.path = append(o.path, file...)
	o.path = append(o.path, 0)
	return o.path
}

func (o *osSampler) readStat(dir int, pid int32, st *procStat) error {
	b, err := o.readFile(dir, o.setPath(pid, "stat"), true)
	if err != nil {
		return err
	}
	return parseStat(b, st)
}

// readStatusMemory reads the resident set and its peak from
// /proc/<pid>/status.
func (o *osSampler) readStatusMemory(dir int, pid int32) (statusMemory, error) {
	b, err := o.readFile(dir, o.setPath(pid, "status"), true)
	if err != nil {
		return statusMemory{}, err
	}
	return parseStatusMemory(b)
}

// OwnPeakRSS returns the peak resident set of the calling process
// (VmHWM of /proc/self/status) in bytes, 0 where it cannot be read.
//
// It bounds what wait4 may report of graphsignal itself in a child's
// ru_maxrss: the child is started with CLONE_VM, so the kernel folds the
// launcher's peak resident set at the moment of exec into the child's
// maxrss. A child's ru_maxrss above OwnPeakRSS read after the child was
// started can only be the program's.
func OwnPeakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	m, _ := parseStatusMemory(b)
	return m.hwm
}

func (o *osSampler) readIO(dir int, pid int32) (ioCounters, error) {
	b, err := o.readFile(dir, o.setPath(pid, "io"), true)
	if err != nil {
		return ioCounters{}, err
	}
	return parseIO(b)
}

// countFDs counts the entries of /proc/<pid>/fd.
func (o *osSampler) countFDs(dir int, pid int32) (int, error) {
	fd, err := openat(dir, o.setPath(pid, "fd"), syscall.O_DIRECTORY)
	if err != nil {
		return 0, err
	}
	defer syscall.Close(fd)
	count := 0
	for {
		n, err := o.getdents(fd, o.dents)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return count, err
		}
		if n <= 0 {
			return count, nil
		}
		for b := o.dents[:n]; len(b) >= 19; {
			reclen := int(*(*uint16)(unsafe.Pointer(&b[16])))
			if reclen < 19 || reclen > len(b) {
				return count, errMalformed
			}
			if name := b[19:]; name[0] != '.' {
				count++
			}
			b = b[reclen:]
		}
	}
}

// hostFigures fills the host CPU percent (from the second pass on) and
// memory. They are left zero where /proc/stat or /proc/meminfo cannot be
// read or parsed.
func (o *osSampler) hostFigures(dir int, x *Sample) {
	// The first line is all that is needed: one read, however long the file.
	if b, err := o.readFile(dir, append(o.path[:0], "stat\x00"...), false); err == nil {
		if t, err := parseHostCPU(b); err == nil {
			if o.hostOK && t.total > o.host.total && t.busy >= o.host.busy {
				x.HostCPUPercent = 100 * float64(t.busy-o.host.busy) / float64(t.total-o.host.total)
			}
			o.host, o.hostOK = t, true
		}
	}
	if b, err := o.readFile(dir, append(o.path[:0], "meminfo\x00"...), true); err == nil {
		if total, avail, err := parseMeminfo(b); err == nil && avail <= total {
			x.HostMemoryTotal, x.HostMemoryUsed = total, total-avail
		}
	}
}

// readFile reads the file at path (relative to dir, NUL-terminated) into
// o.buf: all of it (up to 1 MiB) when whole, else what one read returns.
func (o *osSampler) readFile(dir int, path []byte, whole bool) ([]byte, error) {
	fd, err := openat(dir, path, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	n := 0
	for {
		if n == len(o.buf) {
			o.buf = append(o.buf, make([]byte, len(o.buf))...)
		}
		m, err := syscall.Read(fd, o.buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		n += m
		// A read that leaves room in the buffer got the whole file: procfs
		// hands out a record in one read, and a regular file is at its end.
		if !whole || n < len(o.buf) || n > 1<<20 {
			break
		}
	}
	return o.buf[:n], nil
}

// atFDCWD is AT_FDCWD: a path relative to the working directory.
const atFDCWD = -100

// openat opens path (NUL-terminated) relative to dir, read-only and
// close-on-exec, without the allocation of converting a Go string.
func openat(dir int, path []byte, flags int) (int, error) {
	for {
		r, _, errno := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(dir),
			uintptr(unsafe.Pointer(&path[0])), uintptr(flags|syscall.O_RDONLY|syscall.O_CLOEXEC), 0, 0, 0)
		runtime.KeepAlive(path)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return -1, errno
		}
		return int(r), nil
	}
}

func isDenied(err error) bool {
	return errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}
