#!/usr/bin/env bash
# Measure the GPU rungs against torch.matmul (cuBLAS) on a CUDA GPU, in one prepared run, with one timing method:
#  0. count the tensor-core instructions of the tiled kernel per precision and layout of b (tools/gpu-ptx.py);
#  1. check every GPU kernel's results on the GPU (tools/gpu-check.py: every configuration of every autotuned space in
#     every dtype and float32 precision; odd shapes, contiguous and transposed; the persistent rung on shapes that take
#     TMA and shapes that do not; each rung as a user calls it), compiling in parallel processes
#     (so that step 2 finds every kernel in Triton's cache); a failure is reported, and step 2 still runs, each timed
#     result's error against float64 recorded beside its timing;
#  2. time every rung and cuBLAS, kernel alone (tools/gpu-kernels.py: triton.testing.do_bench, CUDA events, the L2
#     cache flushed between calls, median), each autotuned rung tuned once in that process and its chosen
#     configuration recorded beside its timing; at n = 4096 every configuration of the tuned and the persistent
#     rungs' spaces timed on its own; at n = 1024 where a call's time goes (kernel, launch, whole call). All in gpu-kernels.json, and the whole log in gpu-sweep.txt.
# The GPU machines lent to fastmm have no network: they have PyTorch with CUDA, Triton, numpy, matplotlib and
# threadpoolctl, so install fastmm itself without dependencies (`pip install --no-deps dist/fastmm_ladder-*.whl`, built
# beforehand with `python -m build --wheel`). Results go to $OUT (default: nbs/results/<date>-<gpu>/).
# On a machine without fastmm installed, run it from a checkout with PYTHONPATH=. (fastmm needs only torch and triton here).
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
exec > >(tee "$out/gpu-sweep.txt") 2>&1                 # the log is kept with the results: the GPU page quotes it
failed=0
step() { local t0=$SECONDS; echo "== $*"; "$@" || { echo "!! failed: $*"; failed=1; }; echo "== $((SECONDS - t0)) s"; }
[ "$device" = cuda ] && step python tools/gpu-ptx.py  # which tensor-core instructions TF32's layouts compile to
step python tools/gpu-check.py --device "$device" --jobs "${JOBS:-15}" $([ "$device" = cuda ] || echo --quick)
[ $failed = 0 ] || echo "!! a GPU kernel gave a wrong result or failed to compile (WRONG above): timed all the same, each result's error recorded"
step python tools/gpu-kernels.py "$out" --device "$device" --dtypes "$(echo $dtypes | tr ' ' ,)" \
  --sizes "${SIZES:-512,1024,2048,4096,8192}" --naive-up-to "${NAIVE_UP_TO:-1024}" --configs-at "${CONFIGS_AT-4096}" --overhead-at "${OVERHEAD_AT:-1024}" --reps "${REPS:-200}" \
  $([ "$device" = cuda ] || echo --dry-run)
echo "results in $out"
exit $failed
