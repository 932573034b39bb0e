"""Blurred digits: a digit without MNIST's saturated stroke cores gets an unsharp mask.

MNIST's digits were scanned in black and white and then antialiased, so their strokes have a
saturated core. A digit blurred before it reached us (out of focus, or enlarged from a coarse
grid like scikit-learn's 8x8 UCI digits) has soft ramps instead: a faint skirt that widens its
strokes, and thin strokes (the closing side of a loop, the stem of a 4) that stay grey.

A digit with less than ``CORE_SHARE`` of its ink at ``CORE_LEVEL`` or more gets an unsharp mask:
itself plus an amount times its difference from a Gaussian blur of ``SIGMA`` output pixels,
clipped to [0, 1]. Edges steepen, the skirt is trimmed and grey strokes come up towards full
ink, with the ink staying where it was. The amount is ``AMOUNT`` for a digit with no core at
all, falling linearly to 0 at ``CORE_SHARE``, so that there is no jump at the threshold: noise
on a crisp stroke also leaves it a little short of a core, and such digits change little. Crisp
digits are left exactly as they are.

SIGMA and AMOUNT are the common defaults (1 px, 100%), not fitted. How much of their ink
MNIST's and the UCI digits have in the core, and what the threshold, the settings and the
fall-off do to accuracy, are in docs/2026-12-03-preprocessing.md ("Sharpening blurred digits").
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["AMOUNT", "CORE_LEVEL", "CORE_SHARE", "SIGMA", "core_share", "sharpen"]

CORE_LEVEL = 0.9
"""Pixels at this level or more are a stroke's saturated core."""
CORE_SHARE = 0.25
"""Digits with less of their ink in the core than this are sharpened."""
SIGMA = 1.0
"""Standard deviation in output pixels of the blur the unsharp mask subtracts."""
AMOUNT = 1.0
"""How much of the difference from the blur is added back."""


def core_share(digit: np.ndarray) -> float:
    """The share of the ink mass in pixels at ``CORE_LEVEL`` or more (0 for a blank image)."""
    mass = float(digit.sum())
    if mass <= 0.0:
        return 0.0
    return float(digit[digit >= CORE_LEVEL].sum()) / mass


@functools.lru_cache(maxsize=64)
def _blur_matrix(size: int, sigma: float) -> np.ndarray:
    """The (size, size) matrix that blurs a line of ``size`` pixels with a Gaussian of
    ``sigma`` truncated at 3 sigma, zero beyond the ends.

    A digit is at most 24x24 here, so two small matrix products are the cheapest blur, far
    cheaper than shifted array sums or a convolution per line (docs/2026-12-03-preprocessing.md,
    "Cost of the small filters").
    """
    offsets = np.arange(size)[:, None] - np.arange(size)[None, :]
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    weights[np.abs(offsets) > math.ceil(3.0 * sigma)] = 0.0
    reach = math.ceil(3.0 * sigma)
    total = 1.0 + 2.0 * sum(math.exp(-0.5 * (k / sigma) ** 2) for k in range(1, reach + 1))
    return (weights / total).astype(np.float32)


def _gaussian(pixels: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with zero padding: columns, then rows, as matrix products."""
    height, width = pixels.shape
    return _blur_matrix(height, sigma) @ pixels @ _blur_matrix(width, sigma).T


def sharpen(digit: np.ndarray) -> np.ndarray | None:
    """``digit`` with an unsharp mask applied if it is blurred, else None (keep it as it is)."""
    share = core_share(digit)
    if share >= CORE_SHARE:
        return None
    # The less of a core, the stronger: a digit just under the threshold changes as little as
    # one just over it, and noisy crisp digits, seldom far under it, change little.
    amount = AMOUNT * (1.0 - share / CORE_SHARE)
    sharp = digit + np.float32(amount) * (digit - _gaussian(digit, SIGMA))
    # In place: np.clip costs more on arrays this small (the preprocessing note).
    np.maximum(sharp, np.float32(0.0), out=sharp)
    np.minimum(sharp, np.float32(1.0), out=sharp)
    return sharp
