#!/usr/bin/env bash
# Regenerates everything in results/: the full conventional-codec sweep on Kodak, as
# 512×512 centre crops and as full images, then the report. Run from the repo root:
#     bash results/regenerate.sh [KODAK_DIR]      (default: $CODECBENCH_KODAK_DIR, else download)
# Takes about an hour on 2 cores (AVIF at speed 0 dominates); use a bigger machine's -n.
set -euo pipefail
kodak=${1:-${CODECBENCH_KODAK_DIR:-}}
args=(benchmarks -p no:cacheprovider -q -n "${WORKERS:-auto}" --dataset=kodak ${kodak:+--kodak-dir="$kodak"})
pytest "${args[@]}" --crop=512 --benchmark-json=results/kodak-crop512.json || true   # failures are reported, not fatal
pytest "${args[@]}" --crop=none --benchmark-json=results/kodak-full.json || true
codecbench report results/kodak-crop512.json results/kodak-full.json -o results
