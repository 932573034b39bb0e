"""The tiny checked-in models and digit images of tests/fixtures, and helpers for them.

tests/fixtures/make_tiny.py made the files; reading them needs no MNIST, TensorFlow or training.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# 784 -> 16 -> 10 and 784 -> 8 -> 8 -> 10, each as int8/float32 TFLite and ONNX with manifest.json.
TINY_16 = FIXTURES / "tiny-16"
TINY_8X8 = FIXTURES / "tiny-8x8"
TINY_MODELS = (TINY_16, TINY_8X8)
DIGIT_PNGS = tuple(FIXTURES / "digits" / f"digit-{d}.png" for d in range(10))


def int8_input(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels as the exported int8 input (scale 1/255, zero point -128)."""
    return (pixels.astype(np.int16) - 128).astype(np.int8)


def png_pixels(path: Path) -> np.ndarray:
    """A fixture PNG's raw pixels, uint8 (784,)."""
    with Image.open(path) as im:
        return np.asarray(im.convert("L"), dtype=np.uint8).reshape(784)
