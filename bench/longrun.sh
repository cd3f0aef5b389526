#!/usr/bin/env bash
# longrun.sh: disk used per day of a long run, journal and database
# (docs/store.md, "Long runs"; BENCHMARKS.md "Long runs").
#
# It runs BenchmarkLongRunDisk (internal/spool), a compressed-time
# simulation: each day's samples (13 series, every LONGRUN_INTERVAL) are
# appended to a run's journal through the journal API as fast as they can
# be written, imported every simulated minute (which reclaims the journal's
# consumed start) and downsampled every simulated 10 minutes, as a run's
# background indexer does; after each simulated day it prints the disk used
# (allocated blocks) by the journal and by the database with its WAL.
#
#   bench/longrun.sh                      # 3 days at 1 s
#   LONGRUN_DAYS=8 bench/longrun.sh       # past the 7-day tier
#   LONGRUN_PLAIN=1 bench/longrun.sh      # without reclaiming and downsampling, to compare
set -euo pipefail
cd "$(dirname "$0")/.."
export LONGRUN_DAYS=${LONGRUN_DAYS:-3}
export LONGRUN_INTERVAL=${LONGRUN_INTERVAL:-1s}
export LONGRUN_PLAIN=${LONGRUN_PLAIN:-0}
go test -run '^$' -bench '^BenchmarkLongRunDisk$' -benchtime 1x -timeout 0 -v ./internal/spool/ |
	grep -E 'longrun_bench_test|MB-day|refused'
