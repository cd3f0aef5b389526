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
t=/bin/true
run="\"$bin\", \"run\", \"--summary\", \"never\""
python3 "$here/ab.py" "$runs" "$tmp" "local mode" "{
  \"true\": [\"$t\"],
  \"local mode\": [$run, \"--\", \"$t\"],
  \"Graphsignal API (reachable)\": [$run, \"--api-key\", \"bench-key-0123456789\", \"--api-base\", \"$url\", \"--\", \"$t\"],
  \"OTLP/HTTP (reachable)\": [$run, \"--otlp-endpoint\", \"$url\", \"--\", \"$t\"]
}"
