#!/usr/bin/env bash
# Measure the GPU rungs against torch.matmul (cuBLAS) on a CUDA GPU, in one prepared run, with one timing method:
#  1. check every GPU rung's results on the GPU (odd shapes, every dtype, TF32 off and on; the persistent rung on
#     shapes that take TMA and shapes that do not), and stop if one is wrong;
#  2. time every rung and cuBLAS, kernel alone (tools/gpu-kernels.py: triton.testing.do_bench, CUDA events, the L2
#     cache flushed between calls, median), each autotuned rung tuned once in that process and its chosen
#     configuration recorded beside its timing; at n = 4096 every configuration of the tuned rung's space timed on
#     its own; at n = 1024 where a call's time goes (kernel, launch, whole call). All in gpu-kernels.json.
# The GPU machines lent to fastmm have no network: they have PyTorch with CUDA, Triton, numpy, matplotlib and
# threadpoolctl, so install fastmm itself without dependencies (`pip install --no-deps dist/fastmm_ladder-*.whl`, built
# beforehand with `python -m build --wheel`). Results go to $OUT (default: nbs/results/<date>-<gpu>/).
# Try it without a GPU, in Triton's interpreter (minutes; the timings are the wall clock's and mean nothing):
#   TRITON_INTERPRET=1 DEVICE=cpu DTYPES=float32 SIZES=16 CONFIGS_AT= OVERHEAD_AT=16 REPS=2 OUT=/tmp/x tools/gpu-sweep.sh
set -uo pipefail
device=${DEVICE:-cuda}
slug=$(python -c "
import datetime, re, torch
name = torch.cuda.get_device_name() if '$device' == 'cuda' else 'interpreter'
print(datetime.date.today().isoformat() + '-' + '-'.join(re.findall(r'[a-z0-9]+', name.lower())[:3]))")
out=${OUT:-nbs/results/$slug}
dtypes=${DTYPES:-float16 bfloat16 tf32 float32}
mkdir -p "$out"
[ "$device" = cuda ] && { nvidia-smi --query-gpu=name,clocks.max.sm,power.limit,driver_version --format=csv > "$out/gpu-info.csv" || true; }
failed=0
step() { local t0=$SECONDS; echo "== $*"; "$@" || { echo "!! failed: $*"; failed=1; }; echo "== $((SECONDS - t0)) s"; }
check='
import sys, torch
from fastmm import gpu, hopper
from fastmm.matmul import check_rung
dev = sys.argv[1]
odd = [(1, 1, 1), (3, 37, 5), (67, 70, 45), (0, 3, 4), (130, 264, 264)]
for tf32 in (False, True):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    check_rung(gpu.matmul_triton_naive, odd[:2] + odd[3:4], dev)  # one program per entry: small shapes
    check_rung(gpu.matmul_triton_tiled, odd, dev)
    for f in (gpu.matmul_triton_tuned, hopper.matmul_triton_tf32x3, hopper.matmul_triton_persistent):  # each shape is autotuned: few
        check_rung(f, [(67, 70, 45), (72, 264, 136)], dev)
print("every GPU rung checked on", dev, "(TMA:", hopper.use_tma(hopper.capability(dev), torch.ones(8, 8, device=dev)), ")")'
step python -c "$check" "$device"
[ $failed = 0 ] || { echo "a GPU rung gave a wrong result: no timings"; exit 1; }
step python tools/gpu-kernels.py "$out" --device "$device" --dtypes "$(echo $dtypes | tr ' ' ,)" \
  --sizes "${SIZES:-512,1024,2048,4096,8192}" --configs-at "${CONFIGS_AT-4096}" --overhead-at "${OVERHEAD_AT:-1024}" --reps "${REPS:-200}" \
  $([ "$device" = cuda ] || echo --dry-run)
echo "results in $out"
exit $failed
