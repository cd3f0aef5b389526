#!/usr/bin/env bash
# run-overhead.sh [BINARY] [RUNS]: median wall time and peak RSS of
# `graphsignal run -- true` against `true` alone, interleaved, same machine.
# Prints one line per command and the ratio. Uses python3 for precise timing
# (perf_counter) and wait4's ru_maxrss for peak memory.
set -euo pipefail
bin=${1:-./bin/graphsignal}
runs=${2:-200}
export GRAPHSIGNAL_DATA_DIR=${GRAPHSIGNAL_DATA_DIR:-$(mktemp -d)}
python3 - "$bin" "$runs" <<'PY'
import os, statistics, sys, time
binary, runs = sys.argv[1], int(sys.argv[2])
truebin = "/bin/true"
cmds = {"true": [truebin], "graphsignal run -- true": [binary, "run", "--summary", "never", "--", truebin]}
res = {k: ([], []) for k in cmds}
devnull = os.open(os.devnull, os.O_RDWR)
def once(argv):
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(devnull, 0); os.dup2(devnull, 1)
        os.execv(argv[0], argv)
    _, status, ru = os.wait4(pid, 0)
    dt = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"{argv} exited with status {status}")
    return dt, ru.ru_maxrss
for k, argv in cmds.items():  # warm-up
    for _ in range(5): once(argv)
for _ in range(runs):
    for k, argv in cmds.items():
        dt, rss = once(argv)
        res[k][0].append(dt); res[k][1].append(rss)
for k in cmds:
    t, m = res[k]
    print(f"{k:28s} median {statistics.median(t)*1e3:7.3f} ms  p90 {sorted(t)[int(len(t)*0.9)]*1e3:7.3f} ms  peak RSS max {max(m)/1024:6.1f} MiB  median {statistics.median(m)/1024:6.1f} MiB")
a = statistics.median(res["graphsignal run -- true"][0]); b = statistics.median(res["true"][0])
print(f"added: {(a-b)*1e3:.3f} ms per run (ratio {a/b:.2f}x), runs={runs}")
PY
