"""The few array operations whose spelling differs between NumPy and PyTorch.

Every update rule in :mod:`trainart.optim` is written once, with ordinary arithmetic
(``*``, ``+``, ``/``, in-place ``*=`` and ``-=``) plus the helpers below, so that the same
line of code updates a NumPy array (toy surfaces, from-scratch networks) or a
``torch.Tensor`` (a real ``nn.Module``). Torch is never imported here: a tensor is
recognised only if the caller already imported torch.
"""

from __future__ import annotations

import sys

import numpy as np


def is_tensor(x) -> bool:
    """True when ``x`` is a ``torch.Tensor`` or a subclass (without importing torch).

    Recognised by its class, not through ``sys.modules["torch"]``: while another thread is
    still importing torch, that module is only partly built (no ``Tensor`` attribute yet);
    a tensor, on the other hand, can only exist once torch has been imported completely.
    """
    return any(c.__name__ == "Tensor" and c.__module__ == "torch" for c in type(x).__mro__)


def sqrt(x):
    """Elementwise square root of an array or tensor."""
    return x.sqrt() if is_tensor(x) else np.sqrt(x)


def zeros_like(x):
    """A new zero array/tensor with the shape, dtype (and device) of ``x``."""
    if is_tensor(x):
        return sys.modules["torch"].zeros_like(x)
    return np.zeros_like(x)


def full_like(x, value):
    """A new array/tensor shaped like ``x`` filled with ``value``."""
    if is_tensor(x):
        return sys.modules["torch"].full_like(x, value)
    return np.full_like(x, value)


def copy(x):
    """An independent copy of ``x``."""
    return x.clone() if is_tensor(x) else np.array(x, copy=True)


def maximum(a, b):
    """Elementwise maximum of two arrays/tensors."""
    if is_tensor(a):
        return sys.modules["torch"].maximum(a, b)
    return np.maximum(a, b)


def all_finite(x) -> bool:
    """True when no entry of ``x`` is NaN or infinite."""
    if is_tensor(x):
        return bool(sys.modules["torch"].isfinite(x).all())
    return bool(np.isfinite(x).all())


def clip_(x, low, high):
    """Clamp ``x`` into ``[low, high]`` in place."""
    if is_tensor(x):
        x.clamp_(low, high)
    else:
        np.clip(x, low, high, out=x)
    return x


def norm(x, ord: float = 2.0) -> float:
    """The ``ord``-norm of ``x`` flattened to a vector, as a Python float."""
    if is_tensor(x):
        return float(sys.modules["torch"].linalg.vector_norm(x, ord))
    return float(np.linalg.norm(np.ravel(x), ord))


def shape(x) -> tuple:
    """The shape of ``x`` as a plain tuple."""
    return tuple(x.shape)


# ---------------------------------------------------------------------------------------
# In-place updates without full-size temporaries. On large NumPy arrays they run block by block
# through one small scratch buffer, so the data stays in the CPU cache between the two passes
# (NumPy has no fused multiply-add). Elementwise the operations are exactly those of the plain
# expression in each docstring, which tensors (and small or strided arrays) evaluate directly:
# torch's fused kernels (add_(alpha=), addcmul_, addcdiv_) would be faster on tensors but round
# differently, and would change every number the chapters print.
# ---------------------------------------------------------------------------------------

_BLOCK = 1 << 16  # elements per block: 256 KiB of float32, a comfortable fit in L2 cache


def _blockwise(x, *others) -> bool:
    """True when ``x`` and ``others`` are C-contiguous NumPy arrays of one shape, large
    enough for blocking to pay off."""
    arrays = (x, *others)
    return (all(isinstance(a, np.ndarray) and a.shape == x.shape and a.flags.c_contiguous
                for a in arrays)
            and x.size > _BLOCK and x.flags.writeable)


def _blocks(n: int):
    for start in range(0, n, _BLOCK):
        yield slice(start, min(start + _BLOCK, n))


def add_scaled_(x, alpha: float, y):
    """``x += alpha * y`` in place; returns ``x``."""
    if not _blockwise(x, y):
        x += alpha * y
        return x
    xf, yf = x.reshape(-1), y.reshape(-1)
    scratch = np.empty(_BLOCK, dtype=np.result_type(y, alpha))
    for b in _blocks(xf.size):
        t = scratch[:b.stop - b.start]
        np.multiply(yf[b], alpha, out=t)
        xf[b] += t
    return x


def add_product_(x, alpha: float, y, z):
    """``x += alpha * y * z`` in place; returns ``x``."""
    if not _blockwise(x, y, z):
        x += alpha * y * z
        return x
    xf, yf, zf = x.reshape(-1), y.reshape(-1), z.reshape(-1)
    scratch = np.empty(_BLOCK, dtype=np.result_type(y, z, alpha))
    for b in _blocks(xf.size):
        t = scratch[:b.stop - b.start]
        np.multiply(yf[b], alpha, out=t)
        t *= zf[b]
        xf[b] += t
    return x


def add_ratio_(x, alpha: float, y, z):
    """``x += alpha * y / z`` in place; returns ``x``."""
    if not _blockwise(x, y, z):
        x += alpha * y / z
        return x
    xf, yf, zf = x.reshape(-1), y.reshape(-1), z.reshape(-1)
    scratch = np.empty(_BLOCK, dtype=np.result_type(y, z, alpha))
    for b in _blocks(xf.size):
        t = scratch[:b.stop - b.start]
        np.multiply(yf[b], alpha, out=t)
        t /= zf[b]
        xf[b] += t
    return x
