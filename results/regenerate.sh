#!/usr/bin/env bash
# Regenerates everything in results/: the full sweep on Kodak (every codec and transform × coder;
# the learned ones' rate–distortion items only where their weights are in their caches, their
# complexity items always), as 512×512 centre crops and as full images, the report, and
# the codec speed table. The FFmpeg anchors (VVC, HEVC, AV1) are swept apart, with
# PSNR-YCbCr too. Run from the repo root:
#     bash results/regenerate.sh [KODAK_DIR]      (default: $CODECBENCH_KODAK_DIR, else download)
# Without learned weights about 35 + 35 minutes with -n 2 on 2 cores (AVIF at speed 0
# dominates) before the transform × coder matrix, which adds about 21 minutes on the crops
# (measured) and, estimated, 30 on the full images; about 20 + 28 minutes for the anchors
# (VVenC's medium preset dominates); WORKERS=N sets -n. With VTM=FOLDER (its bin/ holding
# EncoderAppStatic and DecoderAppStatic, and encoder_intra_vtm.cfg beside them or in ../cfg), VTM
# all-intra on the full images too: hours of CPU (see results/README.md), resumable from its records.
# Then JPEG AI's metrics on the conventional codecs (about 25 minutes) and the metric speed table.
set -euo pipefail
kodak=${1:-${CODECBENCH_KODAK_DIR:-}}
args=(benchmarks -p no:cacheprovider -q -n "${WORKERS:-auto}" --dataset=kodak ${kodak:+--kodak-dir="$kodak"})
args+=(--benchmark-max-time=0.2)  # rounds = max(1, ceil(0.2 s / one round trip)): enough for medians
anchors=(-m ffmpeg --metrics=psnr,ssim,ms-ssim,lpips-alex,psnr-ycbcr)
for crop in 512 none; do
    size=$([ "$crop" = none ] && echo full || echo crop$crop)
    # failed items are reported, not fatal
    pytest "${args[@]}" --crop=$crop -m "not ffmpeg" --benchmark-json="results/kodak-$size.json" || true
    pytest "${args[@]}" --crop=$crop "${anchors[@]}" --benchmark-json="results/kodak-anchors-$size.json" || true
    gzip -f "results/kodak-$size.json" "results/kodak-anchors-$size.json"
done
if [ -n "${VTM:-}" ]; then
    pytest "${args[@]}" --crop=none --codecs=vtm,vtm-compressai --tool=vtm="$VTM" --timeout=3600 \
        --metrics=psnr,ssim,ms-ssim,lpips-alex,psnr-ycbcr --records=.codecbench/vtm-records --resume \
        --benchmark-json=results/kodak-vtm-full.json || true
    gzip -f results/kodak-vtm-full.json && rm -f results/kodak-vtm-full-qp*.json.gz  # this session's phases, one per QP
fi
# measured apart (see results/README.md); the sweeps above include them now
rm -f results/kodak-anchors-update-*.json.gz results/kodak-*-learned-skips.json.gz results/kodak-matrix-*.json.gz \
    results/kodak-learned-full.json.gz results/kodak-wavelet-*.json.gz
codecbench report results/kodak-*.json.gz -o results --anchor vtm,jpeg,vvc --published compressai
# JPEG AI's metric set and BD-rate recipe: the conventional codecs on the full images against VVC
pytest "${args[@]}" --crop=none --codecs=jpeg,webp,avif,jxl,jpeg2000,hevc,vvc,av1 \
    --metrics=psnr,ms-ssim,ssim-y,ms-ssim-y,vif,fsim,iw-ssim,gmsd,vmaf,psnr-hvs,ciede2000,nlpd \
    --benchmark-json=results/jpeg-ai-kodak-full.json || true
gzip -f results/jpeg-ai-kodak-full.json
codecbench report results/jpeg-ai-kodak-full.json.gz -o results/jpeg-ai --anchor vvc --bd-metrics jpeg-ai \
    --bd-per-image --bd-bpp-range 0.06,1.0
python benchmarks/metric_speed.py --markdown results/metric-speed.md
python benchmarks/codec_speed.py ${kodak:+--image="$kodak/kodim01.png"} --markdown results/codec-speed.md
# Cost as images and sweeps grow (docs/harness-benchmarks.md): 0.4-12 MP for the faster codecs, every metric but
# the VGG16 ones, and the harness (about 40 minutes); 0.4-2 MP for the slow codecs and LPIPS-VGG/DISTS (about 20)
slow_codecs=avif-s0,vvc,vvc-faster,av1,av1-420
python benchmarks/scaling.py --except="$slow_codecs,lpips-vgg,dists" --out results/scaling
python benchmarks/scaling.py --sizes 0.4,1,2 --codecs="$slow_codecs" --metrics=lpips-vgg,dists --out results/scaling/slow
python benchmarks/report_scale.py --markdown results/harness-scale.md
