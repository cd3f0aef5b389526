#!/usr/bin/env bash
# show-trace.sh [BINARY] [RUNS] [BASELINE]: how long `graphsignal show
# SESSION --trace ...` takes on a trace of 10,000 spans (the most a trace
# lists), each with attributes, token usage and a JSON payload, recorded
# through a real run (bench/trace-child.py over the run's socket). Reports
# the median wall time and CPU time (user+sys) of: the trace by its id
# (text), the slowest trace (text), and the trace by its id as JSON. With
# BASELINE (another binary), each command of both binaries runs once per
# round in a new random order, on the same store.
# Target (issue 11): `show --trace` on a 10,000-span trace in at most 200 ms.
set -euo pipefail
bin=$(realpath "${1:-./bin/graphsignal}")
runs=${2:-20}
base=${3:+$(realpath "$3")}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GRAPHSIGNAL_DATA_DIR=$tmp/data
"$bin" run --summary never --tag session_id=big -- python3 "$here/trace-child.py" 10000 >"$tmp/trace"
trace=$(cat "$tmp/trace")
"$bin" show big --trace "$trace" >/dev/null # the journal is imported once, here
python3 - "$runs" "$trace" "$bin" "$base" <<'PY'
import os, random, statistics, sys, time
runs, trace, bins = int(sys.argv[1]), sys.argv[2], [b for b in sys.argv[3:] if b]
cmds = {}
for i, b in enumerate(bins):
    tag = "" if i == 0 else " (baseline)"
    cmds["--trace ID" + tag] = [b, "show", "big", "--trace", trace]
    cmds["--trace slowest" + tag] = [b, "show", "big", "--trace", "slowest"]
    cmds["--trace ID --json" + tag] = [b, "show", "big", "--trace", trace, "--json"]
devnull = os.open(os.devnull, os.O_RDWR)
res = {k: ([], []) for k in cmds}
def once(argv):
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(devnull, 1); os.dup2(devnull, 2)
        os.execv(argv[0], argv)
    _, status, ru = os.wait4(pid, 0)
    if status != 0:
        sys.exit(f"{argv}: exit status {status}")
    return time.perf_counter() - t0, ru.ru_utime + ru.ru_stime
order = list(cmds)
for _ in range(runs):
    random.shuffle(order)
    for k in order:
        wall, cpu = once(cmds[k])
        res[k][0].append(wall); res[k][1].append(cpu)
for k in cmds:
    w, c = res[k]
    print(f"{k:32s} wall median {statistics.median(w)*1000:7.1f} ms  p90 {sorted(w)[int(len(w)*0.9)]*1000:7.1f} ms  "
          f"cpu median {statistics.median(c)*1000:7.1f} ms")
print(f"runs={runs} (interleaved, shuffled); load average {os.getloadavg()[0]:.2f} at the end; {os.cpu_count()} CPUs")
PY
