#!/usr/bin/env bash
# Measure fastmm on this machine and keep the results for the docs, in nbs/results/<date>-<cpu>/:
# the ladder, a sweep of every rung, and the compiled kernel against the best BLAS in float32 and float64.
# Run it on a quiet machine (nothing else busy), from a development install; it takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(tools/results-dir.sh)
echo "writing $out"
fastmm-bench --json "$out/ladder-float32.json"
fastmm-bench --sweep 32,64,128,256,512,1024,2048 --json "$out/sweep-float32.json"
for dtype in float32 float64; do
  fastmm-bench --sweep 256,512,1024,2048,4096 --rungs numba,numba_ikj,numba_tiled,numba_packed,numba_parallel,torch,numpy \
    --dtype $dtype --peak --max-call 2 --json "$out/gap-$dtype.json"
done
