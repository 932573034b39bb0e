"""The fast suite: `pytest tests/unit` runs in seconds, without MNIST, TensorFlow or training.

Its tests use the tiny checked-in models and digit images (see tiny_models.py); those marked
``interpreter`` skip where no interpreter package is installed. The full suite is `pytest`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tiny_models import DIGIT_PNGS, TINY_16, TINY_MODELS


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


def _refuse(request: pytest.FixtureRequest) -> None:
    pytest.fail(
        f"the fixture {request.fixturename!r} is not for tests/unit: the fast suite runs "
        "without MNIST and trained models. Use the tiny models (tiny, tiny_any, framed_digits, "
        "digit_pngs), or move the test out of tests/unit."
    )


# The whole suite's fixtures that need real MNIST or training, refused here by name (overriding
# them), so that the fast suite cannot slowly come to need them.
@pytest.fixture(scope="session")
def mnist_dir(request: pytest.FixtureRequest) -> None:
    _refuse(request)


@pytest.fixture(scope="session")
def mnist(request: pytest.FixtureRequest) -> None:
    _refuse(request)


@pytest.fixture(scope="session")
def test_images(request: pytest.FixtureRequest) -> None:
    _refuse(request)


@pytest.fixture(scope="session")
def trained(request: pytest.FixtureRequest) -> None:
    _refuse(request)


@pytest.fixture(scope="session")
def artifacts(request: pytest.FixtureRequest) -> None:
    _refuse(request)
