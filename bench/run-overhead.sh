#!/usr/bin/env bash
# run-overhead.sh [BINARY] [RUNS]: median wall time and peak RSS of
# `graphsignal run -- true` against `true` alone, same machine, the commands
# in a new random order every round (the order moves a command by up to
# 0.6 ms on a 2-vCPU VM). Uses python3 for precise timing (perf_counter) and
# /usr/bin/time for peak memory (a child forked by python3 reports python's
# own RSS in ru_maxrss when it is larger than the program's).
#
# The same binary is timed in three page-cache states, because on this
# project's VM the state alone moves the result by 1-2 ms (the number of page
# faults is the same; their cost is not, see BENCHMARKS.md):
#   linked     BINARY as `go build` wrote it (through mmap)
#   installed  a copy written with write(2), as cp, install or a package
#              manager leave it
#   from disk  a copy evicted from the page cache and faulted back in by
#              exec, as after a reboot
set -euo pipefail
bin=${1:-./bin/graphsignal}
runs=${2:-200}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GRAPHSIGNAL_DATA_DIR=${GRAPHSIGNAL_DATA_DIR:-$tmp/data}
cp "$bin" "$tmp/installed"
cp "$bin" "$tmp/fromdisk"
python3 - "$tmp/fromdisk" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)
PY
python3 - "$bin" "$tmp/installed" "$tmp/fromdisk" "$runs" <<'PY'
import os, random, statistics, sys, time
linked, installed, fromdisk, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
truebin = "/bin/true"
def run(b): return [b, "run", "--summary", "never", "--", truebin]
cmds = {"true": [truebin],
        "graphsignal run -- true (linked)": run(linked),
        "graphsignal run -- true (installed)": run(installed),
        "graphsignal run -- true (from disk)": run(fromdisk)}
res = {k: [] for k in cmds}
devnull = os.open(os.devnull, os.O_RDWR)
def once(argv):
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(devnull, 0); os.dup2(devnull, 1); os.dup2(devnull, 2)
        os.execv(argv[0], argv)
    _, status = os.waitpid(pid, 0)
    dt = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"{argv} exited with status {status}")
    return dt
for k, argv in cmds.items():  # warm-up (this faults "from disk" back in)
    for _ in range(5): once(argv)
order = list(cmds)
for _ in range(runs):
    random.shuffle(order)
    for k in order:
        res[k].append(once(cmds[k]))
base = statistics.median(res["true"])
for k, t in res.items():
    med = statistics.median(t)
    added = "" if k == "true" else f"  added {(med-base)*1e3:6.3f} ms"
    print(f"{k:38s} median {med*1e3:7.3f} ms  p90 {sorted(t)[int(len(t)*0.9)]*1e3:7.3f} ms{added}")
print(f"runs={runs}")
PY
rss=$(for _ in $(seq 20); do /usr/bin/time -f %M "$tmp/installed" run --summary never -- /bin/true 2>&1 >/dev/null; done | sort -n)
echo "graphsignal peak RSS over 20 runs: median $(echo "$rss" | sed -n 10p) KiB, max $(echo "$rss" | tail -1) KiB"
