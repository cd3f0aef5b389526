package procmon

import (
	"slices"
	"testing"
)

// fakeLive is the set of processes (pid -> start) present in a pass.
type fakeLive map[int32]uint64

func (f fakeLive) alive(pid int32, start uint64) bool {
	s, ok := f[pid]
	return ok && s == start
}

// pass is one pass of a synthetic tree: its members and the processes
// alive outside it.
type pass struct {
	members []member
	outside []member
}

func mem(pid, ppid int32, user, cuser uint64) member {
	return member{pid: pid, ppid: ppid, start: uint64(pid), user: user, cuser: cuser,
		read: user * 10, write: user, ioOK: true}
}

func TestAccountant(t *testing.T) {
	tests := []struct {
		name   string
		passes []pass
		want   []uint64 // user ticks after each pass
		// ioExact: read bytes follow user ticks exactly (10 per tick); not
		// so where a member's own I/O growth masks a shortfall.
		ioExact bool
	}{
		{
			name: "child reaped inside the tree is counted once",
			passes: []pass{
				{members: []member{mem(10, 1, 5, 0), mem(11, 10, 20, 0)}},
				{members: []member{mem(10, 1, 6+25, 25)}}, // 11 grew to 25 before its reaping
			},
			want:    []uint64{25, 31},
			ioExact: true,
		},
		{
			name: "grandchild and child gone in one interval",
			passes: []pass{
				{members: []member{mem(10, 1, 5, 0), mem(11, 10, 3, 0), mem(12, 11, 7, 0)}},
				{members: []member{mem(10, 1, 5+10, 10)}}, // 11 reaped 12, 10 reaped 11
			},
			want:    []uint64{15, 15},
			ioExact: true,
		},
		{
			// A pass reads the parent, which then reaps the child before
			// the pass reads it: the child is gone, and the parent's
			// c-fields show it only at the next pass. Counted once.
			name: "child reaped between the reads of one pass is counted once",
			passes: []pass{
				{members: []member{mem(10, 1, 5, 0), mem(11, 10, 20, 0)}},
				{members: []member{mem(10, 1, 5, 0)}},
				{members: []member{mem(10, 1, 5+20, 20)}},
				{members: []member{mem(10, 1, 6+20, 20)}},
			},
			want: []uint64{25, 25, 25, 26},
		},
		{
			name: "the late child reaches a grandparent when the parent goes too",
			passes: []pass{
				{members: []member{mem(9, 1, 1, 0), mem(10, 9, 5, 0), mem(11, 10, 20, 0)}},
				{members: []member{mem(9, 1, 1, 0), mem(10, 9, 5, 0)}},
				{members: []member{mem(9, 1, 1+25, 25)}}, // 10 reaped 11, then 9 reaped 10
			},
			want: []uint64{26, 26, 26},
		},
		{
			name: "child reaped without accounting (SIGCHLD ignored) is carried",
			passes: []pass{
				{members: []member{mem(10, 1, 5, 0), mem(11, 10, 20, 0)}},
				{members: []member{mem(10, 1, 6, 0)}},
			},
			want: []uint64{25, 26},
		},
		{
			name: "orphan leaving the tree alive keeps its time",
			passes: []pass{
				{members: []member{mem(10, 1, 5, 0), mem(11, 10, 3, 0), mem(12, 11, 40, 0)}},
				{members: []member{mem(10, 1, 5+3, 3)}, outside: []member{mem(12, 1, 60, 0)}},
				{members: []member{mem(10, 1, 9, 3)}, outside: []member{mem(12, 1, 80, 0)}},
			},
			want:    []uint64{48, 48, 49},
			ioExact: true,
		},
		{
			name: "root reaped by the launcher keeps the totals",
			passes: []pass{
				{members: []member{mem(10, 1, 35, 30)}},
				{members: nil},
				{members: nil},
			},
			want:    []uint64{35, 35, 35},
			ioExact: true,
		},
		{
			name: "pid reused by a new process is a new member",
			passes: []pass{
				{members: []member{mem(10, 1, 5, 0), mem(11, 10, 20, 0)}},
				{members: []member{mem(10, 1, 5+20, 20), {pid: 11, ppid: 10, start: 99, user: 1, ioOK: true}}},
			},
			want: []uint64{25, 26},
		},
		{
			name: "unexplained drop is clamped",
			passes: []pass{
				{members: []member{mem(10, 1, 50, 0)}},
				{members: []member{mem(10, 1, 40, 0)}},
				{members: []member{mem(10, 1, 45, 0)}},
			},
			want:    []uint64{50, 50, 55},
			ioExact: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a accountant
			var got []uint64
			for _, p := range tt.passes {
				live := fakeLive{}
				for _, m := range slices.Concat(p.members, p.outside) {
					live[m.pid] = m.start
				}
				ms := append(a.next(), p.members...)
				tot := a.account(ms, live)
				got = append(got, tot.user)
				if tt.ioExact && tot.read != tot.user*10 {
					t.Errorf("read = %d, want 10*user = %d", tot.read, tot.user*10)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("user totals = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAccountantUnreadableIOHolds(t *testing.T) {
	var a accountant
	live := fakeLive{10: 10}
	a.account(append(a.next(), mem(10, 1, 5, 0)), live)
	m := mem(10, 1, 6, 0)
	m.read, m.write, m.ioOK = 0, 0, false
	tot := a.account(append(a.next(), m), live)
	if tot.read != 50 || tot.write != 5 {
		t.Errorf("io after an unreadable pass = %d/%d, want the last readable 50/5", tot.read, tot.write)
	}
}
