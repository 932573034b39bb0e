"""Is this one handwritten digit? The ink's evidence: its pieces, their extent and its strokes.

Run on the ink inside the digit's bounding box, before it is scaled. Strong evidence that the
image is not one digit refuses it (``ImageError``, naming what was seen and the fix); weaker
evidence returns a short reason, and the classifier marks its answer uncertain. The model's own
confidence adds a last check in ``Classifier.classify_image`` (``LOW_CONFIDENCE``).

Every threshold sits between what the 10,000 MNIST test digits do (rendered as PNGs both at
28x28 and at x4 on a margin) and what the non-digit set of tests/unit/nondigits.py does; the
figures are in docs/2026-12-03-no-digit.md. No MNIST test digit is refused by these rules.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ImageError
from ..textfmt import confidence
from .components import Piece, pieces
from .stroke import stroke_width

__all__ = ["LOW_CONFIDENCE", "confidence_doubt", "judge"]

# The pieces are found on the box's mask pooled to at most this many pixels a side (a piece of
# ink keeps at least one pixel): enough to tell strokes apart, and a few hundred runs at most to
# label (the cost is in the note).
GRID = 48
# A pixel is ink for the pieces at the level that frame.bounding_box counts (frame.INK_LEVEL).
INK_LEVEL = 0.25
# A round dot's mean stroke width is half its diameter: about 10 px in the 20 px box (8.4 to
# 9.2 measured on dots of 4 to 40 px). MNIST's widest digit measures 6.9, its 99.9th percentile
# 5.5. But MNIST digits drawn with a broad marker (x4, dilated 7 px a side, as in
# tests/test_preprocess.py) fill in to round blots too: of 2,000 training digits so drawn, 19
# are convex blots of BLOB_DOUBT or more and 4 of BLOB_REFUSE or more (up to 8.7); of 2,000 test
# digits, 2 and 0. So a single convex, roundish blot (one run of ink in every row and column,
# BLOB_ASPECT) is refused from BLOB_REFUSE and doubted from BLOB_DOUBT.
BLOB_REFUSE = 8.2
BLOB_DOUBT = 7.5
BLOB_ASPECT = (0.75, 1.33)
# Ink wider than this many times its height is a word or a row of characters: MNIST's widest
# digit is 2.13 times as wide as tall; words measured 2.2 to 11.
WORD_ASPECT = 2.5
# Two pieces each holding this share of the ink, side by side (no column in common), are two
# characters when the ink is at least SIDE_REFUSE times wider than tall; from SIDE_DOUBT on it
# is uncertain. MNIST: 9 of the 10,000 test digits as 28x28 PNGs (broken strokes) have such
# pieces, up to an aspect of 1.67 (digit 7454); two MNIST digits side by side measure 1.94 to
# 2.23, numbers in a font 1.44 and more. Those MNIST pieces are a short bar beside the rest (3
# of 12 rows); two characters stand about as tall as each other: so the shorter piece must
# reach SIDE_HEIGHT of the taller's height, and no MNIST test digit is left.
SIDE_SHARE = 0.2
SIDE_HEIGHT = 0.5
SIDE_REFUSE = 1.6
SIDE_DOUBT = 1.3
# Scattered specks: at least SCATTER_PIECES pieces and none holding SCATTER_TOP of the ink are
# doubted, and refused under SCATTER_REFUSE. MNIST's most broken digit keeps 46% in one piece;
# specks 9% to 38%. A faint digit broken up by heavy noise (one in 1,500 of the robustness
# report's "noise" images) can fall under SCATTER_TOP: it is doubted.
SCATTER_PIECES = 3
SCATTER_TOP = 0.45
SCATTER_REFUSE = 0.3
# Specks where one cluster holds most of the ink still cover little of their bounding box: the
# pooled ink mask of an MNIST test digit covers at least 17% of it (21% at x4; 18% for those in
# two pieces or more), specks 1.6% to 7%. Three pieces or more covering under SPARSE are doubted
# (not refused: a thin pen at a high resolution covers less than MNIST's, in one piece mostly).
SPARSE = 0.08
# The model's top probability under this marks an answer uncertain (Classifier.classify_image).
# With the default int8 model no MNIST test digit is under 0.35 (lowest 0.352 and 0.363, as
# 28x28 and x4 PNGs); 0.4 would flag 3 of each, 0.5 13 to 16. Non-digits are often read with
# high confidence ("42" in a font as 0 at 0.984), so the ink decides and this is a last check.
LOW_CONFIDENCE = 0.35


def confidence_doubt(top: float) -> str | None:
    """The reason to mark an answer uncertain when its top probability ``top`` is under
    LOW_CONFIDENCE (None otherwise), with the probability as every command prints it."""
    if top >= LOW_CONFIDENCE:
        return None
    return f"the model is unsure (its top answer has {confidence(top)})"


FIX_ONE = "crop the image to one digit."


def _mask(ink: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    r0, r1, c0, c1 = box
    height, width = r1 - r0, c1 - c0
    mask = ink[r0:r1, c0:c1] >= INK_LEVEL
    factor = math.ceil(max(height, width) / GRID)
    if factor == 1:
        return mask
    tall, wide = -(-height // factor) * factor, -(-width // factor) * factor
    padded = np.zeros((tall, wide), dtype=bool)
    padded[:height, :width] = mask
    return np.asarray(
        padded.reshape(tall // factor, factor, wide // factor, factor).any(axis=(1, 3))
    )


def _convex(mask: np.ndarray) -> bool:
    """One run of ink in every row and every column: a blot, no stroke turning back."""
    padded = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), dtype=np.int8)
    padded[1:-1, 1:-1] = mask
    rows = (np.diff(padded, axis=1) == 1).sum(axis=1)
    cols = (np.diff(padded, axis=0) == 1).sum(axis=0)
    return int(rows.max()) <= 1 and int(cols.max()) <= 1


def _side_by_side(found: list[Piece], total: int) -> bool:
    big = [p for p in found if p.size >= SIDE_SHARE * total]
    return any(
        min(a.c1, b.c1) <= max(a.c0, b.c0)
        and min(a.r1 - a.r0, b.r1 - b.r0) >= SIDE_HEIGHT * max(a.r1 - a.r0, b.r1 - b.r0)
        for i, a in enumerate(big)
        for b in big[i + 1 :]
    )


def judge(ink: np.ndarray, box: tuple[int, int, int, int], name: str) -> str | None:
    """Refuse ink that is not one digit (``ImageError``); return a reason to doubt it, or None."""
    r0, r1, c0, c1 = box
    aspect = (c1 - c0) / (r1 - r0)
    if aspect >= WORD_ASPECT:
        raise ImageError(
            f"{name}: no single digit: the ink is {aspect:.1f} times wider than tall, "
            "like a word or several characters.",
            FIX_ONE,
        )
    mask = _mask(ink, box)
    found = pieces(mask)
    total = sum(p.size for p in found)
    doubt = None
    # Every piece counts, however small: dust of many tiny specks is scattered too.
    if len(found) >= SCATTER_PIECES and found[0].size < SCATTER_TOP * total:
        if found[0].size < SCATTER_REFUSE * total:
            raise ImageError(
                f"{name}: no digit found: {len(found)} scattered specks or marks, none of them "
                "a digit's strokes.",
                "photograph or draw one digit on a clean page, and crop to it.",
            )
        doubt = f"{len(found)} separate marks, none of them most of the ink: specks or noise?"
    elif len(found) >= SCATTER_PIECES and mask.mean() < SPARSE:
        doubt = f"{len(found)} separate marks, thinly spread: specks or noise?"
    if _side_by_side(found, total):
        if aspect >= SIDE_REFUSE:
            raise ImageError(
                f"{name}: no single digit: separate marks side by side, like several digits.",
                FIX_ONE,
            )
        if aspect >= SIDE_DOUBT:
            doubt = doubt or "two separate marks side by side: several digits?"
    if doubt is not None:
        return doubt
    # Convexity first: it is cheaper than the width, and rare in digits that are not blots.
    if len(found) == 1 and BLOB_ASPECT[0] <= aspect <= BLOB_ASPECT[1] and _convex(mask):
        width = stroke_width(ink, box)
        if width >= BLOB_DOUBT:
            if width >= BLOB_REFUSE:
                raise ImageError(
                    f"{name}: no digit found: the ink is one round blot (a dot or a tap), "
                    "not a digit's strokes.",
                    "draw or photograph a whole digit.",
                )
            return "one round blot: a dot, or a digit drawn with a very broad pen?"
    return None
