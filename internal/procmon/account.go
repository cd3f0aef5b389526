package procmon

import (
	"cmp"
	"slices"
)

// member is one process of the tree as one pass saw it. CPU times are in
// clock ticks.
type member struct {
	pid, ppid   int32
	start       uint64 // with pid, the identity of the process
	user, sys   uint64 // utime+cutime, stime+cstime
	cuser, csys uint64 // cutime, cstime: reaped children only
	read, write uint64 // /proc/<pid>/io, reaped children included
	ioOK        bool

	// What members that disappeared since the previous pass had
	// accumulated, to be found again in this member's c-fields and I/O.
	exp totals
	// owed is the CPU time of reaped descendants that this member's
	// c-fields did not show when expected (carried meanwhile): a pass can
	// read the parent just before it reaps a child and miss the child,
	// gone, just after. Later growth of the c-fields pays it back out of
	// the carry, so that the child is not counted twice.
	owedUser, owedSys uint64
}

// totals are the cumulative counters of the tree.
type totals struct {
	user, sys   uint64 // ticks
	read, write uint64 // bytes
}

func (t *totals) add(o totals) {
	t.user += o.user
	t.sys += o.sys
	t.read += o.read
	t.write += o.write
}

func (m *member) contrib() totals {
	return totals{user: m.user, sys: m.sys, read: m.read, write: m.write}
}

// liveness answers whether a process (pid and start time) exists in the
// current pass, inside the tree or not.
type liveness interface {
	alive(pid int32, start uint64) bool
}

// accountant turns the members of successive passes into monotone totals.
//
// The sum over live members of their own plus reaped children's time is
// continuous while children are reaped inside the tree. A member that
// disappears is expected to show up in its nearest surviving ancestor's
// c-fields (CPU) and I/O; what does not (reaped by a parent that ignores
// SIGCHLD, or by a reaper outside the tree) and what a member that left the
// tree alive had accumulated are carried forward. A final clamp keeps every
// total from ever decreasing.
type accountant struct {
	prev, cur []member // sorted by pid
	carry     totals
	last      totals
}

// next returns an empty slice, reusing storage, for the members of a pass.
func (a *accountant) next() []member { return a.cur[:0] }

func findMember(ms []member, pid int32) (int, bool) {
	return slices.BinarySearchFunc(ms, pid, func(m member, pid int32) int { return cmp.Compare(m.pid, pid) })
}

// account records the members of a pass (sorted by pid, storage from next)
// and returns the totals of the tree.
func (a *accountant) account(cur []member, live liveness) totals {
	a.cur = cur
	for i := range cur {
		cur[i].exp = totals{}
		cur[i].owedUser, cur[i].owedSys = 0, 0
		if !cur[i].ioOK {
			// Hold the last readable I/O counters of the member.
			if j, ok := findMember(a.prev, cur[i].pid); ok && a.prev[j].start == cur[i].start {
				cur[i].read, cur[i].write = a.prev[j].read, a.prev[j].write
			}
		}
	}
	for i := range a.prev {
		a.settle(&a.prev[i], live)
	}
	var sum totals
	for i := range cur {
		m := &cur[i]
		sum.add(m.contrib())
		var pm member // zero when m is new: all its c-fields are growth
		if j, ok := findMember(a.prev, m.pid); ok && a.prev[j].start == m.start {
			pm = a.prev[j]
		}
		m.owedUser = a.settleCPU(&a.carry.user, m.exp.user, pm.cuser, m.cuser, pm.owedUser+m.owedUser)
		m.owedSys = a.settleCPU(&a.carry.sys, m.exp.sys, pm.csys, m.csys, pm.owedSys+m.owedSys)
		if m.exp.read != 0 || m.exp.write != 0 {
			a.carry.read += shortfall(m.exp.read, pm.read, m.read)
			a.carry.write += shortfall(m.exp.write, pm.write, m.write)
		}
	}
	sum.add(a.carry)
	clamp(&sum.user, &a.last.user, &a.carry.user)
	clamp(&sum.sys, &a.last.sys, &a.carry.sys)
	clamp(&sum.read, &a.last.read, &a.carry.read)
	clamp(&sum.write, &a.last.write, &a.carry.write)
	a.prev, a.cur = a.cur, a.prev
	return sum
}

// settle handles one member of the previous pass: still a member, left the
// tree alive, or gone (reaped).
func (a *accountant) settle(p *member, live liveness) {
	if j, ok := findMember(a.cur, p.pid); ok && a.cur[j].start == p.start {
		return
	}
	if live.alive(p.pid, p.start) {
		a.carry.add(p.contrib()) // orphaned outside the tree
		return
	}
	// Reaped: by the nearest ancestor still in the tree, if any. Ancestors
	// that are gone too pass it up (their reaper's c-fields include it).
	anc := p.ppid
	for range len(a.prev) + 1 {
		if j, ok := findMember(a.cur, anc); ok && a.cur[j].start <= p.start {
			a.cur[j].exp.add(p.contrib())
			// What p was owed reaches the same c-fields.
			a.cur[j].owedUser += p.owedUser
			a.cur[j].owedSys += p.owedSys
			return
		}
		k, ok := findMember(a.prev, anc)
		if !ok || live.alive(anc, a.prev[k].start) {
			break
		}
		anc = a.prev[k].ppid
	}
	a.carry.add(p.contrib())
}

// settleCPU accounts for a member's reaped-children CPU field growing from
// before to after: the time expected of the descendants gone this pass
// (want) comes first; what it misses is carried and owed; growth beyond it
// pays back what was owed (owed, from earlier passes) out of the carry. It
// returns what is still owed. Unlike I/O, a c-field grows only by reaped
// children, so growth beyond what was expected is theirs.
func (a *accountant) settleCPU(carry *uint64, want, before, after, owed uint64) uint64 {
	var grew uint64
	if after > before {
		grew = after - before
	}
	if grew < want {
		*carry += want - grew
		return owed + want - grew
	}
	back := min(grew-want, owed, *carry)
	*carry -= back
	return owed - back
}

// shortfall is how much of want the growth from before to after misses.
func shortfall(want, before, after uint64) uint64 {
	var grew uint64
	if after > before {
		grew = after - before
	}
	if grew >= want {
		return 0
	}
	return want - grew
}

// clamp keeps a total from decreasing, moving any drop into the carry.
func clamp(sum, last, carry *uint64) {
	if *sum < *last {
		*carry += *last - *sum
		*sum = *last
	}
	*last = *sum
}
