#!/usr/bin/env bash
# upload-overhead.sh [BINARY] [RUNS]: what a reachable destination adds to
# `graphsignal run -- true`: local mode against a run whose Graphsignal API
# (--api-key/--api-base) or OTLP/HTTP endpoint (--otlp-endpoint) is a local
# server answering 200, and against `true` alone. Interleaved rounds in a
# new random order each time; medians. Target (issue 8): a reachable
# destination costs at most 10% more wall time than local mode. Each
# command writes to its own data dir, whose journals are removed every 50
# rounds so that the spool stays small.
#
# The server stands in for a backend on another machine, which costs this
# machine no CPU: by default bench/ok-backend.c (built here with cc), one
# epoll thread that answers at once, 0.2-0.3 ms of CPU per run. Others, for
# comparison (BENCHMARKS.md): STANDIN=python uses bench/fake-backend.py ok
# (1.6-1.8 ms of CPU per run, on the same 2 vCPUs as the run);
# BACKEND_URL=URL any server already running (an OpenTelemetry Collector,
# for OTLP).
set -euo pipefail
bin=$(realpath "${1:-./bin/graphsignal}")
runs=${2:-200}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
if [ -n "${BACKEND_URL:-}" ]; then
  url=$BACKEND_URL
  standin=$BACKEND_URL
else
  if [ "${STANDIN:-c}" = python ]; then
    standin="bench/fake-backend.py ok"
    python3 "$here/fake-backend.py" ok >"$tmp/url" 2>/dev/null &
  else
    standin="bench/ok-backend.c"
    cc -O2 -o "$tmp/ok-backend" "$here/ok-backend.c"
    "$tmp/ok-backend" >"$tmp/url" &
  fi
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
}" "stand-in: $standin"
