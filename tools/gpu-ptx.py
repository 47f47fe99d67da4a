"""Which tensor-core instructions Triton compiles the tiled kernel to, per float32 precision and layout of b (compile only).

For each case it compiles fastmm's tiled kernel (`KERNELS['triton_tiled'].jit`, with 128×256 blocks) for 512×512 operands on
the GPU, without running it, and counts in its PTX the Hopper warp-group products (`wgmma.mma_async`) and the older
warp-level ones (`mma.sync`). "k-major" b is stored with its columns contiguous, as `fastmm.gpu.k_major` copies it.
Usage: python tools/gpu-ptx.py     (on a CUDA GPU; tools/gpu-sweep.sh runs it first)
"""
import re, torch
from fastmm import gpu

def counts(prec, dtype, kmajor, n=512):
    "The number of wgmma and mma.sync instructions in the tiled kernel compiled for these operands"
    a, b = (torch.randn(n, n, device='cuda').to(dtype) for _ in range(2))
    if kmajor: b = b.t().contiguous().t()
    c = torch.empty(n, n, device='cuda', dtype=dtype)
    cfg = dict(gpu.TILED, BLOCK_M=128, BLOCK_N=256, BLOCK_K=32 if dtype == torch.float32 else 64, GROUP_M=8, num_warps=8)
    ptx = gpu.KERNELS['triton_tiled'].jit.warmup(*gpu.kernel_args(a, b, c), grid=(1,), PRECISION=prec, UPCAST=False, **cfg).asm['ptx']
    return len(re.findall(r'wgmma.mma_async', ptx)), len(re.findall(r'mma.sync', ptx))

if __name__ == '__main__':
    for prec, dtype, kmajor in (('tf32', torch.float32, False), ('tf32', torch.float32, True), ('tf32x3', torch.float32, True),
                                ('tf32x3', torch.float32, False), (None, torch.float16, False)):
        w, m = counts(prec, dtype, kmajor)
        print(f"{str(prec):7} {str(dtype):14} b {'k-major' if kmajor else 'n-major'}: wgmma {w}, mma.sync {m}", flush=True)
