"""Writing styles MNIST lacks, drawn onto MNIST's own digits: a flag and a base on 1s, a crossbar
on 7s.

MNIST's writers (American) draw 1 as a bare stroke and 7 without a bar; many writers elsewhere
add them, and models trained on MNIST alone read such 1s as 7 or 4 and such 7s as 2 or 4
(docs/2026-12-03-training-recipes.md, "Styles"). Each stroke is drawn at four times the size
with the digit's own stroke width, then the digit is framed exactly as ``predict`` frames an
image (runtime.preprocess.frame), so the result is in MNIST's 20-px box, centred by mass.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from edge_mnist.runtime.preprocess.frame import bounding_box, centre_on_canvas, scale_into_box

SIDE = 28
UP = 4  # drawing scale


def _ends(ink: np.ndarray) -> tuple[tuple[float, float], tuple[float, float], float]:
    """The top and bottom points (row, column) of the ink, and its stroke width (px)."""
    rows = np.flatnonzero(ink.max(axis=1) > 0.5)
    top, bottom = rows[0], rows[-1]

    def column(r: int) -> float:
        line = ink[r]
        return float(line @ np.arange(line.size) / max(line.sum(), 1e-6))

    height = bottom - top + 1
    width = float((ink > 0.5).sum()) / height  # mean ink per row: about the stroke width
    return (float(top), column(top)), (float(bottom), column(bottom)), max(1.5, width)


def _draw(
    ink: np.ndarray, lines: list[tuple[float, float, float, float]], width: float
) -> np.ndarray:
    big = np.asarray(
        Image.fromarray(ink.astype(np.float32)).resize((SIDE * UP,) * 2, Image.Resampling.BILINEAR)
    )
    canvas = Image.new("L", (SIDE * UP,) * 2, 0)
    pen = ImageDraw.Draw(canvas)
    for r0, c0, r1, c1 in lines:
        pen.line([(c0 * UP, r0 * UP), (c1 * UP, r1 * UP)], fill=255, width=round(width * UP))
    drawn = np.maximum(big, np.asarray(canvas, np.float32) / 255)
    box = bounding_box(drawn, "synthesis")
    return centre_on_canvas(scale_into_box(drawn, box), "synthesis")


def one_with_flag(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 1 with a flag at the top (down to the left), and sometimes a base."""
    (tr, tc), (br, bc), width = _ends(ink)
    height = br - tr
    flag = height * rng.uniform(0.25, 0.45)
    angle = np.radians(rng.uniform(20, 60))  # below the horizontal
    lines = [(tr, tc, tr + flag * np.sin(angle), tc - flag * np.cos(angle))]
    if rng.random() < 0.4:
        half = height * rng.uniform(0.2, 0.35)
        lines.append((br, bc - half, br, bc + half))
    return _draw(ink, lines, width)


def seven_with_bar(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 7 with a crossbar through the middle of its stem."""
    rows = np.flatnonzero(ink.max(axis=1) > 0.5)
    top, bottom = rows[0], rows[-1]
    r = int(top + (bottom - top) * rng.uniform(0.45, 0.6))
    line = ink[r]
    c = float(line @ np.arange(line.size) / max(line.sum(), 1e-6))
    _, _, width = _ends(ink)
    half = (bottom - top) * rng.uniform(0.15, 0.25)
    tilt = rng.uniform(-1.0, 1.0)
    return _draw(ink, [(r + tilt, c - half, r - tilt, c + half)], min(width, 3.0))


def add_styles(
    x: np.ndarray, y: np.ndarray, seed: int, share: float = 0.5
) -> tuple[np.ndarray, int]:
    """``x`` (n, 784) with ``share`` of its 1s and 7s redrawn in the styles above (a copy), and
    the number redrawn. The choice and the strokes follow ``seed``."""
    rng = np.random.default_rng(seed)
    out = x.copy()
    count = 0
    for digit, style in ((1, one_with_flag), (7, seven_with_bar)):
        for i in np.flatnonzero(y == digit):
            if rng.random() >= share:
                continue
            out[i] = style(x[i].reshape(SIDE, SIDE), rng).reshape(-1)
            count += 1
    return out, count
