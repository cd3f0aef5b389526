// Package procmon samples the process tree of a launched program: the root
// process (the child graphsignal started) and all its descendants, plus a few
// host-wide figures. It also reads the cgroup OOM-kill counter that tells an
// OOM kill from a plain SIGKILL.
//
// # One pass
//
// A Sampler takes one pass per call to Sample: one scan of /proc that reads
// every /proc/<pid>/stat once (parent map, CPU times, threads, virtual
// size), then /proc/<pid>/status (resident set and its peak), /proc/<pid>/io
// and the entries of /proc/<pid>/fd for members of the tree only, then
// /proc/stat and /proc/meminfo for the host. There is no per-process
// recursive walk. Buffers are reused between passes, so a pass on Linux
// allocates almost nothing. docs/metrics.md says what each figure means and
// when Run samples.
//
// # Cumulative accounting
//
// CPU time and I/O bytes are cumulative over the run and count processes that
// lived between two samples. The tree's CPU time is the sum over live members
// of (utime+stime) + (cutime+cstime): when a member reaps a child, the
// child's whole time moves into the parent's c-fields, so it is counted once
// and never lost; /proc/<pid>/io likewise includes reaped children. The totals
// are kept monotone: the last seen contribution of a member that leaves the
// tree other than by being reaped inside it (its reaper is outside the tree,
// or its parent ignores SIGCHLD so the kernel reaps it without accounting)
// is carried forward.
//
// Known loss: a process orphaned while alive is reparented to init (or to a
// subreaper outside the tree) and so leaves the tree; its time up to the last
// sample that saw it is kept, the CPU and I/O it uses after that are not
// counted. A launcher that is a subreaper (PR_SET_CHILD_SUBREAPER, or PID 1)
// passes WithAdopter so that such orphans stay in the tree.
//
// # At exit
//
// The intended end of a run: the launcher waits for the root with
// waitid(WEXITED|WNOWAIT), takes a last Sample while the root is a zombie
// (its stat still holds the cutime/cstime of everything it reaped), then
// reaps it with wait4, whose rusage is exact. A zombie root is a member of
// the tree and its times are read like a live process's.
package procmon
