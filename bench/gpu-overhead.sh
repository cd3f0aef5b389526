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
here=$(cd "$(dirname "$0")" && pwd)
prog=$(python3 -c 'import json, sys; print(", ".join(json.dumps(a) for a in sys.argv[1].split()))' "${PROGRAM:-/bin/true}")
run="\"$bin\", \"run\", \"--summary\", \"never\""
python3 "$here/ab.py" "$runs" "$tmp" "--gpu off" "{
  \"program alone\": [$prog],
  \"--gpu off\": [$run, \"--gpu\", \"off\", \"--\", $prog],
  \"--gpu auto (no driver)\": [$run, \"--gpu\", \"auto\", \"--\", $prog],
  \"--gpu on (sampler)\": [$run, \"--gpu\", \"on\", \"--gpu-sampler\", \"$sampler\", \"--\", $prog]
}" "program: ${PROGRAM:-/bin/true}"
