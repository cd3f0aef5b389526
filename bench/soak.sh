#!/usr/bin/env bash
# soak.sh: graphsignal's resident memory over a long run (docs/store.md,
# "Memory over a long run"; BENCHMARKS.md "Soak").
#
# It runs `graphsignal run -- sleep SOAK_SECONDS` with --sample-interval
# SOAK_INTERVAL in a fresh data dir (so the background indexer imports and
# the store grows the whole time), reads graphsignal's VmRSS from /proc every
# SOAK_EVERY seconds and, at the end, compares every sample taken after
# SOAK_WARMUP seconds with the first of them: it passes when all stay within
# ±SOAK_TOLERANCE_KB.
#
#   bench/soak.sh                                   # an hour at 100 ms (the contract)
#   SOAK_SECONDS=300 SOAK_INTERVAL=10ms bench/soak.sh   # compressed: as many samples as 50 min at 100 ms
#
# GRAPHSIGNAL names the binary (default: built into a temporary folder from
# this checkout). The samples go to SOAK_OUT (default soak.csv in the
# temporary folder): seconds,rss_kb. Exit status 0 when within the
# tolerance, 1 otherwise.
set -euo pipefail

SOAK_SECONDS=${SOAK_SECONDS:-3600}
SOAK_INTERVAL=${SOAK_INTERVAL:-100ms}
SOAK_EVERY=${SOAK_EVERY:-5}
SOAK_WARMUP=${SOAK_WARMUP:-60}
SOAK_TOLERANCE_KB=${SOAK_TOLERANCE_KB:-2048}

work=$(mktemp -d "${TMPDIR:-/tmp}/gs-soak.XXXXXX")
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work/data"' EXIT
pid=
if [ -z "${GRAPHSIGNAL:-}" ]; then
	GRAPHSIGNAL=$work/graphsignal
	(cd "$(dirname "$0")/.." && CGO_ENABLED=0 go build -trimpath -o "$GRAPHSIGNAL" ./cmd/graphsignal)
fi
out=${SOAK_OUT:-$work/soak.csv}

"$GRAPHSIGNAL" run --data-dir "$work/data" --sample-interval "$SOAK_INTERVAL" -- sleep "$SOAK_SECONDS" &
pid=$!
start=$(date +%s)
echo "seconds,rss_kb" >"$out"
while kill -0 "$pid" 2>/dev/null; do
	rss=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
	[ -n "$rss" ] && echo "$(($(date +%s) - start)),$rss" >>"$out"
	sleep "$SOAK_EVERY"
done
wait "$pid" || true

awk -F, -v warm="$SOAK_WARMUP" -v tol="$SOAK_TOLERANCE_KB" -v interval="$SOAK_INTERVAL" '
NR == 1 { next }
{ last = $2; n++ }
$1 >= warm && base == "" { base = $2 }
$1 >= warm { if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2 }
END {
	if (base == "") { print "soak: the run ended before the warm-up"; exit 1 }
	printf "soak: interval %s, %d samples; RSS at %ds %.1f MB, after it min %.1f MB, max %.1f MB, last %.1f MB\n",
		interval, n, warm, base/1024, min/1024, max/1024, last/1024
	if (max - base > tol || base - min > tol) { printf "soak: FAIL: outside ±%.1f MB\n", tol/1024; exit 1 }
	printf "soak: ok: within ±%.1f MB\n", tol/1024
}' "$out"
echo "samples: $out"
