"The Triton rungs, checked without a GPU: Triton's interpreter runs the same kernels on CPU tensors"
import os, sys
import pytest
from conftest import run

pytest.importorskip('triton', reason='the GPU rungs need triton (pip install "fastmm-ladder[gpu]")')

CHECK = '''
import torch
from fastmm.gpu import matmul_triton_naive, matmul_triton_tiled, matmul_triton_tuned, interpreting
from fastmm.hopper import matmul_triton_tf32x3, matmul_triton_persistent
from fastmm.matmul import check_rung, verify
assert interpreting()
odd = [(1, 1, 1), (7, 13, 11), (3, 37, 5), (67, 70, 45), (0, 3, 4), (3, 0, 4), (3, 4, 0)]
check_rung(matmul_triton_naive, [(1, 1, 1), (3, 7, 5)] + odd[4:], 'cpu')   # one program per entry: the interpreter takes seconds per hundred
for f in (matmul_triton_tiled, matmul_triton_tuned, matmul_triton_tf32x3, matmul_triton_persistent):
    check_rung(f, odd + [(130, 70, 260)], 'cpu')   # several blocks each way, for every configuration (and more tiles than persistent programs)
for f in (matmul_triton_naive, matmul_triton_tiled, matmul_triton_tuned, matmul_triton_tf32x3, matmul_triton_persistent):
    a, b = torch.randn(5, 7, requires_grad=True), torch.randn(7, 3, requires_grad=True)   # the GPU page: 3×4 @ 4×2
    f(a, b).sum().backward()
    assert torch.allclose(a.grad, torch.ones(5, 3) @ b.detach().T, atol=1e-4) and torch.allclose(b.grad, a.detach().T @ torch.ones(5, 3), atol=1e-4), f
print('ok')
'''

def test_triton_rungs_under_the_interpreter():
    "Odd shapes (1×1, primes, k not a multiple of the block, empty, several blocks each way), every dtype, against a @ b with the rounding bound; and every rung's gradients"
    p = run(sys.executable, '-c', CHECK, env={**os.environ, 'TRITON_INTERPRET': '1'}, timeout=600)
    assert p.stdout.strip() == 'ok'

TMA = '''
import torch
from fastmm.gpu import DTYPES, interpreting, launch
from fastmm.hopper import ALL_KERNELS
from fastmm.matmul import verify
assert interpreting()
def with_tma(a, b):
    c = torch.empty(a.shape[0], b.shape[1], dtype=a.dtype, device=a.device)
    assert launch('triton_persistent', a, b, c, tma=True, kernels=ALL_KERNELS)['TMA'] is True
    return c
g = torch.Generator().manual_seed(1)
for dtype in DTYPES:
    for m, k, n in ((67, 40, 40), (8, 8, 8), (300, 136, 136)):   # the last: three ragged tiles of m, several ragged blocks of k
        verify(with_tma, torch.randn(m, k, generator=g).to(dtype), torch.randn(k, n, generator=g).to(dtype))
print('ok')
'''

def test_tma_kernel_forced_under_the_interpreter():
    "The persistent rung's TMA kernel (tensor descriptors, which the interpreter runs), forced on rows 16-byte aligned: every dtype, ragged tiles and blocks (the Hopper page checks the two small shapes)"
    p = run(sys.executable, '-c', TMA, env={**os.environ, 'TRITON_INTERPRET': '1'}, timeout=600)
    assert p.stdout.strip() == 'ok'

def test_refused_on_cpu_without_the_interpreter():
    code = ("import torch; from fastmm.gpu import matmul_triton_tiled\n"
            "try: matmul_triton_tiled(torch.ones(2, 2), torch.ones(2, 2))\n"
            "except ValueError as e: print(e)")
    env = {k: v for k, v in os.environ.items() if k != 'TRITON_INTERPRET'}
    out = run(sys.executable, '-c', code, env=env).stdout
    assert "runs on cuda, but a and b are on cpu" in out and 'TRITON_INTERPRET=1' in out

TOOL = '''
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location('gpu_kernels', 'tools/gpu-kernels.py')
tool = importlib.util.module_from_spec(spec); spec.loader.exec_module(tool)
calls = []
def stand_in(f): calls.append(f); f(); return 0.5 * len(calls)   # for do_bench: runs f once, returns a made-up median in ms
out = tool.main([sys.argv[1], '--device', 'cpu', '--dtypes', 'float16,float32', '--sizes', '16,40', '--naive-up-to', '16',
                 '--configs-at', '40', '--overhead-at', '16', '--reps', '1'], bench=stand_in)
print(len(calls))
'''

def test_gpu_kernels_tool_with_a_stand_in_timer(tmp_path):
    "tools/gpu-kernels.py under the interpreter: which rung is timed where, one timer for all, configurations recorded"
    import json
    from fastmm import gpu
    p = run(sys.executable, '-c', TOOL, tmp_path, env={**os.environ, 'TRITON_INTERPRET': '1'}, timeout=900)
    out = json.loads((tmp_path/'gpu-kernels.json').read_text())
    rows, configs, overhead = out['rows'], out['configs'], out['overhead']
    assert out['method'].startswith('kernel alone: triton.testing.do_bench')
    assert out['environment']['command'].startswith('tools/gpu-kernels.py') and out['environment']['sms'] == 3
    def timed(dtype, n): return [r['rung'] for r in rows if r['dtype'] == dtype and r['n'] == n]
    assert timed('float16', 16) == ['cublas', 'triton_naive', 'triton_tiled', 'triton_tuned', 'triton_persistent']
    assert timed('float16', 40) == ['cublas', 'triton_tiled', 'triton_tuned', 'triton_persistent']
    assert timed('float32', 40) == ['cublas', 'triton_tiled', 'triton_tuned', 'triton_tf32x3', 'triton_persistent']
    # every figure from the one timer, in the order timed, and each ratio against the same problem's cuBLAS
    timings = [r['ms'] for r in rows] + [c['ms'] for c in configs if 'ms' in c] + [o['kernel_us'] / 1e3 for o in overhead]
    assert int(p.stdout.split()[-1]) == len(timings) + len({(c['dtype'], c['n']) for c in configs})  # + a cuBLAS per config table
    blas = {(r['dtype'], r['n']): r['ms'] for r in rows if r['rung'] == 'cublas'}
    assert all(abs(r['ratio'] - blas[r['dtype'], r['n']] / r['ms']) < 1e-12 for r in rows)
    tiled = ' '.join(f"{k}={v}" for k, v in gpu.TILED.items())
    first = {w: ' '.join(f"{k}={v}" for k, v in gpu.config_space(w)[0].items()) for w in (2, 4)}
    for r in rows:  # the configuration each launch used: fixed for the tiled rung, the interpreter's pick for the tuned ones
        want = {'cublas': '', 'triton_naive': '', 'triton_tiled': tiled}.get(r['rung'], first[4 if r['dtype'] == 'float32' else 2])
        assert r['config'] == want, r
    assert [r.get('tma') for r in rows if r['rung'] == 'triton_persistent'] == [False] * 4
    space = [' '.join(f"{k}={v}" for k, v in c.items()) for c in gpu.CANDIDATES[2] + [gpu.TILED]]
    assert [(c['rung'], c['config']) for c in configs] == [(r, c) for r in ('triton_tuned', 'triton_persistent') for c in space]  # no TMA here
    assert all(c['dtype'] == 'float16' for c in configs)
    pruned = [(c['rung'], c['config']) for c in configs if c['pruned']]   # the persistent kernel's epilogue stages c's block too
    assert pruned == [('triton_persistent', s) for s, c in zip(space, gpu.CANDIDATES[2]) if gpu.smem_bytes(c, 2, store=True) > gpu.HOPPER_SMEM]
    assert len(pruned) == 2
    assert all(r['error'] < (1e-2 if r['dtype'] == 'float16' else 1e-6) for r in rows)  # each result against float64
    assert [o['rung'] for o in overhead] == ['cublas', 'triton_tiled', 'triton_tuned', 'triton_persistent',
                                             'cublas', 'triton_tiled', 'triton_tuned', 'triton_tf32x3', 'triton_persistent']

def test_gpu_kernels_tool_refuses_unknown_names():
    p = run(sys.executable, 'tools/gpu-kernels.py', 'out', '--rungs', 'cublas,triton_fast', check=False)
    assert p.returncode == 2 and 'unknown dtype or rung: triton_fast' in p.stderr
