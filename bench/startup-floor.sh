#!/usr/bin/env bash
# startup-floor.sh [RUNS]: what process start-up alone costs on this machine
# for a Go binary that links the dependencies the issues prescribe (cobra,
# viper, modernc.org/sqlite, OpenTelemetry pdata, net/http) and does nothing,
# next to `true`, a hello-world Go binary, `graphsignal version`, and the
# floor binary as the least possible wrapper (floor+exec: it fork/execs its
# arguments and waits). Every `graphsignal run` pays at least floor+exec.
# Run from the repository root; builds into a temporary directory. Every
# binary is timed as a copy written with write(2) (see run-overhead.sh on
# page-cache states), the commands in a new random order every round.
set -euo pipefail
runs=${1:-200}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wrapper='import ("os"; "syscall")
func main() {
	pid, err := syscall.ForkExec(os.Args[1], os.Args[1:], &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{0, 1, 2}})
	if err != nil { os.Exit(127) }
	var ws syscall.WaitStatus
	_, _ = syscall.Wait4(pid, &ws, 0, nil)
	os.Exit(ws.ExitStatus())
}'
build() { # build NAME MAIN IMPORTS...
	local name=$1 main=$2; shift 2
	mkdir -p "$tmp/src/$name"
	{ echo "package main"; for p in "$@"; do echo "import _ \"$p\""; done; echo "$main"; } > "$tmp/src/$name/main.go"
	CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$tmp/$name" "./$(realpath --relative-to=. "$tmp/src/$name")" 2>/dev/null ||
		(cd "$tmp/src/$name" && cp "$OLDPWD/go.mod" "$OLDPWD/go.sum" . && sed -i '1s|.*|module floor|' go.mod && CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags='-s -w' -o "$tmp/$name" .)
}
prescribed=(github.com/spf13/cobra github.com/spf13/viper modernc.org/sqlite
	go.opentelemetry.io/collector/pdata/ptrace go.opentelemetry.io/collector/pdata/pmetric
	go.opentelemetry.io/collector/pdata/plog net/http)
build hello 'func main() {}'
build floor 'func main() {}' "${prescribed[@]}"
build floorexec "$wrapper" "${prescribed[@]}"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$tmp/graphsignal" ./cmd/graphsignal
for b in hello floor floorexec graphsignal; do cp "$tmp/$b" "$tmp/$b.installed"; done
export GRAPHSIGNAL_DATA_DIR="$tmp/data"
python3 - "$runs" /bin/true "$tmp/hello.installed" "$tmp/floor.installed" "$tmp/floorexec.installed /bin/true" "$tmp/graphsignal.installed version" "$tmp/graphsignal.installed run --summary never -- /bin/true" <<'PY'
import os, random, statistics, sys, time
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
order = list(range(len(cmds)))
for _ in range(runs):
    random.shuffle(order)
    for i in order: res[i].append(once(cmds[i]))
base = statistics.median(res[0])
names = ["true", "hello-world Go binary", "floor: prescribed dependencies, empty main", "floor+exec: the same, fork/exec true, wait", "graphsignal version", "graphsignal run -- true"]
for n, r in zip(names, res):
    m = statistics.median(r)
    print(f"{n:44s} median {m*1e3:7.3f} ms   +{(m-base)*1e3:6.3f} ms over true")
PY
