"""Kernel-only GPU timings with CUDA events (`triton.testing.do_bench`), to set beside fastmm-bench's sweep.

For each dtype and size: cuBLAS (`torch.matmul`) and the `triton_tuned` kernel, each timed by do_bench (median of
CUDA-event timings after warm-up, with the L2 cache flushed between calls), the rung with its Python wrapper timed
the same way, and the configuration the autotuner chose. At the sizes in --configs-at, every configuration of
`fastmm.gpu.CONFIGS` is also timed on its own (not in full float32, to keep the run short).
Writes two CSV files into OUT_DIR: gpu-kernels.csv and gpu-configs.csv (one row per measurement, GPU and date in each).
Usage: python tools/gpu-kernels.py OUT_DIR [--dtypes float16,bfloat16,tf32,float32] [--sizes 512,...] [--configs-at 4096]
"""
import argparse, csv, datetime, os
import torch, triton
from triton.testing import do_bench
import fastmm
from fastmm import gpu

p = argparse.ArgumentParser()
p.add_argument('out_dir')
p.add_argument('--dtypes', default='float16,bfloat16,tf32,float32')
p.add_argument('--sizes', default='512,1024,2048,4096,8192')
p.add_argument('--configs-at', default='4096')
args = p.parse_args()
sizes = [int(s) for s in args.sizes.split(',')]
configs_at = [int(s) for s in args.configs_at.split(',') if s]
TYPES = dict(float16=(torch.float16, False), bfloat16=(torch.bfloat16, False), tf32=(torch.float32, True), float32=(torch.float32, False))
common = dict(gpu=torch.cuda.get_device_name(), date=datetime.datetime.now().isoformat(timespec='seconds'),
              fastmm=fastmm.__version__, torch=torch.__version__, triton=triton.__version__, cuda=torch.version.cuda)

def tflops(n, ms): return 2 * n**3 / (ms * 1e-3) / 1e12
def ms(f): return do_bench(f, return_mode='median')
def cfg_str(c): return ' '.join(f"{k}={v}" for k, v in c.items())

rows, per_config = [], []
for name in args.dtypes.split(','):
    dtype, tf32 = TYPES[name]
    torch.backends.cuda.matmul.allow_tf32 = tf32
    for n in sizes:
        g = torch.Generator(device='cuda').manual_seed(0)
        a = torch.randn(n, n, device='cuda', generator=g).to(dtype)
        b = torch.randn(n, n, device='cuda', generator=g).to(dtype)
        gpu.verify(gpu.matmul_triton_tuned, a, b)
        c = torch.empty(n, n, device='cuda', dtype=dtype)
        t_blas = ms(lambda: torch.matmul(a, b, out=c))
        t_tuned = ms(lambda: gpu._launch_tiled(gpu._tuned, a, b, c))
        t_rung = ms(lambda: gpu.matmul_triton_tuned(a, b))
        bc = gpu._tuned.best_config
        best = dict(bc.kwargs, num_warps=bc.num_warps, num_stages=bc.num_stages)
        row = dict(dtype=name, n=n, cublas_ms=f"{t_blas:.5f}", tuned_ms=f"{t_tuned:.5f}", rung_ms=f"{t_rung:.5f}",
                   cublas_tflops=f"{tflops(n, t_blas):.1f}", tuned_tflops=f"{tflops(n, t_tuned):.1f}",
                   ratio=f"{t_blas / t_tuned:.3f}", best_config=cfg_str(best), **common)
        rows.append(row)
        print(f"{name:9} n={n:5}  cuBLAS {row['cublas_tflops']:>6}  tuned {row['tuned_tflops']:>6} TFLOP/s  ratio {row['ratio']}"
              f"  (rung with its wrapper {tflops(n, t_rung):6.1f})  {row['best_config']}", flush=True)
        if n in configs_at and name != 'float32':
            for c_ in gpu.CONFIGS:
                meta = dict({k: v for k, v in c_.items() if k.isupper()}, num_warps=c_['num_warps'], num_stages=c_['num_stages'])
                try: t = ms(lambda: gpu._launch_tiled(gpu._tiled, a, b, c, **meta))
                except Exception as e: t = None; print('  ', cfg_str(meta), type(e).__name__, flush=True)
                per_config.append(dict(dtype=name, n=n, config=cfg_str(meta), ms=t and f"{t:.5f}",
                                       tflops=t and f"{tflops(n, t):.1f}", ratio=t and f"{t_blas / t:.3f}", **common))
                if t: print(f"   {cfg_str(meta):80}  {tflops(n, t):6.1f} TFLOP/s  ratio {t_blas / t:.3f}", flush=True)
        del a, b, c
        torch.cuda.empty_cache()

for fname, table in (('gpu-kernels.csv', rows), ('gpu-configs.csv', per_config)):
    if not table: continue
    with open(os.path.join(args.out_dir, fname), 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(table[0])); w.writeheader(); w.writerows(table)
    print('wrote', os.path.join(args.out_dir, fname))
