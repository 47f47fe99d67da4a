#!/usr/bin/env bash
# Measure the GPU rungs against torch.matmul (cuBLAS) on a CUDA GPU, in one prepared run:
#  1. check every GPU rung's results on the GPU (odd shapes, every dtype, TF32 off and on), and stop if one is wrong;
#  2. for each dtype in $DTYPES (default: float16 bfloat16 tf32 float32), a sweep of n = 512..8192 with fastmm-bench
#     (wall clock over blocks of queued calls, as a user's code sees them), written as gpu-<dtype>.json;
#  3. kernel-only timings with CUDA events (tools/gpu-kernels.py, triton.testing.do_bench), with every autotuning
#     configuration timed on its own at n = 4096: gpu-kernels.csv and gpu-configs.csv.
# The GPU machines lent to fastmm have no network: they have PyTorch with CUDA, Triton, numpy, matplotlib and
# threadpoolctl, so install fastmm itself without dependencies (`pip install --no-deps dist/fastmm_ladder-*.whl`, built
# beforehand with `python -m build --wheel`). Results go to $OUT (default: nbs/results/<date>-<gpu>/).
# A step of 2 or 3 that fails is reported and the others still run; the exit status says whether any failed.
set -uo pipefail
slug=$(python -c "
import datetime, re, torch
print(datetime.date.today().isoformat() + '-' + '-'.join(re.findall(r'[a-z0-9]+', torch.cuda.get_device_name().lower())[:3]))")
out=${OUT:-nbs/results/$slug}
dtypes=${DTYPES:-float16 bfloat16 tf32 float32}
mkdir -p "$out"
nvidia-smi --query-gpu=name,clocks.max.sm,power.limit,driver_version --format=csv > "$out/gpu-info.csv" || true
rungs=triton_naive,triton_tiled,triton_tuned,torch
sizes=512,1024,2048,4096,8192
failed=0
step() { local t0=$SECONDS; echo "== $*"; "$@" || { echo "!! failed: $*"; failed=1; }; echo "== $((SECONDS - t0)) s"; }
check='
import torch
from fastmm import gpu
odd = [(1, 1, 1), (3, 37, 5), (67, 70, 45), (0, 3, 4), (130, 264, 264)]
for tf32 in (False, True):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    for f in (gpu.matmul_triton_naive, gpu.matmul_triton_tiled): gpu.check_gpu_rung(f, odd, "cuda")
    gpu.check_gpu_rung(gpu.matmul_triton_tuned, [(67, 70, 45), (300, 520, 1000)], "cuda")  # each shape is autotuned: few
print("every GPU rung checked on", torch.cuda.get_device_name())'
step python -c "$check"
[ $failed = 0 ] || { echo "a GPU rung gave a wrong result: no timings"; exit 1; }
for dtype in $dtypes; do
  if [ $dtype = tf32 ]; then args="--dtype float32 --tf32"; else args="--dtype $dtype"; fi
  step fastmm-bench --device cuda $args --sweep $sizes --rungs $rungs --max-call 2 --json "$out/gpu-$dtype.json"
done
step python tools/gpu-kernels.py "$out" --dtypes "$(echo $dtypes | tr ' ' ,)" --sizes $sizes --configs-at 4096
echo "results in $out"
exit $failed
