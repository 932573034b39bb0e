"""Turn a photo, scan or drawing of one digit into a 28x28 MNIST-style float array.

One module per stage, in the order ``to_mnist`` runs them: ``decode`` (open and decode, with the
size guards ``serve`` also uses), ``gray`` (grey levels, and the ink against the page that
``background`` estimates), ``rulings`` (lines of ruled or grid paper taken off), ``frame.bounding_box``,
``evidence`` (ink that is not one digit is refused or doubted), ``stroke`` (thinning a broad pen),
``frame.scale_into_box``, ``sharpen`` (an unsharp mask for blurred digits) and
``frame.centre_on_canvas``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import ImageError
from . import evidence, sharpen, stroke
from .decode import MAX_PIXELS, MIN_SIDE, check_size, decode, decode_image, load_image
from .frame import bounding_box, centre_on_canvas, scale_into_box
from .gray import gray_from_array, gray_from_pil, ink_strength
from .rulings import remove_rulings

__all__ = [
    "MAX_PIXELS",
    "MIN_SIDE",
    "ImageInput",
    "decode_image",
    "load_image",
    "prepare",
    "to_mnist",
]

ImageInput = str | Path | Image.Image | np.ndarray


def to_mnist(image: ImageInput, name: str | None = None) -> np.ndarray:
    """Preprocess one digit image the way MNIST was made: a float32 (28, 28) array in [0, 1].

    ``image`` is a file path, a PIL image, or a numpy array: 2-D grayscale (uint8 0-255, uint16
    0-65535 or float 0-1) or H x W x 3 / H x W x 4 colour. A dark digit on a light background is
    inverted; strokes far broader than MNIST's are thinned; the digit is cropped to its bounding
    box, scaled (keeping its aspect ratio) so that its longer side is 20 px, sharpened if it is
    blurred, and placed on a black 28x28 canvas with its centre of mass at the centre. Raises
    ``ImageError`` for unreadable, tiny, oversized or blank images, and for images that are not
    one digit (a dot, a word, several digits, scattered specks, an empty ruled page); its
    message starts with ``name`` (default: the path, the PIL image's file name, or "the array").
    """
    return prepare(image, name)[0]


def prepare(image: ImageInput, name: str | None = None) -> tuple[np.ndarray, str | None]:
    """``to_mnist``'s 28x28 digit and a reason to doubt that the image is one digit (or None):
    ink that is weak evidence of one digit (see evidence.py)."""
    if isinstance(image, np.ndarray):
        name = name or "the array"
        gray = gray_from_array(image, name)
    elif isinstance(image, Image.Image):
        name = name or getattr(image, "filename", "") or "the image"
        check_size(image.size, name)
        decode(image, name)
        gray = gray_from_pil(image, name)
    elif isinstance(image, str | Path):
        name = name or str(image)
        gray = gray_from_pil(load_image(image), name)
    else:
        raise ImageError(
            f"cannot read an image from a {type(image).__name__}.",
            "pass a file path, a PIL image or a numpy array.",
        )
    ink = remove_rulings(ink_strength(gray, name), name)
    box = bounding_box(ink, name)
    doubt = evidence.judge(ink, box, name)
    # Strokes far broader than MNIST's pen are eroded towards it (see stroke.py); the thinned
    # digit, drawn at a finer scale, goes through the rest of the pipeline in place of the ink.
    thinned = stroke.thin_strokes(ink, box)
    if thinned is not None:
        ink = thinned
        box = bounding_box(ink, name)
    digit = scale_into_box(ink, box)
    # A blurred digit (no saturated stroke core, unlike every MNIST digit) is sharpened.
    sharpened = sharpen.sharpen(digit)
    if sharpened is not None:
        digit = sharpened
    return centre_on_canvas(digit, name), doubt
