"""What the fixture generators that compare PyTorch's kernel sets share: the sets, and the fixtures' float reader."""
import os

import numpy as np
import torch

# Kernel sets PyTorch's CPU build can be limited to (ATEN_CPU_CAPABILITY / ONEDNN_MAX_CPU_ISA, read when torch loads).
# The two "oneDNN SSE4.1" sets are what LatentDiffusion runs with on the CPUs where it caps oneDNN
# (src/LatentDiffusion/Native/OneDnnIsa.cs).
KERNEL_SETS = {
    "avx512": {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "avx512, oneDNN SSE4.1": {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "SSE41"},
    "avx2, oneDNN SSE4.1": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "SSE41"},
    "no-avx": {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41"},
}


def read_floats(directory, name, *shape):
    """A fixture's little-endian float32 file as a tensor of `shape`."""
    return torch.from_numpy(np.fromfile(os.path.join(directory, name), dtype="<f4").reshape(shape).copy())
