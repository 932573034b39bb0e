"""The images the benchmark times and scores: MNIST's test set, or random pixels without one."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..backends.base import PIXELS
from ..datadir import ENV_DATA, TEST_IMAGES, TEST_LABELS, find_test_files, resolve_data_dir
from ..errors import DataFileError
from ..idx import read_idx

RANDOM_IMAGES = 1_000


@dataclass(frozen=True)
class TestImages:
    """uint8 (N, 784) images to time and test with, their labels (or None) and their origin."""

    images: np.ndarray
    labels: np.ndarray | None
    source: str

    def batch(self, size: int) -> np.ndarray:
        """The first ``size`` images, repeated when there are fewer, as a contiguous array."""
        n = len(self.images)
        if size <= n:
            return np.ascontiguousarray(self.images[:size])
        return np.ascontiguousarray(np.resize(self.images, (size, PIXELS)))


def _random() -> TestImages:
    rng = np.random.default_rng(0)
    return TestImages(rng.integers(0, 256, (RANDOM_IMAGES, PIXELS), dtype=np.uint8), None, "random")


def load_test_images(
    images: Path | None = None,
    labels: Path | None = None,
    data_dir: Path | None = None,
    need_labels: bool = False,
) -> TestImages:
    """MNIST test images from explicit IDX files, else from the data folder that the host tools
    use (--data-dir, then $EDGE_MNIST_DATA, then the user cache). A folder named by the option
    or the variable must hold them; without either, an empty cache means random uint8 images
    (when no labels are needed)."""
    if images is None:
        folder, how = resolve_data_dir(data_dir)
        named = data_dir is not None or bool(os.environ.get(ENV_DATA))
        if named and not folder.is_dir():
            raise DataFileError(
                f"{folder} ({how}): no such data folder.",
                "pass the folder holding the MNIST IDX files.",
            )
        found_images, found_labels = find_test_files(folder) if folder.is_dir() else (None, None)
        if found_images is None:
            if named or need_labels:
                problem = (
                    f"no MNIST test images ({TEST_IMAGES}[.gz]) in {folder} ({how})."
                    if named
                    else f"--accuracy needs the MNIST test images and labels, and {folder} "
                    f"({how}) has none."
                )
                raise DataFileError(
                    problem,
                    f"put {TEST_IMAGES}.gz and {TEST_LABELS}.gz there (edge-mnist data "
                    "downloads them), or pass --images and --labels.",
                )
            return _random()
        images = found_images
        labels = labels if labels is not None else found_labels
    x = read_idx(images)
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
        raise DataFileError(f"{images}: expected uint8 images of 28x28, got {x.dtype} {x.shape}.")
    y: np.ndarray | None = None
    if labels is not None:
        y = read_idx(labels)
        if y.ndim != 1 or len(y) != len(x):
            raise DataFileError(
                f"{labels}: expected {len(x)} labels, got an array of shape {y.shape}."
            )
    elif need_labels:
        raise DataFileError(
            f"--accuracy needs labels for {images}.", f"pass --labels {TEST_LABELS}.gz."
        )
    return TestImages(x.reshape(len(x), PIXELS), y, str(images))
