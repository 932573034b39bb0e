"""Grey levels from a PIL image or an array, and the ink: each pixel's contrast against the page."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from ..errors import ImageError
from .background import MIN_CONTRAST, estimate_background, median
from .decode import FIX_FILE, MIN_SIDE, check_size

__all__ = ["FIX_DIGIT", "gray_from_array", "gray_from_pil", "ink_strength"]

WORK_SIDE = 2048
"""Larger images are box-averaged to about this many pixels on the longer side first."""
# The darkest and lightest few pixels are ignored when deciding which way round the ink is.
OUTLIERS = 4

FIX_DIGIT = "pass an image of one dark digit on a light background, or a light digit on dark."


def gray_from_pil(im: Image.Image, name: str) -> np.ndarray:
    """Grayscale float32 pixels in [0, 1] from any Pillow mode."""
    mode = im.mode
    if mode.startswith("I;16"):
        return _shrink_array(np.asarray(im, dtype=np.float32) / np.float32(65535))
    if mode in ("I", "F"):
        return _shrink_array(_scale_numbers(np.asarray(im), name))
    has_alpha = mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in im.info
    try:
        if has_alpha:
            rgba = _shrink_pil(im.convert("RGBA"))
            pixels = np.asarray(rgba, dtype=np.float32) / np.float32(255)
            return _composite(_luma(pixels[..., :3]), pixels[..., 3])
        return np.asarray(_shrink_pil(im.convert("L")), dtype=np.float32) / np.float32(255)
    except ValueError as exc:
        raise ImageError(
            f"{name}: cannot convert image mode {mode} to grayscale ({exc})."
        ) from None


def _shrink_factor(width: int, height: int) -> int:
    # Box-average large images down to about WORK_SIDE before the float work: a digit of 1/100
    # of the frame still keeps 20 px, and memory and time stop growing with the camera.
    factor = math.ceil(max(width, height) / WORK_SIDE)
    return max(1, min(factor, min(width, height) // MIN_SIDE))


def _shrink_pil(im: Image.Image) -> Image.Image:
    factor = _shrink_factor(*im.size)
    return im if factor == 1 else im.reduce(factor)


def _shrink_array(gray: np.ndarray) -> np.ndarray:
    factor = _shrink_factor(gray.shape[1], gray.shape[0])
    if factor == 1:
        return gray
    height, width = gray.shape[0] // factor, gray.shape[1] // factor
    blocks = gray[: height * factor, : width * factor].reshape(height, factor, width, factor)
    return blocks.mean(axis=(1, 3), dtype=np.float32)


def _scale_numbers(arr: np.ndarray, name: str) -> np.ndarray:
    """Map 32-bit integer or float pixels of unknown range onto [0, 1]."""
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():
        raise ImageError(f"{name}: the image has NaN or infinite pixels.", FIX_FILE)
    lo, hi = float(arr.min()), float(arr.max())
    if lo >= 0.0 and hi <= 1.0:
        return arr
    if lo >= 0.0 and hi <= 255.0:
        return arr / np.float32(255)
    if lo >= 0.0 and hi <= 65535.0:
        return arr / np.float32(65535)
    return (arr - lo) / np.float32(hi - lo)


def gray_from_array(image: np.ndarray, name: str) -> np.ndarray:
    arr = image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))):
        raise ImageError(
            f"{name} has shape {image.shape}; expected a 2-D grayscale image (H, W) "
            "or a colour image (H, W, 3) or (H, W, 4).",
            "pass one image, not a batch; drop extra axes with numpy.squeeze.",
        )
    check_size((arr.shape[1], arr.shape[0]), name)
    kind = arr.dtype.kind
    if kind == "b":
        pixels = arr.astype(np.float32)
    elif kind == "f":
        pixels = arr.astype(np.float32)
        lo, hi = float(pixels.min()), float(pixels.max())
        # NaN fails both comparisons, so this also rejects NaN and inf.
        if not (lo >= 0.0 and hi <= 1.0):
            raise ImageError(
                f"{name} has float pixels from {lo:g} to {hi:g}; float pixels must be in [0, 1].",
                "scale 0-255 images by 1/255, or pass them as uint8.",
            )
    elif kind in "ui":
        top = 65535 if arr.dtype == np.uint16 else 255
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > top:
            raise ImageError(
                f"{name} has integer pixels from {lo} to {hi}; "
                f"{arr.dtype} pixels must be in 0-{top}.",
                "pass uint8 pixels (0-255) or float pixels in [0, 1].",
            )
        pixels = arr.astype(np.float32) / np.float32(top)
    else:
        raise ImageError(
            f"{name} has dtype {arr.dtype}; expected unsigned integer or float pixels."
        )
    if pixels.ndim == 2:
        return _shrink_array(pixels)
    gray = _luma(pixels[..., :3])
    if pixels.shape[2] == 3:
        return _shrink_array(gray)
    return _shrink_array(_composite(gray, pixels[..., 3]))


def _luma(rgb: np.ndarray) -> np.ndarray:
    # ITU-R 601-2 weights, the same as Pillow's convert("L").
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.asarray(rgb @ weights, dtype=np.float32)


def _composite(gray: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Flatten transparency onto a background that contrasts with the opaque strokes.

    Transparent pixels are background: dark strokes on a transparent canvas go onto white and
    light strokes onto black, so the digit is never composited onto its own colour.
    """
    opacity = float(alpha.sum())
    if opacity >= alpha.size:
        return gray
    if opacity == 0.0:
        return np.zeros_like(gray)
    backdrop = np.float32(1.0 if float((gray * alpha).sum()) / opacity < 0.5 else 0.0)
    return np.asarray(gray * alpha + backdrop * (1 - alpha), dtype=np.float32)


def _kth_extremes(values: np.ndarray, k: int) -> tuple[float, float]:
    """The (k+1)-th smallest and largest values: min and max robust to k stray pixels."""
    flat = values.ravel()
    k = min(k, flat.size - 1)
    part = np.partition(flat, (k, flat.size - 1 - k))
    return float(part[k]), float(part[flat.size - 1 - k])


def ink_strength(gray: np.ndarray, name: str) -> np.ndarray:
    """Ink strength in [0, 1] per pixel: 0 on the background, 1 at the strongest strokes."""
    lo, hi = _kth_extremes(gray, OUTLIERS)
    if hi - lo < 1e-6:
        raise ImageError(f"{name}: no digit found: the image is blank (one colour).", FIX_DIGIT)
    background, noise = estimate_background(gray)
    # The ink is whichever side of the background reaches further: dark ink on a light page
    # is inverted to MNIST's light-on-dark. This also holds for grey or underexposed pages.
    darker = background - gray
    least, most = _kth_extremes(darker, OUTLIERS)
    ink = darker if most > -least else -darker
    if isinstance(background, np.ndarray) and most > -least:
        # Light multiplies: on a page lit unevenly, dark ink's contrast is in proportion to the
        # light falling on it. Dividing by the page's brightness evens it out.
        median_light = median(background)
        ink = darker * (median_light / np.maximum(background, np.float32(1e-3)))
    floor = 3.0 * noise
    strong = ink[ink > floor + MIN_CONTRAST]
    if strong.size == 0:
        raise ImageError(
            f"{name}: no digit found: nothing stands out from the background "
            f"(strongest contrast {max(most, -least):.3f}).",
            FIX_DIGIT,
        )
    # The brightest pixel sets full scale unless it is a stray one far above the next few.
    peak = float(strong.max())
    runner_up = _kth_extremes(strong, OUTLIERS)[1]
    if runner_up < 0.9 * peak:
        peak = runner_up
    scaled = (ink - floor) / np.float32(peak - floor)
    return np.clip(scaled, 0.0, 1.0).astype(np.float32, copy=False)
