"""Frame the digit: its bounding box, scaled into the 20 px box and centred on the 28x28 canvas."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from ..errors import ImageError
from .gray import FIX_DIGIT

__all__ = ["BOX", "SIZE", "bounding_box", "centre_on_canvas", "scale_into_box"]

SIZE = 28
BOX = 20
# Where MNIST puts the centre of mass, in pixel-index coordinates (pixel i spans i-0.5..i+0.5);
# measured on the test images (docs/2026-12-03-preprocessing.md, "Framing").
CENTRE = 14.0
# Output pixels kept around the 20 px box so that antialiased edges are not cut off.
HALO = 2
# Fraction of the peak ink a pixel needs to count towards the bounding box; fainter pixels
# are kept (inside the halo) but do not stretch the box. MNIST's own 20 px box hardly depends on
# the level ("Framing" in docs/2026-12-03-preprocessing.md).
INK_LEVEL = 0.25
# An outer band of ink, separated from the rest by empty rows or columns and holding less
# than this share of the ink, is dust or noise and does not count towards the bounding box.
SPECK_SHARE = 0.02
# A digit's strokes span at least this many pixels; anything smaller is a speck.
MIN_DIGIT = 4
# Lanczos-3 samples up to 3 source pixels (scaled by the reduction factor) from the centre.
LANCZOS_SUPPORT = 3.0


def _main_span(profile: np.ndarray) -> tuple[int, int]:
    """Start and stop of the non-empty stretch of a profile, minus faint outer bands."""
    nonzero = np.flatnonzero(profile)
    # Runs of consecutive non-empty positions.
    breaks = np.flatnonzero(np.diff(nonzero) > 1)
    starts = [int(nonzero[0]), *(int(nonzero[i + 1]) for i in breaks)]
    stops = [*(int(nonzero[i]) + 1 for i in breaks), int(nonzero[-1]) + 1]
    masses = [float(profile[a:b].sum()) for a, b in zip(starts, stops, strict=True)]
    total = sum(masses)
    first, last = 0, len(starts) - 1
    while first < last:
        # Drop the lighter end band while it is a speck.
        end = first if masses[first] <= masses[last] else last
        if masses[end] >= SPECK_SHARE * total:
            break
        if end == first:
            first += 1
        else:
            last -= 1
    return starts[first], stops[last]


def bounding_box(ink: np.ndarray, name: str) -> tuple[int, int, int, int]:
    """Rows r0:r1 and columns c0:c1 of the digit's strokes."""
    strokes = np.where(ink >= INK_LEVEL, ink, np.float32(0))
    r0, r1, c0, c1 = 0, ink.shape[0], 0, ink.shape[1]
    if not strokes.any():
        raise ImageError(f"{name}: no digit found: no ink after thresholding.", FIX_DIGIT)
    # Columns then rows, twice: dropping a speck on one axis can expose one on the other.
    for _ in range(2):
        a, b = _main_span(strokes[r0:r1, c0:c1].sum(axis=0))
        c0, c1 = c0 + a, c0 + b
        a, b = _main_span(strokes[r0:r1, c0:c1].sum(axis=1))
        r0, r1 = r0 + a, r0 + b
    if max(r1 - r0, c1 - c0) < MIN_DIGIT:
        raise ImageError(
            f"{name}: no digit found: the only ink is a speck of {c1 - c0}x{r1 - r0} pixels.",
            FIX_DIGIT,
        )
    return r0, r1, c0, c1


def scale_into_box(ink: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The ink in ``box`` resampled so that its longer side is ``BOX`` px, with ``HALO`` px of
    margin on each side: float32 in [0, 1], (out_h + 2 * HALO, out_w + 2 * HALO)."""
    r0, r1, c0, c1 = box
    height, width = r1 - r0, c1 - c0
    scale = BOX / max(height, width)
    out_h, out_w = max(1, round(height * scale)), max(1, round(width * scale))
    # Source window in pixel-edge coordinates: the box (re-centred so that output pixels are
    # square after rounding out_h/out_w) plus HALO output pixels on each side.
    mid_y, mid_x = (r0 + r1) / 2, (c0 + c1) / 2
    half_h, half_w = (out_h / 2 + HALO) / scale, (out_w / 2 + HALO) / scale
    # Only ink near the box is kept: specks left out of the box stay out of the picture.
    keep = math.ceil(HALO / scale)
    k0, k1 = max(0, r0 - keep), min(ink.shape[0], r1 + keep)
    j0, j1 = max(0, c0 - keep), min(ink.shape[1], c1 + keep)
    # Zero padding for the resampling filter's reach beyond the window.
    pad = math.ceil(LANCZOS_SUPPORT * max(1.0, 1.0 / scale)) + 1
    y0, y1 = math.floor(mid_y - half_h) - pad, math.ceil(mid_y + half_h) + pad
    x0, x1 = math.floor(mid_x - half_w) - pad, math.ceil(mid_x + half_w) + pad
    piece = np.zeros((y1 - y0, x1 - x0), dtype=np.float32)
    piece[k0 - y0 : k1 - y0, j0 - x0 : j1 - x0] = ink[k0:k1, j0:j1]
    window = (mid_x - half_w - x0, mid_y - half_h - y0, mid_x + half_w - x0, mid_y + half_h - y0)
    resized = Image.fromarray(piece).resize(
        (out_w + 2 * HALO, out_h + 2 * HALO), Image.Resampling.LANCZOS, box=window
    )
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def centre_on_canvas(digit: np.ndarray, name: str) -> np.ndarray:
    """The scaled digit (from ``scale_into_box``) on the black 28x28 canvas, its centre of mass
    at ``CENTRE``; ``digit`` is changed in place."""
    out_h, out_w = digit.shape[0] - 2 * HALO, digit.shape[1] - 2 * HALO
    # Lanczos ringing leaves traces far below one grey level; MNIST's background is exactly 0.
    digit[digit < 0.5 / 255] = 0.0
    mass = float(digit.sum())
    if mass <= 0.0:
        raise ImageError(f"{name}: no digit found: the strokes vanish when scaled.", FIX_DIGIT)
    com_y = float(digit.sum(axis=1) @ np.arange(digit.shape[0])) / mass
    com_x = float(digit.sum(axis=0) @ np.arange(digit.shape[1])) / mass
    # Round half up, and keep the 20 px box (inside the halo) on the canvas.
    top = min(max(math.floor(CENTRE - com_y + 0.5), -HALO), SIZE - out_h - HALO)
    left = min(max(math.floor(CENTRE - com_x + 0.5), -HALO), SIZE - out_w - HALO)
    canvas = np.zeros((SIZE, SIZE), dtype=np.float32)
    ys, ye = max(0, top), min(SIZE, top + digit.shape[0])
    xs, xe = max(0, left), min(SIZE, left + digit.shape[1])
    canvas[ys:ye, xs:xe] = digit[ys - top : ye - top, xs - left : xe - left]
    return canvas
