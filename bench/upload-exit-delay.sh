#!/usr/bin/env bash
# upload-exit-delay.sh [BINARY] [RUNS]: how much later `graphsignal run`
# exits when its backend fails, for each failure mode and both destinations
# (the Graphsignal API via --api-key/--api-base, OTLP via --otlp-endpoint),
# against the same run in local mode, in shuffled order. The child exits 7:
# every run must exit 7 too. Target: delay <= flush timeout (2 s) + 100 ms.
set -euo pipefail
bin=$(realpath "${1:-./bin/graphsignal}")
runs=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT
declare -A url
for mode in ok 500 429 401 hang silent tls refuse; do
  python3 "$here/fake-backend.py" "$mode" >"$tmp/$mode.url" &
  pids+=($!)
  until [ -s "$tmp/$mode.url" ]; do sleep 0.05; done
  url[$mode]=$(head -1 "$tmp/$mode.url")
done
url[dns]=http://graphsignal-bench.invalid:4318
export GRAPHSIGNAL_DATA_DIR="$tmp/data"
pairs=()
for mode in "${!url[@]}"; do pairs+=("$mode" "${url[$mode]}"); done
python3 - "$bin" "$runs" "$tmp" "${pairs[@]}" <<'PY'
import os, random, statistics, subprocess, sys, time
bin, runs, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kv = sys.argv[4:]
urls = dict(zip(kv[0::2], kv[1::2]))
child = ["--", "sh", "-c", "exit 7"]
cmds = {"local mode": [bin, "run", "--summary", "never"] + child}
for mode, u in urls.items():
    cmds[f"graphsignal API, {mode}"] = [bin, "run", "--summary", "never", "--api-key", "bench-key-0123456789",
                                       "--api-base", u] + child
    cmds[f"OTLP http, {mode}"] = [bin, "run", "--summary", "never", "--otlp-endpoint", u] + child
res = {k: [] for k in cmds}
order = list(cmds)
for _ in range(runs):
    random.shuffle(order)
    for k in order:
        t0 = time.perf_counter()
        p = subprocess.run(cmds[k], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "GRAPHSIGNAL_DATA_DIR": f"{tmp}/data-{abs(hash(k))}"})
        dt = time.perf_counter() - t0
        if p.returncode != 7:
            sys.exit(f"{k}: exit status {p.returncode}, want 7")
        res[k].append(dt)
base = statistics.median(res["local mode"])
print(f"local mode: median {base*1000:.1f} ms over {runs} runs; every run exited 7")
print(f"{'destination, failure':34} {'median delay':>13} {'max delay':>10}")
for k in cmds:
    if k == "local mode": continue
    t = res[k]
    print(f"{k:34} {(statistics.median(t)-base)*1000:10.0f} ms {(max(t)-base)*1000:7.0f} ms")
PY
