"""Writing artifacts/manifest.json, the model card for every exported file, under its lock.

The file name, schema version and reader are the runtime's (runtime/artifacts.py).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edge_mnist.errors import UsageError
from edge_mnist.fileio import ensure_dir
from edge_mnist.runtime.artifacts import MANIFEST_FILE, read_manifest
from edge_mnist.runtime.jsonfile import write_json

# Held while a process reads, changes and rewrites the manifest (see manifest_lock).
LOCK_FILE = ".manifest.lock"

PREPROCESSING = {
    "input_shape": [784],
    "image_size": [28, 28],
    "layout": "row-major 28x28 flattened to 784",
    "pixel_range": [0.0, 1.0],
    "scaling": "uint8 pixel / 255",
    "polarity": "white (high) digit on black (0) background",
    "framing": "digit's longer side scaled to 20 px, centre of mass at the centre of 28x28",
}
LABELS = [str(d) for d in range(10)]


def write_manifest(directory: Path, manifest: dict[str, Any]) -> Path:
    """Write the manifest atomically."""
    path = directory / MANIFEST_FILE
    write_json(path, manifest)
    return path


def _lock(fd: int) -> None:
    """Block until this process holds an exclusive lock on the open file ``fd``."""
    if sys.platform == "win32":
        import msvcrt

        while True:  # LK_LOCK gives up after about 10 s; keep waiting like flock does
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError:
                time.sleep(0.1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)


@contextlib.contextmanager
def manifest_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory``'s manifest across a read-modify-write.

    Concurrent exports into one folder would otherwise each rewrite the manifest from what
    they read before the other wrote, and one of them would lose its entries. The lock file is
    removed on release; a waiter that then holds a lock on the removed file tries again, so two
    processes never both believe they hold it.
    """
    ensure_dir(directory)
    path = directory / LOCK_FILE
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UsageError(
                f"cannot create the lock file {path}: {exc.strerror or exc}.",
                "choose a writable folder with --out.",
            ) from None
        try:
            _lock(fd)
            current = os.fstat(fd)
            try:
                on_disk = os.stat(path)
            except FileNotFoundError:
                on_disk = None
            if on_disk is not None and (on_disk.st_ino, on_disk.st_dev) == (
                current.st_ino,
                current.st_dev,
            ):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the holder before us removed the file we locked: lock the new one
    try:
        yield
    finally:
        if sys.platform != "win32":  # Windows cannot remove an open file; there it stays
            with contextlib.suppress(OSError):
                os.unlink(path)
        os.close(fd)


@contextlib.contextmanager
def updating_manifest(directory: Path) -> Iterator[dict[str, Any]]:
    """Lock the manifest, yield its current content to change, and write it back on success."""
    with manifest_lock(directory):
        manifest = read_manifest(directory)
        yield manifest
        write_manifest(directory, manifest)
