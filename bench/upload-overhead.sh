#!/usr/bin/env bash
# upload-overhead.sh [BINARY] [RUNS]: what a reachable destination adds to
# `graphsignal run -- true`: local mode against a run whose Graphsignal API
# (--api-key/--api-base) or OTLP/HTTP endpoint (--otlp-endpoint) is a local
# server answering 200 (bench/fake-backend.py ok, or the server at
# $BACKEND_URL when set), and against `true` alone. Interleaved rounds in a new random order each time; medians.
# Target (issue 8): a reachable destination costs at most 10% more wall
# time than local mode. Each command writes to its own data dir, whose
# journals are removed every 50 rounds so that the spool stays small.
set -euo pipefail
bin=$(realpath "${1:-./bin/graphsignal}")
runs=${2:-200}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
if [ -n "${BACKEND_URL:-}" ]; then
  url=$BACKEND_URL # another stand-in, already running
else
  python3 "$here/fake-backend.py" ok >"$tmp/url" 2>/dev/null &
  pid=$!
  until [ -s "$tmp/url" ]; do sleep 0.05; done
  url=$(head -1 "$tmp/url")
fi
python3 - "$bin" "$runs" "$tmp" "$url" <<'PY'
import os, random, shutil, statistics, sys, time
bin, runs, tmp, url = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
truebin = "/bin/true"
run = [bin, "run", "--summary", "never"]
cmds = {
    "true": [truebin],
    "local mode": run + ["--", truebin],
    "Graphsignal API (reachable)": run + ["--api-key", "bench-key-0123456789", "--api-base", url, "--", truebin],
    "OTLP/HTTP (reachable)": run + ["--otlp-endpoint", url, "--", truebin],
}
dirs = {k: f"{tmp}/data-{i}" for i, k in enumerate(cmds)}
res = {k: [] for k in cmds}
devnull = os.open(os.devnull, os.O_RDWR)
def once(k):
    argv = cmds[k]
    env = {**os.environ, "GRAPHSIGNAL_DATA_DIR": dirs[k]}
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(devnull, 0); os.dup2(devnull, 1); os.dup2(devnull, 2)
        os.execve(argv[0], argv, env)
    _, status = os.waitpid(pid, 0)
    dt = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"{k}: exit status {status}")
    return dt
for k in cmds:  # warm-up
    for _ in range(5): once(k)
order = list(cmds)
for i in range(runs):
    if i % 50 == 0:
        for d in dirs.values(): shutil.rmtree(d, ignore_errors=True)
    random.shuffle(order)
    for k in order:
        res[k].append(once(k))
true = statistics.median(res["true"])
local = statistics.median(res["local mode"])
for k, t in res.items():
    med = statistics.median(t)
    extra = ""
    if k not in ("true", "local mode"):
        extra = f"  vs local {(med-local)*1e3:+7.2f} ms ({(med/local-1)*100:+5.1f}%)"
    print(f"{k:28s} median {med*1e3:7.2f} ms  p90 {sorted(t)[int(len(t)*0.9)]*1e3:7.2f} ms{extra}")
print(f"runs={runs} (interleaved, shuffled); load average {os.getloadavg()[0]:.2f} at the end; {os.cpu_count()} CPUs")
PY
