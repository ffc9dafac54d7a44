#!/usr/bin/env bash
# Regenerates everything in results/: the full sweep on Kodak (every codec; the learned
# ones' rate–distortion items only where their weights are in torch.hub's cache, their
# complexity items always), as 512×512 centre crops and as full images, the report, and
# the codec speed table. Run from the repo root:
#     bash results/regenerate.sh [KODAK_DIR]      (default: $CODECBENCH_KODAK_DIR, else download)
# Without learned weights about 35 + 35 minutes with -n 2 on 2 cores (AVIF at speed 0
# dominates); WORKERS=N sets -n.
set -euo pipefail
kodak=${1:-${CODECBENCH_KODAK_DIR:-}}
args=(benchmarks -p no:cacheprovider -q -n "${WORKERS:-auto}" --dataset=kodak ${kodak:+--kodak-dir="$kodak"})
args+=(--benchmark-max-time=0.2)  # rounds = max(1, ceil(0.2 s / one round trip)): enough for medians
for crop in 512 none; do
    name=results/kodak-$([ "$crop" = none ] && echo full || echo crop$crop).json
    pytest "${args[@]}" --crop=$crop --benchmark-json="$name" || true  # failed items are reported, not fatal
    gzip -f "$name"
done
rm -f results/kodak-flops.json.gz  # complexity items measured apart, now part of the sweeps
codecbench report results/kodak-crop512.json.gz results/kodak-full.json.gz -o results
python benchmarks/codec_speed.py ${kodak:+--image="$kodak/kodim01.png"} --markdown results/codec-speed.md
