"""Named image variations for the robustness report: what real photos, scans and drawings do.

Each variation takes one MNIST test image (uint8 (28, 28), light digit on black) and a seeded
numpy generator, and returns a uint8 grayscale image of any size, the way a user's file would
reach the preprocessing. Every variation draws something from the generator (an angle's sign,
a factor, the noise), so the same seed gives the same image and another seed another one.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

VariationFn = Callable[[np.ndarray, np.random.Generator], np.ndarray]

_BILINEAR = Image.Resampling.BILINEAR
_BICUBIC = Image.Resampling.BICUBIC


@dataclass(frozen=True)
class Variation:
    """A named way of changing a digit image."""

    name: str
    description: str
    apply: VariationFn


def _u8(pixels: np.ndarray) -> np.ndarray:
    return np.clip(np.round(pixels), 0, 255).astype(np.uint8)


def _resize(img: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.asarray(Image.fromarray(img).resize((max(1, width), max(1, height)), _BICUBIC))


def _sign(rng: np.random.Generator) -> float:
    return 1.0 if rng.random() < 0.5 else -1.0


def rotate(degrees: float) -> VariationFn:
    """Rotate by ``degrees`` one way or the other (the sign drawn), growing the canvas."""

    def apply(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        angle = _sign(rng) * degrees
        return np.asarray(Image.fromarray(img).rotate(angle, _BILINEAR, expand=True, fillcolor=0))

    return apply


def scale(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Written smaller or larger: the whole image scaled by 0.5-0.8x or 1.25-2x before cropping."""
    factor = rng.uniform(0.5, 0.8) if rng.random() < 0.5 else rng.uniform(1.25, 2.0)
    side = round(img.shape[0] * factor)
    return _resize(img, side, side)


def shift(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Off centre: the digit placed anywhere on a canvas twice its size."""
    h, w = img.shape
    canvas = np.zeros((2 * h, 2 * w), dtype=np.uint8)
    top, left = int(rng.integers(0, h + 1)), int(rng.integers(0, w + 1))
    canvas[top : top + h, left : left + w] = img
    return canvas


def aspect(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Narrow or wide handwriting: the width scaled by 0.65-0.8 or 1.25-1.5."""
    factor = rng.uniform(0.65, 0.8) if rng.random() < 0.5 else rng.uniform(1.25, 1.5)
    h, w = img.shape
    return _resize(img, round(w * factor), h)


def _stroke(img: np.ndarray, rng: np.random.Generator, grow: bool) -> np.ndarray:
    # A 3x3 filter at 1.5-2.5x size moves each edge by 0.4-0.7 of an MNIST pixel.
    factor = rng.uniform(1.5, 2.5)
    side = round(img.shape[0] * factor)
    big = Image.fromarray(_resize(img, side, side))
    return np.asarray(big.filter(ImageFilter.MaxFilter(3) if grow else ImageFilter.MinFilter(3)))


def thin(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A finer pen: strokes eroded (grey-level 3x3 minimum at 1.5-2.5x size)."""
    return _stroke(img, rng, grow=False)


def thick(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A thicker pen: strokes dilated (grey-level 3x3 maximum at 1.5-2.5x size)."""
    return _stroke(img, rng, grow=True)


def _smooth_field(
    grid: int, sigma: float, shape: tuple[int, int], rng: np.random.Generator
) -> np.ndarray:
    """A smooth random displacement (pixels) over ``shape``: a coarse normal grid, upsampled."""
    coarse = rng.normal(0.0, sigma, (grid, grid)).astype(np.float32)
    # Pillow's bilinear resize of a float image interpolates the control points smoothly.
    return np.asarray(Image.fromarray(coarse, mode="F").resize(shape[::-1], _BILINEAR))


def elastic(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A shakier hand: a smooth random displacement field of 1.5 px (standard deviation)."""
    h, w = img.shape
    dy = _smooth_field(4, 1.5, (h, w), rng)
    dx = _smooth_field(4, 1.5, (h, w), rng)
    rows = np.clip(np.arange(h)[:, None] + dy, 0, h - 1)
    cols = np.clip(np.arange(w)[None, :] + dx, 0, w - 1)
    r0 = np.minimum(rows.astype(np.intp), h - 2)
    c0 = np.minimum(cols.astype(np.intp), w - 2)
    wr, wc = rows - r0, cols - c0
    src = img.astype(np.float32)
    top = src[r0, c0] * (1 - wc) + src[r0, c0 + 1] * wc
    bottom = src[r0 + 1, c0] * (1 - wc) + src[r0 + 1, c0 + 1] * wc
    return _u8(top * (1 - wr) + bottom * wr)


def noise(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sensor noise: Gaussian, standard deviation 40 grey levels."""
    return _u8(img.astype(np.float32) + rng.normal(0.0, 40.0, img.shape))


def blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Out of focus: Gaussian blur of radius 0.8-1.2 px."""
    return np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(rng.uniform(0.8, 1.2))))


def low_contrast(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Faint pencil on grey paper: ink 15-25% of the range above a grey background."""
    background = rng.uniform(60, 160)
    contrast = rng.uniform(0.15, 0.25)
    return _u8(background + img.astype(np.float32) * contrast)


def uneven_light(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A shadow across the page: dark ink on paper lit from 45% to 100% in a random direction."""
    h, w = img.shape
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w]
    ramp = np.cos(angle) * (xx / (w - 1) - 0.5) + np.sin(angle) * (yy / (h - 1) - 0.5)
    ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min())
    light = 0.45 + 0.55 * ramp
    return _u8(light * (255.0 - 0.85 * img.astype(np.float32)))


def jpeg(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A heavily compressed photo: JPEG quality 20, at 1-2x size so blocks fall anywhere."""
    side = round(img.shape[0] * rng.uniform(1.0, 2.0))
    buf = io.BytesIO()
    Image.fromarray(_resize(img, side, side)).save(buf, format="JPEG", quality=20)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("L"))


def inverted(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dark ink on white paper (the ink's darkness 70-100%)."""
    return _u8(255.0 - img.astype(np.float32) * rng.uniform(0.7, 1.0))


def crop_to_ink(img: np.ndarray, factor: float, margin: int = 0) -> np.ndarray:
    """The digit cropped to its ink (every pixel above 0), inverted to dark on white, scaled by
    ``factor`` and framed by ``margin`` white pixels: how users often crop their digits."""
    rows = np.flatnonzero(img.any(axis=1))
    cols = np.flatnonzero(img.any(axis=0))
    crop = 255 - img[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    big = _resize(crop, round(w * factor), round(h * factor))
    if margin <= 0:
        return big
    return np.pad(big, margin, constant_values=255)


def tight_crop(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Cropped to the ink, no margin, dark on white, scaled 3-5x."""
    return crop_to_ink(img, rng.uniform(3.0, 5.0))


VARIATIONS: tuple[Variation, ...] = (
    Variation("rotate-10", "rotated 10° either way", rotate(10.0)),
    Variation("rotate-20", "rotated 20° either way", rotate(20.0)),
    Variation("scale", "scaled x0.5-0.8 or x1.25-2 before cropping", scale),
    Variation("shift", "off centre on a canvas twice the size", shift),
    Variation("aspect", "width x0.65-0.8 or x1.25-1.5", aspect),
    Variation("thin", "thinner strokes (erosion)", thin),
    Variation("thick", "thicker strokes (dilation)", thick),
    Variation("elastic", "elastic distortion, 1.5 px", elastic),
    Variation("noise", "Gaussian noise, sigma 40/255", noise),
    Variation("blur", "Gaussian blur, radius 0.8-1.2 px", blur),
    Variation("low-contrast", "ink 15-25% above a grey background", low_contrast),
    Variation("uneven-light", "dark on white, lit 45-100% across", uneven_light),
    Variation("jpeg-20", "JPEG quality 20", jpeg),
    Variation("inverted", "dark ink on white paper", inverted),
    Variation("tight-crop", "cropped to the ink, dark on white, x3-5", tight_crop),
)
"""Every variation the report runs, in table order."""

NAMES = tuple(v.name for v in VARIATIONS)
