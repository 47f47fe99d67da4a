#!/usr/bin/env bash
# Measure the GPU rungs against torch.matmul (cuBLAS) on a CUDA GPU, in one prepared run:
# n = 512..8192 for float16, bfloat16, float32 (full precision) and float32 as TF32.
# The GPU machines lent to fastmm have no network: they have PyTorch with CUDA, Triton and numba, so install fastmm
# itself without dependencies (`pip install --no-deps dist/fastmm-*.whl`, built beforehand with `python -m build`),
# plus threadpoolctl's wheel if it is missing. Results go to $OUT (default: nbs/results/<date>-<gpu>/).
set -euo pipefail
slug=$(python -c "
import datetime, re, torch
print(datetime.date.today().isoformat() + '-' + '-'.join(re.findall(r'[a-z0-9]+', torch.cuda.get_device_name().lower())[:3]))")
out=${OUT:-nbs/results/$slug}
mkdir -p "$out"
rungs=triton_naive,triton_tiled,triton_tuned,torch
sizes=512,1024,2048,4096,8192
for dtype in float16 bfloat16 float32; do
  fastmm-bench --device cuda --dtype $dtype --sweep $sizes --rungs $rungs --max-call 5 --json "$out/gpu-$dtype.json"
done
fastmm-bench --device cuda --dtype float32 --tf32 --sweep $sizes --rungs $rungs --max-call 5 --json "$out/gpu-tf32.json"
nvidia-smi --query-gpu=name,clocks.max.sm,power.limit --format=csv > "$out/gpu-info.csv" || true
echo "results in $out"
