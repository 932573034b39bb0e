"""Output folders and files on the host: create a folder, or check a report path, before the work.

The writing itself is the runtime's: atomic replacement in runtime/atomic.py, JSON in
runtime/jsonfile.py; both raise OutputError, as these checks do for a folder that cannot be
written.
"""

from __future__ import annotations

import os
from pathlib import Path

from edge_mnist.runtime.atomic import NO_SPACE_ERRNOS, atomic_path, output_error
from edge_mnist.runtime.cliopts import check_output_path
from edge_mnist.runtime.errors import OutputError


def ensure_dir(path: Path) -> Path:
    """Create an output folder, or say clearly why it cannot be written."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno in NO_SPACE_ERRNOS:
            raise output_error(path, exc) from None
        raise OutputError(
            f"cannot create the output folder {path}: {exc.strerror}.",
            "choose a writable folder with --out.",
        ) from None
    if not os.access(path, os.W_OK):
        raise OutputError(
            f"the output folder {path} is not writable.", "choose a writable folder with --out."
        )
    return path


def check_output_file(path: Path | None, option: str = "the output") -> None:
    """Fail now, not after minutes of work, when a report cannot be written at ``path``: a
    folder is refused (runtime/cliopts.check_output_path); on the host, unlike a board, the
    file's folder is also created, or refused when it cannot be written."""
    if path is None:
        return
    check_output_path(path, option)
    ensure_dir(path.parent)


def write_bytes(target: Path, data: bytes) -> None:
    """Write bytes atomically into ``target``, creating its folder (OutputError if it cannot)."""
    ensure_dir(target.parent)
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
