"""Turn a photo, scan or drawing of one digit into a 28x28 MNIST-style float array."""

from __future__ import annotations

import io
import math
import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .background import MIN_CONTRAST, estimate_background, median
from .errors import ImageError
from .sharpen import sharpen
from .stroke import thin_strokes

__all__ = ["MAX_PIXELS", "MIN_SIDE", "ImageInput", "decode_image", "load_image", "to_mnist"]

ImageInput = str | Path | Image.Image | np.ndarray

MAX_PIXELS = 40_000_000
"""Images with more pixels are refused before decoding (decompression-bomb guard)."""
MIN_SIDE = 8
"""Images narrower or shorter than this many pixels are refused."""
WORK_SIDE = 2048
"""Larger images are box-averaged to about this many pixels on the longer side first."""

SIZE = 28
BOX = 20
# In pixel-index coordinates (pixel i spans i-0.5..i+0.5) the MNIST test images have their
# centre of mass at (13.99, 14.01) on average, each within 0.5 px of (14, 14).
CENTRE = 14.0
# Output pixels kept around the 20 px box so that antialiased edges are not cut off.
HALO = 2
# Fraction of the peak ink a pixel needs to count towards the bounding box; fainter pixels
# are kept (inside the halo) but do not stretch the box. MNIST digits measure 20 px even at 0.5.
INK_LEVEL = 0.25
# An outer band of ink, separated from the rest by empty rows or columns and holding less
# than this share of the ink, is dust or noise and does not count towards the bounding box.
SPECK_SHARE = 0.02
# A digit's strokes span at least this many pixels; anything smaller is a speck.
MIN_DIGIT = 4
# The darkest and lightest few pixels are ignored when deciding which way round the ink is.
OUTLIERS = 4
# Lanczos-3 samples up to 3 source pixels (scaled by the reduction factor) from the centre.
LANCZOS_SUPPORT = 3.0

_FIX_FILE = "pass a PNG, JPEG or BMP file showing one digit."
_FIX_DIGIT = "pass an image of one dark digit on a light background, or a light digit on dark."
# What Pillow raises for damaged files besides OSError, depending on the format plugin.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error)


def load_image(path: str | Path) -> Image.Image:
    """Open and decode an image file, upright per its EXIF orientation.

    Missing, unreadable, non-image, corrupt, tiny (under ``MIN_SIDE`` px a side) and oversized
    (over ``MAX_PIXELS``) files raise ``ImageError``; the size is checked before decoding.
    """
    path = Path(path)
    name = str(path)
    if path.is_dir():
        raise ImageError(f"{name}: is a directory, not an image file.", _FIX_FILE)
    try:
        return _open(path, name)
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file.", "check the path.") from None


def decode_image(data: bytes, name: str = "the image") -> Image.Image:
    """Decode an image held in memory (an upload), with the same checks as ``load_image``."""
    if not data:
        raise ImageError(f"{name}: is empty (0 bytes).", _FIX_FILE)
    return _open(io.BytesIO(data), name)


def _open(source: Path | io.BytesIO, name: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(source)
    except FileNotFoundError:
        raise
    except UnidentifiedImageError:
        raise ImageError(
            f"{name}: not an image file Pillow can read (unknown or damaged format).", _FIX_FILE
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large(name, str(exc).rstrip(".")) from None
    except OSError as exc:
        raise ImageError(f"{name}: cannot read it ({exc.strerror or exc}).") from None
    except _DECODE_ERRORS as exc:
        raise ImageError(f"{name}: the image header is corrupt ({exc}).", _FIX_FILE) from None
    # Leaving the block closes the file; the decoded pixels stay usable.
    with im:
        _check_size(im.size, name)
        _decode(im, name)
    return _upright(im)


def to_mnist(image: ImageInput, name: str | None = None) -> np.ndarray:
    """Preprocess one digit image the way MNIST was made: a float32 (28, 28) array in [0, 1].

    ``image`` is a file path, a PIL image, or a numpy array: 2-D grayscale (uint8 0-255, uint16
    0-65535 or float 0-1) or H x W x 3 / H x W x 4 colour. A dark digit on a light background is
    inverted; strokes far broader than MNIST's are thinned; the digit is cropped to its bounding
    box, scaled (keeping its aspect ratio) so that its longer side is 20 px, sharpened if it is
    blurred, and placed on a black 28x28 canvas with its centre of mass at the centre. Raises
    ``ImageError`` for unreadable, tiny, oversized or blank images; its message starts with
    ``name`` (default: the path, the PIL image's file name, or "the array").
    """
    if isinstance(image, np.ndarray):
        name = name or "the array"
        gray = _gray_from_array(image, name)
    elif isinstance(image, Image.Image):
        name = name or getattr(image, "filename", "") or "the image"
        _check_size(image.size, name)
        _decode(image, name)
        gray = _gray_from_pil(image, name)
    elif isinstance(image, str | Path):
        name = name or str(image)
        gray = _gray_from_pil(load_image(image), name)
    else:
        raise ImageError(
            f"cannot read an image from a {type(image).__name__}.",
            "pass a file path, a PIL image or a numpy array.",
        )
    return _to_canvas(gray, name)


def _too_large(name: str, detail: str) -> ImageError:
    return ImageError(
        f"{name}: the image is too large to decode safely ({detail}); "
        f"the limit is {MAX_PIXELS // 1_000_000} megapixels.",
        "scale the image down or crop it to the digit first.",
    )


def _check_size(size: tuple[int, int], name: str) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise _too_large(name, f"{width}x{height} pixels")
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageError(
            f"{name}: the image is too small ({width}x{height} pixels); "
            f"a digit needs at least {MIN_SIDE}x{MIN_SIDE}.",
            _FIX_FILE,
        )


def _decode(im: Image.Image, name: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large(name, str(exc).rstrip(".")) from None
    except MemoryError:
        raise _too_large(name, "out of memory while decoding") from None
    except _DECODE_ERRORS as exc:
        raise ImageError(
            f"{name}: the image data is truncated or corrupt ({exc}).", _FIX_FILE
        ) from None


def _upright(im: Image.Image) -> Image.Image:
    try:
        orientation = im.getexif().get(0x0112, 1)
    except _DECODE_ERRORS:
        # A damaged EXIF block costs only the orientation hint; the pixels are fine.
        orientation = 1
    if orientation in (1, None):
        return im
    turned = ImageOps.exif_transpose(im)
    return im if turned is None else turned


def _gray_from_pil(im: Image.Image, name: str) -> np.ndarray:
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
        raise ImageError(f"{name}: the image has NaN or infinite pixels.", _FIX_FILE)
    lo, hi = float(arr.min()), float(arr.max())
    if lo >= 0.0 and hi <= 1.0:
        return arr
    if lo >= 0.0 and hi <= 255.0:
        return arr / np.float32(255)
    if lo >= 0.0 and hi <= 65535.0:
        return arr / np.float32(65535)
    return (arr - lo) / np.float32(hi - lo)


def _gray_from_array(image: np.ndarray, name: str) -> np.ndarray:
    arr = image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))):
        raise ImageError(
            f"{name} has shape {image.shape}; expected a 2-D grayscale image (H, W) "
            "or a colour image (H, W, 3) or (H, W, 4).",
            "pass one image, not a batch; drop extra axes with numpy.squeeze.",
        )
    _check_size((arr.shape[1], arr.shape[0]), name)
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


def _ink(gray: np.ndarray, name: str) -> np.ndarray:
    """Ink strength in [0, 1] per pixel: 0 on the background, 1 at the strongest strokes."""
    lo, hi = _kth_extremes(gray, OUTLIERS)
    if hi - lo < 1e-6:
        raise ImageError(f"{name}: no digit found: the image is blank (one colour).", _FIX_DIGIT)
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
            _FIX_DIGIT,
        )
    # The brightest pixel sets full scale unless it is a stray one far above the next few.
    peak = float(strong.max())
    runner_up = _kth_extremes(strong, OUTLIERS)[1]
    if runner_up < 0.9 * peak:
        peak = runner_up
    scaled = (ink - floor) / np.float32(peak - floor)
    return np.clip(scaled, 0.0, 1.0).astype(np.float32, copy=False)


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


def _bounding_box(ink: np.ndarray, name: str) -> tuple[int, int, int, int]:
    """Rows r0:r1 and columns c0:c1 of the digit's strokes."""
    strokes = np.where(ink >= INK_LEVEL, ink, np.float32(0))
    r0, r1, c0, c1 = 0, ink.shape[0], 0, ink.shape[1]
    if not strokes.any():
        raise ImageError(f"{name}: no digit found: no ink after thresholding.", _FIX_DIGIT)
    # Columns then rows, twice: dropping a speck on one axis can expose one on the other.
    for _ in range(2):
        a, b = _main_span(strokes[r0:r1, c0:c1].sum(axis=0))
        c0, c1 = c0 + a, c0 + b
        a, b = _main_span(strokes[r0:r1, c0:c1].sum(axis=1))
        r0, r1 = r0 + a, r0 + b
    if max(r1 - r0, c1 - c0) < MIN_DIGIT:
        raise ImageError(
            f"{name}: no digit found: the only ink is a speck of {c1 - c0}x{r1 - r0} pixels.",
            _FIX_DIGIT,
        )
    return r0, r1, c0, c1


def _to_canvas(gray: np.ndarray, name: str) -> np.ndarray:
    ink = _ink(gray, name)
    box = _bounding_box(ink, name)
    # Strokes far broader than MNIST's pen are eroded towards it (see stroke.py); the thinned
    # digit, drawn at a finer scale, goes through the rest of the pipeline in place of the ink.
    thinned = thin_strokes(ink, box)
    if thinned is not None:
        ink = thinned
        box = _bounding_box(ink, name)
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
    digit = np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)
    # A blurred digit (no saturated stroke core, unlike every MNIST digit) is sharpened.
    sharpened = sharpen(digit)
    if sharpened is not None:
        digit = sharpened
    # Lanczos ringing leaves traces far below one grey level; MNIST's background is exactly 0.
    digit[digit < 0.5 / 255] = 0.0
    mass = float(digit.sum())
    if mass <= 0.0:
        raise ImageError(f"{name}: no digit found: the strokes vanish when scaled.", _FIX_DIGIT)
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
