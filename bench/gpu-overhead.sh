#!/usr/bin/env bash
# gpu-overhead.sh [BINARY] [SAMPLER] [RUNS]: what GPU support costs
# `graphsignal run -- true` (docs/gpu.md), interleaved in a new random order
# every round, medians:
#   --gpu off                  the baseline
#   --gpu auto                 a machine without an NVIDIA driver: one stat
#                              (target: at most 0.5 ms more than off)
#   --gpu on --gpu-sampler S   the sampler process started beside the
#                              program, as on a GPU machine (here NVML is
#                              absent: it writes its note and ends, so its
#                              own NVML start-up is not in the figure)
# SAMPLER defaults to bin/graphsignal-gpu (README's set-up builds it).
# PROGRAM (default /bin/true) is what runs: the sampler starts only after
# 50 ms, so PROGRAM="/bin/sleep 0.2" measures a run that does start it.
set -euo pipefail
bin=$(realpath "${1:-./bin/graphsignal}")
sampler=$(realpath "${2:-./bin/graphsignal-gpu}")
runs=${3:-200}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$bin" "$sampler" "$runs" "$tmp" "${PROGRAM:-/bin/true}" <<'PY'
import os, random, shutil, statistics, sys, time
bin, sampler, runs, tmp = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
prog = sys.argv[5].split()
run = [bin, "run", "--summary", "never"]
cmds = {
    "program alone": prog,
    "--gpu off": run + ["--gpu", "off", "--"] + prog,
    "--gpu auto (no driver)": run + ["--gpu", "auto", "--"] + prog,
    "--gpu on (sampler)": run + ["--gpu", "on", "--gpu-sampler", sampler, "--"] + prog,
}
dirs = {k: f"{tmp}/data-{i}" for i, k in enumerate(cmds)}
res = {k: [] for k in cmds}
devnull = os.open(os.devnull, os.O_RDWR)
def once(k):
    env = {**os.environ, "GRAPHSIGNAL_DATA_DIR": dirs[k]}
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(devnull, 0); os.dup2(devnull, 1); os.dup2(devnull, 2)
        os.execve(cmds[k][0], cmds[k], env)
    _, status = os.waitpid(pid, 0)
    dt = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"{k}: exit status {status}")
    return dt
for k in cmds:
    for _ in range(5): once(k)
order = list(cmds)
for i in range(runs):
    if i % 50 == 0:
        for d in dirs.values(): shutil.rmtree(d, ignore_errors=True)
    random.shuffle(order)
    for k in order:
        res[k].append(once(k))
base = statistics.median(res["--gpu off"])
for k, t in res.items():
    med = statistics.median(t)
    extra = "" if k in ("program alone", "--gpu off") else f"  vs off {(med-base)*1e3:+7.2f} ms ({(med/base-1)*100:+5.1f}%)"
    print(f"{k:28s} median {med*1e3:7.2f} ms  p90 {sorted(t)[int(len(t)*0.9)]*1e3:7.2f} ms{extra}")
print(f"program: {' '.join(prog)}; runs={runs} (interleaved, shuffled); load average {os.getloadavg()[0]:.2f} at the end; {os.cpu_count()} CPUs")
PY
