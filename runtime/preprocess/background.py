"""Where the page is: the background level (or a plane, for uneven light) and its noise.

Preprocessing measures ink against this estimate. It reads the image border, and copes with
strokes that touch the border (a digit cropped to its ink) and with a page lit from one side.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# Ink weaker than this (on a 0-1 scale) above the background noise is not a digit.
MIN_CONTRAST = 0.1
# Strokes covering at least this share of the border make it two populations (ink and page).
BORDER_INK_SHARE = 0.01
# A plane fitted to the border replaces its median when it leaves at most this share of the
# border's spread: a page lit from one side.
SHADING_GAIN = 0.5


def median(values: np.ndarray) -> float:
    """``np.median`` of a non-empty array, bit for bit, without its cost at cold start:
    ``np.median`` imports ``numpy.ma`` on first use, once per ``predict`` process
    (docs/2026-12-03-preprocessing.md, "np.median at cold start")."""
    flat = np.asarray(values).ravel()
    k = flat.size // 2
    if flat.size % 2:
        return float(np.partition(flat, k)[k])
    # The mean of the two middle values, in the array's own precision, as numpy computes it.
    return float(np.partition(flat, (k - 1, k))[k - 1 : k + 1].mean())


def _border(gray: np.ndarray) -> np.ndarray:
    height, width = gray.shape
    b = max(1, min(height, width) // 50)
    return np.concatenate(
        [
            gray[:b].ravel(),
            gray[-b:].ravel(),
            gray[b:-b, :b].ravel(),
            gray[b:-b, -b:].ravel(),
        ]
    )


def _otsu(values: np.ndarray) -> float:
    """Otsu's threshold on [0, 1]: the level that best splits the values into two populations."""
    hist = np.bincount(np.clip(values.ravel() * 255 + 0.5, 0, 255).astype(np.intp), minlength=256)
    p = hist / float(hist.sum())
    levels = np.arange(256, dtype=np.float64)
    weight = np.cumsum(p)
    mass = np.cumsum(p * levels)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mass[-1] * weight - mass) ** 2 / (weight * (1.0 - weight))
    between[~np.isfinite(between)] = -1.0
    return (int(np.argmax(between)) + 0.5) / 255


def _shading(gray: np.ndarray, border: np.ndarray, level: float, noise: float) -> tuple[Any, float]:
    """A page lit unevenly: a plane fitted to the border, when it explains most of its spread.

    Returns the background (the level, or a per-pixel plane) and its noise.
    """
    height, width = gray.shape
    if noise <= 0.0 or height < 2 or width < 2:
        return level, noise
    ys = np.broadcast_to(np.linspace(0, 1, height, dtype=np.float32)[:, None], gray.shape)
    xs = np.broadcast_to(np.linspace(0, 1, width, dtype=np.float32)[None, :], gray.shape)
    design = np.stack([np.ones(border.size, np.float32), _border(xs), _border(ys)], axis=1)
    # Strokes touching the border would tilt the fit: only pixels near the level take part.
    near = np.abs(border - level) <= 3.0 * noise
    if int(near.sum()) < 3:
        return level, noise
    coef = np.linalg.lstsq(design[near], border[near], rcond=None)[0]
    residual = border - design @ coef
    offset = median(residual)
    plane_noise = 1.4826 * median(np.abs(residual - offset))
    # What is left must be noise, well below a stroke's contrast: ink along one edge of a tight
    # crop also tilts a plane, but leaves large residuals.
    limit = min(SHADING_GAIN * noise, MIN_CONTRAST / 2)
    if abs(coef[1]) + abs(coef[2]) < MIN_CONTRAST or plane_noise > limit:
        return level, noise
    plane = (coef[0] + offset) + coef[1] * xs + coef[2] * ys
    return plane.astype(np.float32), plane_noise


def estimate_background(gray: np.ndarray) -> tuple[Any, float]:
    """The background (a level, or a plane for uneven light) and its noise (standard
    deviation), from the image border.

    Strokes that touch the border (a digit cropped to its ink) put a second population on it;
    the whole image's Otsu threshold separates the two, and the larger share of the border is
    the background. A border without two distinct populations is used as it is, allowing for a
    light gradient across the page.
    """
    border = _border(gray)
    level = median(border)
    noise = 1.4826 * median(np.abs(border - level))
    # A smooth gradient also puts two populations on the border, and a plane fits it.
    shaded = _shading(gray, border, level, noise)
    if isinstance(shaded[0], np.ndarray):
        return shaded
    light = border >= _otsu(gray)
    light_share = float(light.mean())
    if min(light_share, 1.0 - light_share) < BORDER_INK_SHARE:
        return level, noise
    main = light if light_share >= 0.5 else ~light
    main_level = median(border[main])
    # Noise from the steps between neighbouring border pixels that are both background: the
    # antialiased rims of strokes make the levels spread, but change smoothly from pixel to pixel.
    steps = np.abs(np.diff(border))[main[:-1] & main[1:]]
    main_noise = 0.0 if steps.size == 0 else 1.4826 * median(steps) / math.sqrt(2.0)
    other_level = median(border[~main])
    if abs(other_level - main_level) <= MIN_CONTRAST + 3.0 * main_noise:
        return level, noise
    return main_level, main_noise
