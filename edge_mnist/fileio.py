"""Atomic writes: a temporary file in the target folder, then a rename."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edge_mnist.errors import UsageError
from edge_mnist.runtime.atomic import NO_SPACE_ERRNOS, output_error
from edge_mnist.runtime.atomic import atomic_path as runtime_atomic_path

# Entry points that write into a folder call this first (re-exported for the host side).
from edge_mnist.runtime.atomic import remove_stale_temporaries as remove_stale_temporaries


def ensure_dir(path: Path) -> Path:
    """Create an output folder, or say clearly why it cannot be written."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno in NO_SPACE_ERRNOS:
            raise output_error(path, exc) from None
        raise UsageError(
            f"cannot create the output folder {path}: {exc.strerror}.",
            "choose a writable folder with --out.",
        ) from None
    if not os.access(path, os.W_OK):
        raise UsageError(
            f"the output folder {path} is not writable.", "choose a writable folder with --out."
        )
    return path


def check_output_file(path: Path | None) -> None:
    """Fail now, not after minutes of work, when a report cannot be written at ``path``."""
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give a file name for the report.")
    ensure_dir(path.parent)


@contextlib.contextmanager
def atomic_path(target: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it into place only if the block succeeds."""
    ensure_dir(target.parent)
    with runtime_atomic_path(target, suffix) as tmp:
        yield tmp


def write_bytes(target: Path, data: bytes) -> None:
    """Write bytes atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_json(target: Path, obj: Any) -> None:
    """Write pretty JSON atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def sha256_file(path: Path) -> str:
    """The sha256 hex digest of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
