"""Fixtures of the fast suite: the tiny checked-in models and digit images of tests/fixtures.

Nothing here needs MNIST, TensorFlow or training: tests/fixtures/make_tiny.py made the files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
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


@pytest.fixture(scope="session")
def tiny() -> Path:
    """The folder of the one-hidden-layer tiny model (read-only: copy before changing)."""
    return TINY_16


@pytest.fixture(scope="session", params=TINY_MODELS, ids=lambda p: p.name)
def tiny_any(request: pytest.FixtureRequest) -> Path:
    """Each tiny model's folder in turn."""
    return Path(request.param)


@pytest.fixture(scope="session")
def digit_pngs() -> tuple[Path, ...]:
    """digit-0.png .. digit-9.png: white strokes on black, 28x28; the tiny models read each
    as its own digit."""
    return DIGIT_PNGS


@pytest.fixture(scope="session")
def framed_digits() -> tuple[np.ndarray, np.ndarray]:
    """200 uint8 (784,) images, MNIST-framed patterns shifted by up to 2 px, and their labels
    (as the tiny models were trained on: they classify every one correctly)."""
    from edge_mnist.runtime.preprocess import to_mnist

    framed = [np.round(to_mnist(p) * 255).astype(np.uint8) for p in DIGIT_PNGS]
    rng = np.random.default_rng(20261203)
    labels = rng.integers(0, 10, 200)
    shifts = rng.integers(-2, 3, (200, 2))
    images = np.stack(
        [
            np.roll(framed[d], (int(dy), int(dx)), axis=(0, 1)).reshape(784)
            for d, (dy, dx) in zip(labels, shifts, strict=True)
        ]
    )
    return images, labels.astype(np.int64)


@pytest.fixture(scope="session")
def noise() -> np.ndarray:
    """300 uint8 (784,) images of seeded noise: every pixel value, no digit at all (the engine
    must match the interpreters on inputs far from the training data too)."""
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, (300, 784), dtype=np.uint8)
    images[0], images[1] = 0, 255  # the extremes
    return images


def png_pixels(path: Path) -> np.ndarray:
    """A fixture PNG's raw pixels, uint8 (784,)."""
    with Image.open(path) as im:
        return np.asarray(im.convert("L"), dtype=np.uint8).reshape(784)
