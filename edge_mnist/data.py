"""MNIST: find, download, verify and split the four IDX files (55k train / 5k validation / 10k test)."""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge_mnist.errors import DataError
from edge_mnist.runtime.atomic import NO_SPACE_ERRNOS, output_error
from edge_mnist.runtime.datadir import (
    ENV_DATA,
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    default_cache_dir,
    resolve_data_dir,
)
from edge_mnist.runtime.errors import DataFileError
from edge_mnist.runtime.idx import find_idx, parse_idx, read_idx_bytes

ENV_MIRRORS = "EDGE_MNIST_MIRRORS"
VALIDATION_SIZE = 5_000

# Decompressed content: name -> (MD5, bytes, shape).
FILES: dict[str, tuple[str, int, tuple[int, ...]]] = {
    TRAIN_IMAGES: ("6bbc9ace898e44ae57da46a324031adb", 47_040_016, (60_000, 28, 28)),
    TRAIN_LABELS: ("a25bea736e30d166cdddb491f175f624", 60_008, (60_000,)),
    TEST_IMAGES: ("2646ac647ad5339dbf082846283269ea", 7_840_016, (10_000, 28, 28)),
    TEST_LABELS: ("27ae3e4e09519cfbb04c329615203637", 10_008, (10_000,)),
}

# Public mirrors of the original gzip files, tried in turn.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
DOWNLOAD_TIMEOUT = 30.0

# Called with (file name, bytes so far, total bytes or None) while downloading.
ProgressFn = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class Mnist:
    """The classic split, float32 pixels in [0, 1] flattened to 784, integer labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    checksums: dict[str, str] = field(default_factory=dict)

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """The six arrays' shapes, named as in the reference notebook."""
        return {
            "X_train": self.x_train.shape,
            "y_train": self.y_train.shape,
            "X_valid": self.x_val.shape,
            "y_valid": self.y_val.shape,
            "X_test": self.x_test.shape,
            "y_test": self.y_test.shape,
        }


def mirrors() -> tuple[str, ...]:
    """The download mirrors: $EDGE_MNIST_MIRRORS (comma-separated base URLs) or the defaults."""
    env = os.environ.get(ENV_MIRRORS)
    if env:
        return tuple(m.strip().rstrip("/") + "/" for m in env.split(",") if m.strip())
    return MIRRORS


def _verified(path: Path, name: str) -> tuple[bytes, str]:
    """Decompressed bytes of one file, checked against the canonical size and MD5."""
    data = read_idx_bytes(path)
    md5, size, _shape = FILES[name]
    digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if len(data) != size or digest != md5:
        raise DataError(
            f"{path}: wrong content: {len(data)} bytes with MD5 {digest}, "
            f"expected {size} bytes with MD5 {md5}.",
            "delete the file and run 'edge-mnist data' to download it again.",
        )
    return data, digest


def _download_one(name: str, directory: Path, progress: ProgressFn | None) -> Path:
    target = directory / f"{name}.gz"
    failures = []
    for base in mirrors():
        url = f"{base}{name}.gz"
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
        except OSError as exc:
            raise DataError(
                f"cannot write into the data folder {directory}: {exc.strerror}.",
                f"choose a writable folder with --data-dir or ${ENV_DATA}.",
            ) from None
        tmp_path = Path(tmp)
        try:
            with (
                os.fdopen(fd, "wb") as out,
                urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as resp,
            ):
                total = int(resp.headers.get("Content-Length") or 0) or None
                done = 0
                while chunk := resp.read(1 << 16):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(name, done, total)
            _verified(tmp_path, name)
            os.replace(tmp_path, target)
            return target
        except (
            TimeoutError,
            urllib.error.URLError,
            OSError,
            ValueError,
            http.client.HTTPException,
        ) as exc:
            if isinstance(exc, OSError) and exc.errno in NO_SPACE_ERRNOS:
                # Another mirror would fill the disk just the same.
                raise output_error(target, exc) from None
            failures.append(f"{url}: {getattr(exc, 'reason', exc)}")
        except (DataError, DataFileError) as exc:
            # The problem names the temporary file; name the URL instead.
            failures.append(f"{url}: {exc.problem.replace(str(tmp_path) + ': ', '')}")
        finally:
            tmp_path.unlink(missing_ok=True)
    raise DataError(
        f"could not download {name}.gz from any mirror:\n  " + "\n  ".join(failures),
        f"put the four MNIST files (.gz or raw) in {directory}, or point --data-dir or "
        f"${ENV_DATA} at a folder that has them.",
    )


def ensure_files(
    data_dir: Path | None = None, *, download: bool = True, progress: ProgressFn | None = None
) -> tuple[dict[str, Path], str]:
    """Locate the four files, downloading the missing ones; return their paths and the source."""
    directory, how = resolve_data_dir(data_dir)
    paths: dict[str, Path] = {}
    missing = []
    for name in FILES:
        found = find_idx(directory, name)
        if found is None:
            missing.append(name)
        else:
            paths[name] = found
    if missing and not download:
        raise DataError(
            f"MNIST is not in {directory} (from {how}): missing {', '.join(missing)}.",
            f"put the four files there, set ${ENV_DATA}, or allow the download.",
        )
    if missing:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(
                f"cannot create the data folder {directory}: {exc.strerror}.",
                f"choose a writable folder with --data-dir or ${ENV_DATA}.",
            ) from None
        for name in missing:
            paths[name] = _download_one(name, directory, progress)
    return paths, f"{directory} ({how})"


def _scaled(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)


def load_mnist(
    data_dir: Path | None = None, *, download: bool = True, progress: ProgressFn | None = None
) -> Mnist:
    """Load, verify and split MNIST: validation is the first 5,000 images of the train file."""
    paths, source = ensure_files(data_dir, download=download, progress=progress)
    arrays: dict[str, np.ndarray] = {}
    checksums: dict[str, str] = {}
    for name, path in paths.items():
        data, checksums[name] = _verified(path, name)
        arrays[name] = parse_idx(data, str(path))
    for images, labels in ((TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS)):
        if len(arrays[images]) != len(arrays[labels]):
            raise DataError(f"{paths[images]} and {paths[labels]} hold different numbers of items.")
    x_all, y_all = _scaled(arrays[TRAIN_IMAGES]), arrays[TRAIN_LABELS].astype(np.int64)
    return Mnist(
        x_train=x_all[VALIDATION_SIZE:],
        y_train=y_all[VALIDATION_SIZE:],
        x_val=x_all[:VALIDATION_SIZE],
        y_val=y_all[:VALIDATION_SIZE],
        x_test=_scaled(arrays[TEST_IMAGES]),
        y_test=arrays[TEST_LABELS].astype(np.int64),
        source=source,
        checksums=checksums,
    )


def load_test_split(data_dir: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Only the 10,000 test images (uint8, (N, 784)) and labels, without loading the train file."""
    paths, _ = ensure_files(data_dir, download=False)
    images = parse_idx(_verified(paths[TEST_IMAGES], TEST_IMAGES)[0], str(paths[TEST_IMAGES]))
    labels = parse_idx(_verified(paths[TEST_LABELS], TEST_LABELS)[0], str(paths[TEST_LABELS]))
    return images.reshape(len(images), -1), labels.astype(np.int64)


__all__ = [
    "ENV_DATA",
    "ENV_MIRRORS",
    "FILES",
    "MIRRORS",
    "Mnist",
    "default_cache_dir",
    "ensure_files",
    "load_mnist",
    "load_test_split",
    "mirrors",
    "resolve_data_dir",
]
