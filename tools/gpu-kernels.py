"""Every GPU rung and cuBLAS timed by one method: the kernel alone, with `triton.testing.do_bench`.

The method: do_bench records a CUDA event before and after each call, flushes the L2 cache between calls (so no
call finds its inputs in L2 from the one before), warms up first, and gives the median of the repetitions. Each call
goes through `fastmm.gpu.launch` (with `fastmm.hopper.ALL_KERNELS`, every rung's kernel), whose launch is cached, so the host's part of a call is as small as fastmm makes it;
when the host still takes longer to queue a call than the GPU takes to run it (small n), the events show the host's
time, and the breakdown below tells the two apart. Each autotuned rung is tuned once, in this process, on its first
call for a problem, and the configuration it chose is recorded next to its timing.

Writes OUT_DIR/gpu-kernels.json: the method, the environment (GPU, compute capability, SMs, shared memory, versions,
command line, git commit), and three tables:
  rows      one per dtype, n and rung: ms, TFLOP/s, cuBLAS's ms / the rung's, configuration (and TMA for the persistent
            rung), and the result's error against float64 (‖c − exact‖ / ‖exact‖, the exact product in float64 on the GPU);
  configs   at each n of --configs-at, every configuration of the tuned and the persistent rungs' spaces timed on its
            own, and those the shared-memory model pruned, with the bytes they would need;
  overhead  at each n of --overhead-at, where a small call's time goes: the kernel (as above), the host's time to queue
            one cached launch, to queue one whole call of the rung, and one call waited for (queue, run, synchronize).
Usage: python tools/gpu-kernels.py OUT_DIR [--dtypes float16,bfloat16,tf32,float32] [--sizes 512,...,8192]
       [--rungs cublas,triton_naive,...] [--naive-up-to 2048] [--configs-at 4096] [--overhead-at 1024] [--reps 200] [--device cuda] [--dry-run]
"""
import argparse, datetime, json, os, statistics, subprocess, sys, time
import torch
import fastmm
from fastmm import gpu, hopper

METHOD = "kernel alone: triton.testing.do_bench (CUDA events around each call, L2 flushed between calls, median after warm-up)"
DRY_RUN = "dry run: the wall clock's median of three calls, not a GPU timing"
TYPES = dict(float16=(torch.float16, False), bfloat16=(torch.bfloat16, False), tf32=(torch.float32, True),
             float32=(torch.float32, False))
RUNGS = ('cublas', 'triton_naive', 'triton_tiled', 'triton_tuned', 'triton_tf32x3', 'triton_persistent')
CALLS = dict(triton_naive=gpu.matmul_triton_naive, triton_tiled=gpu.matmul_triton_tiled, triton_tuned=gpu.matmul_triton_tuned,
             triton_tf32x3=hopper.matmul_triton_tf32x3, triton_persistent=hopper.matmul_triton_persistent)

def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('out_dir')
    p.add_argument('--dtypes', default='float16,bfloat16,tf32,float32')
    p.add_argument('--sizes', default='512,1024,2048,4096,8192')
    p.add_argument('--rungs', default=','.join(RUNGS))
    p.add_argument('--naive-up-to', type=int, default=2048, help='largest n for triton_naive (seconds per call beyond)')
    p.add_argument('--configs-at', default='4096')
    p.add_argument('--overhead-at', default='1024')
    p.add_argument('--device', default='cuda')
    p.add_argument('--reps', type=int, default=200, help='calls per host-time measurement of the breakdown')
    p.add_argument('--dry-run', action='store_true', help="time with the wall clock instead of do_bench, to try the tool "
                   "without a GPU (in Triton's interpreter); the figures mean nothing and the method says so")
    args = p.parse_args(argv)
    ints = lambda s: [int(x) for x in s.split(',') if x]
    args.dtypes, args.rungs = args.dtypes.split(','), args.rungs.split(',')
    args.sizes, args.configs_at, args.overhead_at = ints(args.sizes), ints(args.configs_at), ints(args.overhead_at)
    bad = [d for d in args.dtypes if d not in TYPES] + [r for r in args.rungs if r not in RUNGS]
    if bad: p.error(f"unknown dtype or rung: {', '.join(bad)} (dtypes: {', '.join(TYPES)}; rungs: {', '.join(RUNGS)})")
    return args

def tflops(n, ms): return 2 * n**3 / (ms * 1e-3) / 1e12

def config_str(meta):
    "A launch's configuration, without the arguments every launch of the rung has"
    return ' '.join(f"{k}={v}" for k, v in meta.items() if k not in ('PRECISION', 'UPCAST', 'NUM_SMS', 'TMA'))

def applies(rung, dtype, n, naive_up_to):
    "Whether `rung` is timed for this dtype and n: triton_tf32x3 is a float32 rung, triton_naive too slow beyond naive_up_to"
    if rung == 'triton_tf32x3': return dtype == 'float32'
    return rung != 'triton_naive' or n <= naive_up_to

def time_rung(rung, a, b, c, bench, config=None):
    "The median ms of `rung`'s kernel on a, b into c, and the launch's configuration (the first launch autotunes)"
    if rung == 'cublas': return bench(lambda: torch.matmul(a, b, out=c)), {}
    meta = gpu.launch(rung, a, b, c, config, kernels=hopper.ALL_KERNELS)
    return bench(lambda: gpu.launch(rung, a, b, c, config, kernels=hopper.ALL_KERNELS)), meta

def rel_error(c, exact):
    "‖c − exact‖ / ‖exact‖, in float64"
    return ((c.double() - exact).norm() / exact.norm()).item()

def operands(n, dtype, device):
    g = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, n, generator=g).to(dtype).to(device) for _ in range(2))
    return a, b, torch.empty(n, n, dtype=dtype, device=device)

def measure(args, bench):
    "Time every rung that applies at every dtype and n; the rows, with cuBLAS's ratio to each"
    rows = []
    for name in args.dtypes:
        dtype, tf32 = TYPES[name]
        torch.backends.cuda.matmul.allow_tf32 = tf32
        for n in args.sizes:
            a, b, c = operands(n, dtype, args.device)
            exact = a.double() @ b.double()
            here = []
            for rung in args.rungs:
                if not applies(rung, name, n, args.naive_up_to): continue
                c.fill_(float('nan'))
                try: ms, meta = time_rung(rung, a, b, c, bench)
                except Exception as e:        # a rung that cannot run here is reported, and the others still timed
                    print(f"{name:9} n={n:5} {rung:18} FAILED {type(e).__name__}: {str(e)[:300]}", flush=True); continue
                here.append(dict(dtype=name, n=n, rung=rung, ms=ms, tflops=tflops(n, ms), config=config_str(meta),
                                 error=rel_error(c, exact), **({'tma': meta['TMA']} if 'TMA' in meta else {})))
                print(f"{name:9} n={n:5} {rung:18} {ms:10.5f} ms {tflops(n, ms):8.1f} TFLOP/s  error {here[-1]['error']:.2e}  {config_str(meta)}", flush=True)
            del exact
            blas = next((r['ms'] for r in here if r['rung'] == 'cublas'), None)
            rows += [dict(r, ratio=blas / r['ms'] if blas else None) for r in here]
    return rows

def configs(args, bench):
    "At each n of --configs-at, every candidate of the tuned and persistent rungs' spaces timed alone, and the pruned ones with their bytes"
    out = []
    limit = gpu.shared_memory_limit(args.device)
    for name in (d for d in args.dtypes if d != 'float32'):                 # full float32 left out, to keep the run short
        dtype, tf32 = TYPES[name]
        torch.backends.cuda.matmul.allow_tf32 = tf32
        width = dtype.itemsize
        for n in args.configs_at:
            a, b, c = operands(n, dtype, args.device)
            blas, _ = time_rung('cublas', a, b, c, bench)
            for rung in (r for r in ('triton_tuned', 'triton_persistent') if r in args.rungs):
                store = rung == 'triton_persistent'            # its epilogue stages c's block; the TMA version's can in halves
                halves = store and hopper.use_tma(hopper.capability(args.device), *gpu.k_major(a, b, 'tf32' if tf32 else None), c)
                space = gpu.config_space(width, limit, store, halves)
                for cfg in gpu.config_space(width, 2**40, store, halves):
                    row = dict(dtype=name, n=n, rung=rung, config=config_str(cfg), smem_bytes=gpu.smem_bytes(cfg, width, store),
                               pruned=cfg not in space)
                    if not row['pruned']:
                        try: row['ms'] = time_rung(rung, a, b, c, bench, config=cfg)[0]
                        except Exception as e: row['error'] = f"{type(e).__name__}: {str(e)[:200]}"
                    if row.get('ms'): row.update(tflops=tflops(n, row['ms']), ratio=blas / row['ms'])
                    out.append(row)
                    print(f"   {name:9} n={n} {rung:18} {row['config']:72} {row.get('tflops', 0):8.1f} TFLOP/s"
                          f"{'  pruned' if row['pruned'] else ''}{'  ' + row['error'] if 'error' in row else ''}", flush=True)
    return out

def host_us(f, reps, sync):
    "Microseconds per call of the host's loop queuing `reps` calls of f (the GPU's work waited for only after the clock stops)"
    sync(); t0 = time.perf_counter()
    for _ in range(reps): f()
    t = time.perf_counter() - t0; sync()
    return t / reps * 1e6

def waited_us(f, reps, sync):
    "Median microseconds of one call of f waited for: queue, run, synchronize"
    times = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); sync(); times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6

def overhead(args, bench):
    "Where a small call's time goes, for each rung at each n of --overhead-at"
    out, sync = [], (torch.cuda.synchronize if torch.device(args.device).type == 'cuda' else (lambda: None))
    for name in args.dtypes:
        dtype, tf32 = TYPES[name]
        torch.backends.cuda.matmul.allow_tf32 = tf32
        for n in args.overhead_at:
            a, b, c = operands(n, dtype, args.device)
            for rung in (r for r in args.rungs if r != 'triton_naive' and applies(r, name, n, 0)):
                ms, meta = time_rung(rung, a, b, c, bench)
                queue = (lambda: torch.matmul(a, b, out=c)) if rung == 'cublas' else (lambda: gpu.launch(rung, a, b, c, kernels=hopper.ALL_KERNELS))
                call = (lambda: torch.matmul(a, b)) if rung == 'cublas' else (lambda: CALLS[rung](a, b))
                out.append(dict(dtype=name, n=n, rung=rung, kernel_us=ms * 1e3, queue_us=host_us(queue, args.reps, sync),
                                call_us=host_us(call, args.reps, sync), waited_us=waited_us(call, args.reps, sync)))
                print(f"   {name:9} n={n} {rung:18} " + '  '.join(f"{k} {v:8.1f}" for k, v in out[-1].items() if k.endswith('_us')), flush=True)
    return out

def environment(args, argv):
    "What the timings were taken on and with"
    import triton
    dev = torch.device(args.device)
    try: commit = subprocess.run(['git', 'describe', '--always', '--dirty', '--abbrev=40'], capture_output=True, text=True,  # -dirty: uncommitted changes ran
                                 cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip() or None
    except OSError: commit = None
    return dict(gpu=torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f"{dev} (Triton's interpreter)",
                capability=hopper.capability(dev), sms=hopper.sm_count(dev), shared_memory=gpu.shared_memory_limit(dev),
                date=datetime.datetime.now().isoformat(timespec='seconds'), fastmm=fastmm.__version__, torch=torch.__version__,
                triton=triton.__version__, cuda=torch.version.cuda, command=' '.join(['tools/gpu-kernels.py'] + argv), commit=commit)

def main(argv=None, bench=None):
    "Run every measurement, write OUT_DIR/gpu-kernels.json, and return what it holds"
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    if bench is None and args.dry_run: bench = lambda f: waited_us(f, 3, lambda: None) / 1e3
    if bench is None:
        from triton.testing import do_bench
        bench = lambda f: do_bench(f, return_mode='median')
    result = dict(method=DRY_RUN if args.dry_run else METHOD, environment=environment(args, argv))
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, 'gpu-kernels.json')
    for table, step in (('rows', measure), ('configs', configs), ('overhead', overhead)):
        result[table] = step(args, bench)
        with open(path, 'w') as f: json.dump(result, f, indent=1)       # after each table: a run cut short keeps what it measured
        print('wrote', table, 'to', path, flush=True)
    return result

if __name__ == '__main__': main()
