#!/usr/bin/env bash
# stderr-pipe-overhead.sh BASE NEW [RUNS]: what the stderr keeper costs.
# Median wall time of `graphsignal run -- true` for two binaries (BASE
# without a keeper, NEW with one), with stderr a pipe (teed, so NEW starts
# the keeper) and with stderr /dev/null (no tee, no keeper), against `true`
# alone; the commands in a new random order every round, as
# bench/run-overhead.sh does. For the pipe, two times: until the command
# exits (what `cmd; next` waits for) and until its stderr pipe reaches
# end-of-file (what `$(cmd 2>&1)` or `cmd 2>&1 | cat` waits for; the keeper
# holds the pipe until it has exited). Also graphsignal's own CPU time
# (user+sys, from wait4; the keeper, which graphsignal never reaps, is not
# in it), which is steadier than wall time on a busy machine.
set -euo pipefail
base=$1 new=$2 runs=${3:-200}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GRAPHSIGNAL_DATA_DIR=${GRAPHSIGNAL_DATA_DIR:-$tmp/data}
python3 - "$base" "$new" "$runs" <<'PY'
import os, random, statistics, sys, time
base, new, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
truebin = "/bin/true"
def run(b): return [b, "run", "--summary", "never", "--", truebin]
cmds = {"true, stderr pipe": ([truebin], True)}
for name, b in (("base", base), ("new", new)):
    cmds[f"{name}: run -- true, stderr pipe"] = (run(b), True)
    cmds[f"{name}: run -- true, stderr /dev/null"] = (run(b), False)
devnull = os.open(os.devnull, os.O_RDWR)
ex = {k: [] for k in cmds}
eof = {k: [] for k in cmds}
cpu = {k: [] for k in cmds}
def once(k):
    argv, pipe = cmds[k]
    r, w = os.pipe() if pipe else (None, devnull)
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(devnull, 0); os.dup2(devnull, 1); os.dup2(w, 2)
        os.execv(argv[0], argv)
    if pipe:
        os.close(w)
    _, status, ru = os.wait4(pid, 0)
    t1 = time.perf_counter()
    if pipe:
        while os.read(r, 65536):
            pass
        os.close(r)
    t2 = time.perf_counter()
    if status != 0:
        sys.exit(f"{argv} exited with status {status}")
    return t1 - t0, t2 - t0, ru.ru_utime + ru.ru_stime
for k in cmds:
    for _ in range(5):
        once(k)
order = list(cmds)
for _ in range(runs):
    random.shuffle(order)
    for k in order:
        a, b, c = once(k)
        ex[k].append(a); eof[k].append(b); cpu[k].append(c)
for k, (argv, pipe) in cmds.items():
    line = f"{k:38s} exit {statistics.median(ex[k])*1000:7.2f} ms"
    line += f"   stderr EOF {statistics.median(eof[k])*1000:7.2f} ms" if pipe else " " * 26
    line += f"   cpu {statistics.median(cpu[k])*1000:6.2f} ms"
    print(line)
PY
