#!/usr/bin/env python3
"""ab.py RUNS TMPDIR BASE COMMANDS_JSON [NOTE]: the A/B harness of the bench
scripts that compare `graphsignal run` variants side by side.

COMMANDS_JSON is an object of label -> argv, in the order to report. Each
command runs RUNS times, all of them once per round in a new random order
(after 5 warm-up runs each), with stdio on /dev/null and its own
GRAPHSIGNAL_DATA_DIR under TMPDIR, wiped every 50 rounds so that the spool
stays small; a non-zero exit status stops the bench. Prints each command's
median and p90, and for every command after BASE in the list its median
against BASE's; then NOTE (if any), the rounds and the load average."""
import json, os, random, shutil, statistics, sys, time

runs, tmp, base = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cmds = json.loads(sys.argv[4])
note = sys.argv[5] if len(sys.argv) > 5 else ""
labels = list(cmds)
dirs = {k: f"{tmp}/data-{i}" for i, k in enumerate(labels)}
res = {k: [] for k in labels}
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

for k in labels:  # warm-up
    for _ in range(5): once(k)
order = list(labels)
for i in range(runs):
    if i % 50 == 0:
        for d in dirs.values(): shutil.rmtree(d, ignore_errors=True)
    random.shuffle(order)
    for k in order:
        res[k].append(once(k))
ref = statistics.median(res[base])
after = labels.index(base)
for i, k in enumerate(labels):
    t = res[k]
    med = statistics.median(t)
    extra = ""
    if i > after:
        extra = f"  vs {base} {(med-ref)*1e3:+7.2f} ms ({(med/ref-1)*100:+5.1f}%)"
    print(f"{k:28s} median {med*1e3:7.2f} ms  p90 {sorted(t)[int(len(t)*0.9)]*1e3:7.2f} ms{extra}")
prefix = f"{note}; " if note else ""
print(f"{prefix}runs={runs} (interleaved, shuffled); load average {os.getloadavg()[0]:.2f} at the end; {os.cpu_count()} CPUs")
