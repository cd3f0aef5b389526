#!/usr/bin/env bash
# startup-floor.sh [RUNS]: what process start-up alone costs on this machine
# for a Go binary that links the dependencies the issues prescribe (cobra,
# viper, modernc.org/sqlite, OpenTelemetry pdata, net/http) and does nothing,
# next to `true`, a hello-world Go binary and `graphsignal version`. Every
# `graphsignal run` pays at least the floor before it can start the child.
# Run from the repository root; builds into a temporary directory.
set -euo pipefail
runs=${1:-200}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build() { # build NAME IMPORTS...
	local name=$1; shift
	mkdir -p "$tmp/src/$name"
	{ echo "package main"; for p in "$@"; do echo "import _ \"$p\""; done; echo "func main() {}"; } > "$tmp/src/$name/main.go"
	CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$tmp/$name" "./$(realpath --relative-to=. "$tmp/src/$name")" 2>/dev/null ||
		(cd "$tmp/src/$name" && cp "$OLDPWD/go.mod" "$OLDPWD/go.sum" . && sed -i '1s|.*|module floor|' go.mod && CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags='-s -w' -o "$tmp/$name" .)
}
build hello
build floor github.com/spf13/cobra github.com/spf13/viper modernc.org/sqlite \
	go.opentelemetry.io/collector/pdata/ptrace go.opentelemetry.io/collector/pdata/pmetric \
	go.opentelemetry.io/collector/pdata/plog net/http
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$tmp/graphsignal" ./cmd/graphsignal
export GRAPHSIGNAL_DATA_DIR="$tmp/data"
python3 - "$runs" /bin/true "$tmp/hello" "$tmp/floor" "$tmp/graphsignal version" "$tmp/graphsignal run --summary never -- /bin/true" <<'PY'
import os, statistics, sys, time
runs = int(sys.argv[1]); cmds = [a.split() for a in sys.argv[2:]]
devnull = os.open(os.devnull, os.O_RDWR)
def once(argv):
    t0 = time.perf_counter(); pid = os.fork()
    if pid == 0:
        for fd in (0, 1, 2): os.dup2(devnull, fd)
        os.execv(argv[0], argv)
    os.wait4(pid, 0); return time.perf_counter() - t0
res = [[] for _ in cmds]
for c in cmds:
    for _ in range(5): once(c)
for _ in range(runs):
    for i, c in enumerate(cmds): res[i].append(once(c))
base = statistics.median(res[0])
names = ["true", "hello-world Go binary", "floor: prescribed dependencies, empty main", "graphsignal version", "graphsignal run -- true"]
for n, r in zip(names, res):
    m = statistics.median(r)
    print(f"{n:44s} median {m*1e3:7.3f} ms   +{(m-base)*1e3:6.3f} ms over true")
PY
