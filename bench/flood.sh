#!/usr/bin/env bash
# flood.sh [BINARY] [SOCKET_SPANS] [HTTP_SPANS] [local|remote]: peak memory of graphsignal
# under a flood (docs/protocol.md, "Memory bound"). The child,
# bench/flood-child.py, sends SOCKET_SPANS spans (default 1,000,000) over the
# local socket from 4 connections, then HTTP_SPANS spans (default 1,000,000)
# over OTLP/HTTP JSON from 4 threads, as fast as it can. The script samples
# graphsignal's own peak resident set (VmHWM in /proc/PID/status, which the
# kernel keeps as a high-water mark, so a peak between samples is not missed)
# until it exits, then prints what `graphsignal show --json` recorded:
# messages received and every drop. With "remote", the run also uploads to a
# Graphsignal API and an OTLP/HTTP endpoint (bench/fake-backend.py ok, both
# on one local server), so that the uploads' memory is in the peak too.
# Needs python3.
set -euo pipefail
bin=${1:-./bin/graphsignal}
sock_spans=${2:-1000000}
http_spans=${3:-1000000}
mode=${4:-local}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
backend=
trap '[ -n "$backend" ] && kill "$backend" 2>/dev/null; rm -rf "$tmp"' EXIT
export GRAPHSIGNAL_DATA_DIR=$tmp/data
remote=()
if [ "$mode" = remote ]; then
	python3 "$here/fake-backend.py" ok >"$tmp/url" 2>/dev/null &
	backend=$!
	until [ -s "$tmp/url" ]; do sleep 0.05; done
	url=$(head -1 "$tmp/url")
	remote=(--api-key bench-key-0123456789 --api-base "$url" --otlp-endpoint "$url")
fi
start=$(date +%s.%N)
"$bin" run --summary never "${remote[@]}" -- python3 "$here/flood-child.py" "$sock_spans" "$http_spans" 2>"$tmp/stderr" &
pid=$!
hwm=0
while status=$(cat /proc/$pid/status 2>/dev/null); do
	v=$(awk '/^VmHWM:/ {print $2}' <<<"$status")
	[[ -n $v && $v -gt $hwm ]] && hwm=$v
	[[ $(awk '/^State:/ {print $2}' <<<"$status") == Z ]] && break
	sleep 0.01
done
wait $pid || true
end=$(date +%s.%N)
sed 's/^/  stderr: /' "$tmp/stderr"
printf 'graphsignal peak RSS (VmHWM): %d KiB = %.1f MiB; wall %.1f s\n' "$hwm" "$(echo "$hwm/1024" | bc -l)" "$(echo "$end-$start" | bc -l)"
session=$("$bin" sessions --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions"][0]["session_id"])')
"$bin" show --json "$session" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k, v in sorted(d["intake"].items()):
    print(f"  {k} = {v}")'
