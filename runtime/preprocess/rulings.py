"""Ruled and grid paper: lines across the whole page are taken off the ink before cropping.

A notebook's rulings are ink to ``gray.ink_strength``: left in, they stretch the bounding box to
the page, and the digit comes out small and misread. A ruling is a thin run of rows (or
columns) with ink in at least ``SPAN`` of the pixels across the whole image; its own level (the
row's median ink, which the digit crossing it cannot move) is subtracted from it, so a digit's
stroke over the line keeps the ink it has above the line's.

A digit's own horizontal stroke is never a ruling: it has to reach beyond the rest of the ink by
``BEYOND`` of the image on both sides (a tight crop of a 7 has its bar end where the digit
does), and lines must be thin (``THIN``). An image without such lines (every MNIST digit, as a
28x28 PNG or enlarged on a margin) is returned as it is, not copied: its output is unchanged
bit for bit. Measurements in docs/2026-12-03-no-digit.md ("Rulings").
"""

from __future__ import annotations

import numpy as np

from ..errors import ImageError

__all__ = ["remove_rulings"]

# Share of a row's pixels that must be inked (at INKED or more) for it to be a ruling: a printed
# line crosses the whole page. MNIST's widest row is 20 of 28 px (71%); rulings measured 100%.
SPAN = 0.9
# Ink at this level counts towards a line's span. Light blue and grey rulings measure about
# 0.25 against a dark digit's 1; the faint skirt of a blurred 28x28 digit (the robustness
# report's "blur") reaches across 26 of 28 px at any level above 0, and is no line.
INKED = 0.05
# Runs of candidate rows thicker than this share of the image (and 4 px) are not rulings but a
# band or a shadow, and are left alone.
THIN = 0.04
# The rest of the ink must stop this share of the image short of both ends of a line.
BEYOND = 0.05


def _lines(covered: np.ndarray, length: int) -> list[tuple[int, int]]:
    """Runs (start, stop) of consecutive True entries no thicker than a ruling."""
    index = np.flatnonzero(covered)
    if index.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(index) > 1)
    starts = [int(index[0]), *(int(index[i + 1]) for i in breaks)]
    stops = [*(int(index[i]) + 1 for i in breaks), int(index[-1]) + 1]
    thin = max(4, round(THIN * length))
    return [(a, b) for a, b in zip(starts, stops, strict=True) if b - a <= thin]


def _flatten(ink: np.ndarray, lines: list[tuple[int, int]]) -> None:
    """Subtract each line row's median level from it, in place (rows of ``ink``)."""
    for a, b in lines:
        band = ink[a:b]
        k = band.shape[1] // 2
        level = np.partition(band, k, axis=1)[:, k : k + 1]
        np.subtract(band, level, out=band)
        np.maximum(band, np.float32(0), out=band)


def _span(inked: np.ndarray) -> tuple[int, int] | None:
    index = np.flatnonzero(inked)
    return None if index.size == 0 else (int(index[0]), int(index[-1]) + 1)


def _clear_of(span: tuple[int, int] | None, length: int) -> bool:
    """True when the rest of the ink stops short of both ends of a line ``length`` long."""
    margin = BEYOND * length
    return span is None or (span[0] >= margin and span[1] <= length - margin)


def remove_rulings(ink: np.ndarray, name: str) -> np.ndarray:
    """``ink`` without horizontal and vertical rulings; ``ink`` itself when it has none.

    Raises ``ImageError`` when the rulings were all the ink there was (an empty page).
    """
    height, width = ink.shape
    inked = ink >= INKED
    rows = _lines(inked.sum(axis=1) >= SPAN * width, height)
    cols = _lines(inked.sum(axis=0) >= SPAN * height, width)
    if not rows and not cols:
        return ink
    # The ink off every line: where the rest of the writing is.
    rest = inked.copy()
    for a, b in rows:
        rest[a:b] = False
    for a, b in cols:
        rest[:, a:b] = False
    # A line that the rest of the ink reaches the image's edge along may be the digit's own bar.
    if not _clear_of(_span(rest.any(axis=0)), width):
        rows = []
    if not _clear_of(_span(rest.any(axis=1)), height):
        cols = []
    if not rows and not cols:
        return ink
    ink = ink.copy()
    _flatten(ink, rows)
    _flatten(ink.T, cols)
    if not (ink >= 0.25).any():
        raise ImageError(
            f"{name}: no digit found: only ruled or grid lines, no writing.",
            "write one digit on the page, or pass a photo of one.",
        )
    return ink
