"The compiled kernel's full edge sweeps, too long for the pages (06b_gemm, 06c_shapes), which check a sample of each: every block edge of `gemm` and every path edge of `by_shape`, from one below to one above, in both dtypes, contiguous and transposed, on one thread and two"
import math
import numpy as np
import pytest
import torch

pytest.importorskip('numba', reason='the compiled rungs need numba')

from fastmm.gemm import block_sizes, gemm, matmul_numba_packed
from fastmm.jit import JIT_DTYPES, numba_into
from fastmm.matmul import check_rung, outside_torch, verify
from fastmm.peak import VBYTES
from fastmm.shapes import FEW_ROWS, IN_PLACE_BYTES, NARROW, NARROW_SLIVERS, ONE_THREAD, matmul_numba_parallel, path
from fastmm.tile import MR, nr
from fastmm.timing import threads

def around(x): return [max(1, x - 1), x, x + 1]

# --- the packed kernel (06b_gemm) ---

SHAPES = [(1,1,1), (5,784,10), (3,5,7), (47,300,53), (100,1,3), (1,500,1), (97,257,9), (2,600,130), (0,3,4), (3,0,4), (3,4,0)]

def check_compiled(f, shapes=SHAPES, like=None):
    "As the gemm page's: verify `f` on `shapes` in both dtypes, contiguous and transposed (or, given `like`, check that it gives `like`'s results bit for bit); its errors and gradients"
    g = torch.Generator().manual_seed(0)   # the same operands in every call: `like` checked with verify on `shapes` vouches for f
    for dtype in JIT_DTYPES:
        for m, k, n in shapes:
            a, b = torch.randn(m, k, generator=g, dtype=dtype), torch.randn(k, n, generator=g, dtype=dtype)
            at, bt = torch.randn(k, m, generator=g, dtype=dtype).T, torch.randn(n, k, generator=g, dtype=dtype).T
            for x, y in ((a, b), (at, bt)):
                if like is None: verify(f, x, y)
                else: assert torch.equal(f(x, y), like(x, y)), (dtype, (m, k, n), x.stride())
    a, b = torch.randn(5, 7), torch.randn(7, 3)
    with pytest.raises(Exception, match="dtype int64 is not supported here; supported: float32, float64"): f(a.long(), b.long())
    with pytest.raises(Exception, match="runs on cpu, but a and b are on meta"): f(a.to('meta'), b.to('meta'))
    x = torch.randn(6, 4, dtype=torch.float64).T.requires_grad_()
    assert torch.autograd.gradcheck(f, (x, torch.randn(6, 3, dtype=torch.float64, requires_grad=True)))

def edge_shapes():
    "Around a tile, a sliver, a block of `a` and a panel of `b` (tall and skinny, short and wide), around `KC` in either dtype, and past them all at once"
    kc, mc, nc = block_sizes(4)
    cols = nr(4)
    return ([(m, 7, 5) for m in around(MR) + around(mc)] + [(5, 7, n) for n in around(cols) + around(nc)] +
            [(3, k, 4) for k in around(kc) + around(block_sizes(8)[0])] +
            [(MR + 1, kc + 1, cols + 1), (MR + 5, kc + 3, nc + cols + 3), (mc + MR + 3, 2 * kc + 5, 3 * cols + 7)])

def test_packed_kernel_across_every_block_edge():
    check_compiled(matmul_numba_packed)
    check_compiled(matmul_numba_packed, edge_shapes())

def test_small_blocks_forced_on_a_bigger_problem():
    "Every loop runs several times and every edge is crossed, on two threads sharing the rows or the columns of c"
    for dtype in JIT_DTYPES:
        a, b = torch.randn(70, 101, dtype=dtype), torch.randn(101, 75, dtype=dtype)
        for blocks in [(16, MR, 2 * VBYTES // a.element_size()), (32, 2 * MR, 4 * VBYTES // a.element_size()), (15, 3 * MR + 1, 40)]:
            for rows in (True, False):
                verify(lambda x, y: torch.from_numpy(gemm(x.numpy(), y.numpy(), np.empty((70, 75), x.numpy().dtype), 2, blocks, rows)), a, b)

def test_two_threads_give_one_threads_result_bit_for_bit():
    threaded = lambda a, b: outside_torch(matmul_numba_packed.rung, numba_into(lambda x, y, c: gemm(x, y, c, 2), transposed=True), a, b)
    check_compiled(threaded)
    check_compiled(threaded, edge_shapes(), like=matmul_numba_packed)   # the operands test_packed_kernel_across_every_block_edge verifies

# --- the rung on every path (06c_shapes) ---

def path_shapes():
    "Small products around `ONE_THREAD` and `SMALL`; cache-sized ones around `IN_PLACE_BYTES`, and with k shorter or longer than n; few rows around `FEW_ROWS`, longer than a `KC`, wider than a panel; few columns around `NR`; b either side of `COPY_BYTES`, and k longer than one pass of a copied strip; narrow around `NARROW`, taller than a block of `a`, longer than a `KC`; packed with a short inner dimension; a vector on either side, big and small, with rows left over from the kernels' groups of four and eight"
    cols, one, side = 2 * VBYTES // 4, round(ONE_THREAD ** (1 / 3)), math.isqrt(IN_PLACE_BYTES // 12)
    def past(m, n): return max(300, (IN_PLACE_BYTES // 4 - m * n) // (m + n) + 1)   # k at which m×k @ k×n no longer fits in place
    wide = math.isqrt(IN_PLACE_BYTES // 4) + 1                                      # c alone no longer fits
    return ([(5, 784, 10), (1, 1, 1), (3, 0, 4), (0, 3, 4), (one, one, one), (one, one, one + 1), (100, 100, 100), (100, 100, 101)] +
            [(s, s, s) for s in around(side)] + [(side, side - 1, side), (side - 1, side, side - 1)] +
            [(m, past(m, 700), 700) for m in around(FEW_ROWS)] + [(1, 70, 15000), (MR + 1, 129, 2 * cols + 3), (7, 200, 9000)] +
            [(300, 200, 3), (wide, 40, wide), (2 * cols + 1, 1, 5000)] +
            [(20, 31, 33), (20, 32, 33), (40, 700, 40), (MR + 1, 300, 2 * cols + 1)] +
            [(m, 700, n) for m in (4 * MR - 1, 4 * MR + 1) for n in around(cols)] + [(500, 2000, 5)] +
            [(NARROW_SLIVERS * MR + 7, 1500, n) for n in around(NARROW)] +
            [(3001, 403, 1), (1, 403, 3001), (4099, 300, 1), (1, 300, 4099), (501, 499, 1), (1, 499, 501), (1, 7, 1), (5, 3, 1)])

def test_every_path_and_edge_on_one_and_two_threads():
    shapes = path_shapes()
    assert {path(m, k, n, 4, 2)[0] for m, k, n in shapes} == {'small', 'in place', 'vector', 'row vector', 'few columns', 'few rows', 'narrow', 'packed'}
    for t in (1, 2):
        with threads(t): check_rung(matmul_numba_parallel, shapes)

# --- the rung's road without fastmm's C++ function (06ba_native) ---

def test_without_a_compiler_the_rung_says_so_once_and_stays_right(tmp_path):
    "Where the C++ function cannot be built (no compiler on PATH), numba_parallel warns once, in one line, and gives the same results by two calls"
    import os, subprocess, sys
    code = ("import warnings, torch\n"
            "from fastmm.matmul import verify\n"
            "from fastmm.shapes import matmul_numba_parallel as f\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    for dt in (torch.float32, torch.float64):\n"
            "        for m, k, n in [(8, 8, 8), (5, 784, 10), (64, 64, 65), (1, 300, 40), (40, 300, 1), (3, 0, 4)]:\n"
            "            verify(f, torch.randn(m, k, dtype=dt), torch.randn(k, n, dtype=dt))\n"
            "print(len(w)); print(w[0].message)\n")
    env = dict(os.environ, PATH='', FASTMM_BUILD_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    count, message = out.stdout.splitlines()
    assert count == '1' and 'no C++ compiler (c++) on PATH' in message and 'two calls' in message, out.stdout
    assert not list(tmp_path.iterdir()), "nothing is built without a compiler"
