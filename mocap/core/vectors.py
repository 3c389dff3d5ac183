"""Small vector helpers over the last axis of (..., 3) arrays, cheaper than numpy's general
functions for the few-dozen-vector arrays a frame holds."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def norm(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """Lengths of the vectors in the last axis (kept as a length-1 axis)."""
    return np.sqrt(np.add.reduce(v * v, axis=-1, keepdims=True))   # np.sum's wrapper costs more than the sum


def unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """The vectors scaled to length 1 (zero vectors stay zero)."""
    return v / np.maximum(norm(v), 1e-12)


def cross(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cross products of (..., 3) arrays; np.cross's axis handling costs more than the sum itself."""
    return np.stack([
        a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
        a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
        a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0],
    ], axis=-1)
