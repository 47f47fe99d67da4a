#!/usr/bin/env bash
# Measure the compiled kernel against the best BLAS at every shape and keep the results for the docs, in
# nbs/results/<date>-<cpu>/: small squares, the seed problem, one side of 8-64 with
# the others at 4096 (few rows, few columns, a short inner dimension) and mid-sized squares, in float32 and float64,
# on one thread and on all of them. Each library computes in a process of its own (fastmm-bench's default).
# The whole grid is measured ROUNDS times (the first argument, default 3), one round after another, into
# shapes-<dtype>-<threads>t-r<round>.json: a busy minute on a shared machine then moves one round, not the result
# (Every shape shows the median of the rounds). Run it on a quiet machine (nothing else busy), from a development
# install; it takes about five minutes a round.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(tools/results-dir.sh)
echo "writing $out"
small=8x8x8,16x16x16,32x32x32,64x64x64,128x128x128,5x784x10
skinny=$(for s in 8 16 32 64; do printf '%s,' ${s}x4096x4096 4096x4096x$s 4096x${s}x4096; done)
squares=256x256x256,512x512x512,1024x1024x1024
all=$(python -c "import os; print(os.cpu_count())")
rounds=${1:-3}
for r in $(seq "$rounds"); do
  for dtype in float32 float64; do
    for t in 1 $all; do
      fastmm-bench --shapes "$small,$skinny$squares" --rungs numba_parallel,torch,numpy --dtype $dtype --threads $t \
        --max-call 5 --json "$out/shapes-$dtype-${t}t-r$r.json"
    done
  done
done
