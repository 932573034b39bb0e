"""Stroke width: digits written with a much broader pen than MNIST's are thinned towards it.

The model has only seen MNIST's pen, and reads digits from a marker or a coarse grid (such as
scikit-learn's UCI digits) badly: their fat 1s look like 4s and 8s. Width is measured in the
20 px box as twice the ink mass over the length of the ink's outline (for a stroke of length L
and width w: 2 * L * w / 2L = w).

A mean width cannot tell a broad pen from a thin one with a blot (among MNIST's widest digits are
ordinary strokes around a filled loop, and eroding them breaks the thin strokes). So a digit is
thinned only when its mean width is over ``THICK`` (a cheap first test) and most of its ink lies
in strokes at least ``BROAD`` wide: a BROAD x BROAD square opening keeps half of its ink. Its
strokes are then eroded towards ``TARGET``; parts narrower than the erosion (which it would wipe
out) are kept as they are. Every digit not thinned is preprocessed exactly as without this step.

The settings trade the UCI digits against MNIST, since MNIST's broadest digits are read well as
they are; the widths measured and the settings tried are in docs/2026-12-03-preprocessing.md
("Stroke width").
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

# Widths are measured in the box the digit is scaled into.
from .frame import BOX

__all__ = ["BROAD", "TARGET", "THICK", "stroke_width", "thin_strokes"]

THICK = 4.0
"""Digits whose mean stroke width is at most this (px in the 20 px box) are never thinned."""
BROAD = 5.25
"""Half the ink must lie in strokes at least this wide (px in the 20 px box) to thin a digit."""
TARGET = 2.1
"""The stroke width (px in the 20 px box) that thinned digits are eroded towards."""
# Erosion works at this many pixels per output pixel, so that it can remove a quarter pixel.
FINE = 4
# Output pixels kept around the box: antialiased edges just outside it belong to the digit.
MARGIN = 2
# The eroded digit must keep a pixel this strong, or it is left as it was.
MIN_PEAK = 0.5


def stroke_width(ink: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Mean stroke width in pixels of the 20 px box: twice the ink mass over the outline length.

    The outline length is the summed gradient magnitude, which counts a soft (antialiased or
    blurred) edge as much as a sharp one, so grey images need no threshold.
    """
    r0, r1, c0, c1 = box
    piece = np.pad(ink[r0:r1, c0:c1].astype(np.float64), 1)
    outline = float(np.hypot(np.diff(piece, axis=0)[:, :-1], np.diff(piece, axis=1)[:-1, :]).sum())
    if outline <= 0.0:
        return 0.0
    return 2.0 * float(piece.sum()) / outline * BOX / max(r1 - r0, c1 - c0)


def _erode(pixels: np.ndarray, radius: int) -> np.ndarray:
    """Grey-level erosion by a (2r+1)-pixel square: ``radius`` pixels off each side of a stroke.

    The square's minimum is that of a row window then a column window: 4r array minimums where
    Pillow's ``MinFilter`` sorts (2r+1)^2 pixels per pixel, some 40 times slower on a digit
    (docs/2026-12-03-preprocessing.md, "Cost of the small filters").
    """
    for axis in (0, 1):
        source = np.moveaxis(pixels, axis, 0)
        out = source.copy()
        for shift in range(1, radius + 1):
            np.minimum(out[shift:], source[:-shift], out=out[shift:])
            np.minimum(out[:-shift], source[shift:], out=out[:-shift])
        pixels = np.moveaxis(out, 0, axis)
    return pixels


def _dilate(pixels: np.ndarray, radius: int) -> np.ndarray:
    return -_erode(-pixels, radius)


def thin_strokes(ink: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray | None:
    """The digit in ``box`` with its strokes eroded towards ``TARGET``, or None if not broad.

    The result is a new ink image (the digit at ``FINE`` times the output scale, on a blank
    margin) for the rest of the preprocessing; None means: keep ``ink`` as it is.
    """
    width = stroke_width(ink, box)
    if width <= THICK:
        return None
    r0, r1, c0, c1 = box
    side = max(r1 - r0, c1 - c0)
    scale = FINE * BOX / side
    keep = math.ceil(MARGIN * side / BOX)
    k0, k1 = max(0, r0 - keep), min(ink.shape[0], r1 + keep)
    j0, j1 = max(0, c0 - keep), min(ink.shape[1], c1 + keep)
    height, width_px = max(1, round((k1 - k0) * scale)), max(1, round((j1 - j0) * scale))
    resized = Image.fromarray(np.ascontiguousarray(ink[k0:k1, j0:j1])).resize(
        (width_px, height), Image.Resampling.BILINEAR
    )
    # A blank border, so that the filters see background beyond strokes cut by the crop.
    fine = np.pad(np.asarray(resized, dtype=np.float32), FINE * (MARGIN + 2))
    mass = float(fine.sum())
    broad = round((BROAD * FINE - 1) / 2)
    if float(np.minimum(_dilate(_erode(fine, broad), broad), fine).sum()) < 0.5 * mass:
        return None
    radius = round((width - TARGET) / 2 * FINE)
    eroded = _erode(fine, radius)
    # What an opening removes is narrower than the erosion: kept, so no stroke is cut through.
    narrow = np.maximum(fine - _dilate(eroded, radius), 0.0)
    thinned = np.maximum(eroded, narrow)
    if float(thinned.max()) < MIN_PEAK:
        return None
    return np.clip(thinned, 0.0, 1.0)
