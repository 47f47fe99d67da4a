"The compiled kernel built for narrower vectors than this CPU may have (AVX2's 32 bytes, 16 bytes), each in a fresh process"
import os, subprocess, sys
import pytest

pytest.importorskip('numba', reason='the compiled rungs need numba')

WIDTH = '''
import sys, torch, fastmm.gemm as G, fastmm.peak as P, fastmm.jit as J
from fastmm.matmul import verify
vb = int(sys.argv[1])
assert (P.VBYTES, G.MR, P.KERNEL_CACHE) == (vb, 6 if vb < 64 else 12, False), (P.VBYTES, G.MR, P.KERNEL_CACHE)
for dtype in J.JIT_DTYPES:
    for m, k, n in [(1, 1, 1), (7, 300, 17), (40, 33, 70)]:
        verify(G.matmul_numba_packed, torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype))
print('ok')
'''

def test_forced_vector_widths():
    "FASTMM_VECTOR_BYTES=32 and 16: the packed kernel right in both dtypes on one thread (how rows are shared does not depend on the width), never from or into the on-disk cache"
    runs = {vb: subprocess.Popen([sys.executable, '-c', WIDTH, str(vb)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env={**os.environ, 'FASTMM_VECTOR_BYTES': str(vb)}) for vb in (32, 16)}   # both at once
    for vb, r in runs.items():
        out, err = r.communicate(timeout=600)
        assert (r.returncode, out.strip()) == (0, 'ok'), (vb, err)
