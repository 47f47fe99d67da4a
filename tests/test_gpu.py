"The Triton rungs, checked without a GPU: Triton's interpreter runs the same kernels on CPU tensors"
import os, sys
import pytest
from conftest import run

pytest.importorskip('triton', reason='the GPU rungs need triton (pip install "fastmm[gpu]")')

CHECK = '''
import torch
from fastmm.gpu import (check_gpu_rung, matmul_triton_naive, matmul_triton_tiled, matmul_triton_tuned, matmul_triton_tf32x3,
                        matmul_triton_persistent, interpreting)
from fastmm.matmul import verify
assert interpreting()
odd = [(1, 1, 1), (7, 13, 11), (3, 37, 5), (67, 70, 45), (0, 3, 4), (3, 0, 4), (3, 4, 0)]
check_gpu_rung(matmul_triton_naive, odd[:2] + odd[4:], 'cpu')
for f in (matmul_triton_tiled, matmul_triton_tuned, matmul_triton_tf32x3, matmul_triton_persistent):
    check_gpu_rung(f, odd + [(130, 257, 260)], 'cpu')
a, b = torch.randn(5, 7, requires_grad=True), torch.randn(7, 3, requires_grad=True)
matmul_triton_tuned(a, b).sum().backward()
assert torch.allclose(a.grad, torch.ones(5, 3) @ b.detach().T, atol=1e-4)
print('ok')
'''

def test_triton_rungs_under_the_interpreter():
    "Odd shapes (1×1, primes, k not a multiple of the block, empty), every dtype, against a @ b with the rounding bound"
    p = run(sys.executable, '-c', CHECK, env={**os.environ, 'TRITON_INTERPRET': '1'}, timeout=600)
    assert p.stdout.strip() == 'ok'

def test_refused_on_cpu_without_the_interpreter():
    code = ("import torch; from fastmm.gpu import matmul_triton_tiled\n"
            "try: matmul_triton_tiled(torch.ones(2, 2), torch.ones(2, 2))\n"
            "except ValueError as e: print(e)")
    env = {k: v for k, v in os.environ.items() if k != 'TRITON_INTERPRET'}
    out = run(sys.executable, '-c', code, env=env).stdout
    assert "the Triton rungs run on a CUDA GPU, but a and b are on cpu" in out and 'TRITON_INTERPRET=1' in out
