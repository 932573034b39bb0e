"""Open and decode an image file or an upload, refusing oversized or tiny images before decoding.

``serve`` decodes uploads with ``decode_image``; ``to_mnist`` opens paths with ``load_image`` and
runs ``check_size`` and ``decode`` on the PIL images it is handed.
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import ImageError

__all__ = [
    "FIX_FILE",
    "MAX_PIXELS",
    "MIN_SIDE",
    "check_size",
    "decode",
    "decode_image",
    "load_image",
]

MAX_PIXELS = 40_000_000
"""Images with more pixels are refused before decoding (decompression-bomb guard)."""
MIN_SIDE = 8
"""Images narrower or shorter than this many pixels are refused."""

FIX_FILE = "pass a PNG, JPEG or BMP file showing one digit."
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
        raise ImageError(f"{name}: is a directory, not an image file.", FIX_FILE)
    try:
        return _open(path, name)
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file.", "check the path.") from None


def decode_image(data: bytes, name: str = "the image") -> Image.Image:
    """Decode an image held in memory (an upload), with the same checks as ``load_image``."""
    if not data:
        raise ImageError(f"{name}: is empty (0 bytes).", FIX_FILE)
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
            f"{name}: not an image file Pillow can read (unknown or damaged format).", FIX_FILE
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large(name, str(exc).rstrip(".")) from None
    except OSError as exc:
        raise ImageError(f"{name}: cannot read it ({exc.strerror or exc}).") from None
    except _DECODE_ERRORS as exc:
        raise ImageError(f"{name}: the image header is corrupt ({exc}).", FIX_FILE) from None
    # Leaving the block closes the file; the decoded pixels stay usable.
    with im:
        check_size(im.size, name)
        decode(im, name)
    return _upright(im)


def _too_large(name: str, detail: str) -> ImageError:
    return ImageError(
        f"{name}: the image is too large to decode safely ({detail}); "
        f"the limit is {MAX_PIXELS // 1_000_000} megapixels.",
        "scale the image down or crop it to the digit first.",
    )


def check_size(size: tuple[int, int], name: str) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise _too_large(name, f"{width}x{height} pixels")
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageError(
            f"{name}: the image is too small ({width}x{height} pixels); "
            f"a digit needs at least {MIN_SIDE}x{MIN_SIDE}.",
            FIX_FILE,
        )


def decode(im: Image.Image, name: str) -> None:
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
            f"{name}: the image data is truncated or corrupt ({exc}).", FIX_FILE
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
