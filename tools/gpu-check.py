"""Check every GPU kernel's results on the GPU, every configuration of every autotuned space, in parallel processes.

Each task launches one kernel with one configuration (`fastmm.gpu.launch(..., config=)`) and verifies the result with
`fastmm.matmul.verify` (against float64, to within the rounding bound of the arithmetic):
  every configuration of each autotuned kernel's space, per dtype and float32 precision, on a shape of sides divisible
  by 16 (so the kernel is compiled as it will be for the timings, n = 512..8192, and Triton's cache holds it for them);
  odd shapes (masks, a ragged K) with the tiled configuration, contiguous and transposed, for each kernel;
  triton_naive on small odd shapes;
then each rung as a user calls it (autotuning included), on one shape per dtype.
Compiling dominates, and one Triton compile uses one core, so the tasks are shared among --jobs processes.
Usage: python tools/gpu-check.py [--jobs 14] [--device cuda]          (exit status 1 if any result is wrong)
       TRITON_INTERPRET=1 python tools/gpu-check.py --device cpu --quick  (a few tasks, in Triton's interpreter)
"""
import argparse, subprocess, sys, time
import torch
from fastmm import gpu, hopper
from fastmm.matmul import verify

PRECISIONS = dict(float16=(torch.float16, False), bfloat16=(torch.bfloat16, False), tf32=(torch.float32, True),
                  float32=(torch.float32, False))
ALIGNED = (384, 352, 256)        # every side divisible by 16, K not a multiple of 64: the timings' specialization
ODD = [(67, 70, 45), (130, 264, 136)]

def tasks(device, quick=False):
    "Every (kernel, precision, config, shape, layout) to check, as tuples a worker can run"
    limit, out = gpu.shared_memory_limit(device), []
    for prec, (dtype, _) in PRECISIONS.items():
        w = dtype.itemsize
        tma = prec != 'tf32' and (hopper.capability(device) or (0,)) >= (9, 0)   # ALIGNED takes TMA where the GPU has it; TF32's b, copied k-major, does not
        for name, store, halves in (('triton_tuned', False, False), ('triton_persistent', True, tma)):
            out += [(name, prec, cfg, ALIGNED, 'contiguous') for cfg in gpu.config_space(w, limit, store, halves)]
        if prec == 'float32': out += [('triton_tf32x3', prec, cfg, ALIGNED, 'contiguous') for cfg in gpu.config_space(w, limit)]
        for shape in ODD:
            for layout in ('contiguous', 'transposed', 'a transposed'):
                out += [(name, prec, gpu.TILED, shape, layout) for name in ('triton_tiled', 'triton_persistent')]
                if prec == 'float32': out.append(('triton_tf32x3', prec, gpu.TILED, shape, layout))
        if prec != 'float32': out += [('triton_naive', prec, None, s, layout) for s in [(1, 1, 1), (3, 37, 5)] for layout in ('contiguous', 'transposed')]
    return out[::17][:6] if quick else out

def operands(shape, dtype, layout, device):
    m, k, n = shape
    g = torch.Generator().manual_seed(m * 1000 + n)
    r = lambda *s: torch.randn(*s, generator=g).to(dtype).to(device)
    if layout == 'contiguous': return r(m, k), r(k, n)
    if layout == 'transposed': return r(k, m).T, r(n, k).T
    return r(k, m).T, r(k, n)

def run(task, device):
    "Launch one task's kernel and verify it; a line saying what failed, or None"
    name, prec, cfg, shape, layout = task
    dtype, tf32 = PRECISIONS[prec]
    torch.backends.cuda.matmul.allow_tf32 = tf32
    a, b = operands(shape, dtype, layout, device)
    def f(a, b):
        c = torch.full((a.shape[0], b.shape[1]), float('nan'), dtype=a.dtype, device=a.device)   # every entry must be written
        if name == 'triton_naive': gpu.launch(name, a, b, c)
        else: gpu.launch(name, a, b, c, config=cfg, kernels=hopper.ALL_KERNELS)
        return c
    try: verify(f, a, b, 2.**-10 if prec == 'tf32' else None)
    except Exception as e: return f"{name} {prec} {shape} {layout} {gpu_config(cfg)}: {type(e).__name__}: {str(e)[:300]}"

def gpu_config(cfg): return ' '.join(f"{k}={v}" for k, v in (cfg or {}).items())

def rungs_as_called(device):
    "Each rung called as a user calls it (the autotuned ones tune here, on kernels compiled above), on one aligned shape per dtype; the failures"
    bad = []
    for prec, (dtype, tf32) in PRECISIONS.items():
        torch.backends.cuda.matmul.allow_tf32 = tf32
        a, b = operands(ALIGNED, dtype, 'contiguous', device)     # contiguous only: a transposed operand is compiled, and tuned, anew
        for f in (gpu.matmul_triton_tiled, gpu.matmul_triton_tuned, hopper.matmul_triton_persistent) + ((hopper.matmul_triton_tf32x3,) if dtype == torch.float32 else ()):
            try: verify(f, a, b, 2.**-10 if prec == 'tf32' and f is not hopper.matmul_triton_tf32x3 else None)
            except Exception as e: bad.append(f"{f.rung.name} {prec} as called: {type(e).__name__}: {str(e)[:300]}")
    return bad

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--jobs', type=int, default=15)
    p.add_argument('--device', default='cuda')
    p.add_argument('--quick', action='store_true', help='a few tasks only (to try the tool in the interpreter)')
    p.add_argument('--part', help=argparse.SUPPRESS)        # i/N: run every N-th task from the i-th, in this process
    args = p.parse_args(argv)
    todo = tasks(args.device, args.quick)
    if args.part:
        i, n = map(int, args.part.split('/'))
        bad = [e for e in (run(t, args.device) for t in todo[i::n]) if e]
        for e in bad: print('WRONG', e, flush=True)
        return 1 if bad else 0
    t0 = time.time()
    jobs = max(1, min(args.jobs, len(todo)))
    procs = [subprocess.Popen([sys.executable, __file__, '--part', f'{i}/{jobs}', '--device', args.device] + ['--quick'] * args.quick)
             for i in range(jobs)]
    failed = sum(p.wait() != 0 for p in procs)
    print(f"{len(todo)} kernel launches checked in {jobs} processes, {time.time() - t0:.0f} s: "
          f"{'all right' if not failed else f'{failed} of the {jobs} processes found a wrong result or a failed launch (WRONG above)'}", flush=True)
    bad = [] if args.quick else rungs_as_called(args.device)
    for e in bad: print('WRONG', e)
    print(f"rungs as called: {'all right' if not bad else f'{len(bad)} wrong'}; {time.time() - t0:.0f} s in all", flush=True)
    return 1 if failed or bad else 0

if __name__ == '__main__': sys.exit(main())
