"""Where MNIST lives: the four file names and the folder to look in (option, env, user cache),
and the per-user cache folder itself."""

from __future__ import annotations

import os
from pathlib import Path

from .idx import find_idx

ENV_DATA = "EDGE_MNIST_DATA"
TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
FILE_NAMES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)


def cache_root() -> Path:
    """The per-user cache folder: $XDG_CACHE_HOME/edge-mnist, else ~/.cache/edge-mnist."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "edge-mnist"


def default_cache_dir() -> Path:
    """Where MNIST is downloaded to by default: the cache folder's mnist/."""
    return cache_root() / "mnist"


def resolve_data_dir(data_dir: Path | None = None) -> tuple[Path, str]:
    """Where MNIST lives and why: the option, the environment variable, or the cache."""
    if data_dir is not None:
        return Path(data_dir), "--data-dir"
    env = os.environ.get(ENV_DATA)
    if env:
        return Path(env), f"${ENV_DATA}"
    return default_cache_dir(), "cache"


def find_test_files(folder: Path) -> tuple[Path | None, Path | None]:
    """The test images and labels in ``folder`` (gzip or raw); None for each one missing."""
    return find_idx(folder, TEST_IMAGES), find_idx(folder, TEST_LABELS)
