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
    """True when ``x`` is a ``torch.Tensor`` (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


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
