"""Load a TFLite file in a child process first, for interpreters that crash on damaged files.

tflite-runtime (and tf.lite) can take the whole process down on a truncated or corrupt model. A
child that loads and runs it once turns such a crash into a clear error. The child costs a
fresh Python with numpy and the interpreter: some 0.2 s here, about a second on a Pi 4, at every
start. So a file that passed is remembered by its content (sha256) and the interpreter's
version, in the per-user cache, and is not probed again until either changes.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..artifacts import file_sha256
from ..datadir import cache_root
from ..errors import ModelLoadError
from .base import bad_tensor_names

if TYPE_CHECKING:
    from . import BackendSpec

# Loads the model in a child process: a crash there is a damaged file, not a dead process.
_PROBE = """
import sys, numpy as np
mod = __import__(sys.argv[1], fromlist=["_"])
cls = getattr(mod, "Interpreter", None) or mod.lite.Interpreter
it = cls(model_path=sys.argv[2])
it.allocate_tensors()
d = it.get_input_details()[0]
it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
it.invoke()
"""


def passed_marker(spec: BackendSpec, path: Path, version: str) -> Path | None:
    """The cache file that records ``path``'s content as loaded by this interpreter version
    (None when the file cannot be read: the load itself then says why)."""
    try:
        digest = file_sha256(path)
    except OSError:
        return None
    name = f"{spec.name}-{version}-{digest}"
    return cache_root() / "probed" / "".join(c if c.isalnum() or c in "-._" else "_" for c in name)


def probe_in_child(spec: BackendSpec, path: Path, version: str) -> None:
    """Raise ModelLoadError if the interpreter fails or crashes loading ``path`` in a child;
    skip the child for content that has passed before."""
    marker = passed_marker(spec, path, version)
    if marker is not None and marker.is_file():
        return
    _run_child(spec, path)
    if marker is not None:
        # Best effort: a read-only home only means probing again next time.
        with contextlib.suppress(OSError):
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()


def _run_child(spec: BackendSpec, path: Path) -> None:
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _PROBE, str(spec.module), str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        raise ModelLoadError(
            f"{path}: the {spec.name} interpreter hung loading this model."
        ) from None
    if proc.returncode != 0:
        how = "crashed" if proc.returncode < 0 else "failed"
        last = (proc.stderr.strip().splitlines() or [""])[-1]
        if last.startswith("UnicodeDecodeError"):
            # The same words as when the interpreter runs in this process.
            raise bad_tensor_names(path, last)
        raise ModelLoadError(
            f"{path}: the {spec.name} interpreter {how} loading this file, so it is truncated or "
            f"corrupt. {last}".strip(),
            "export the model again, or copy it to the device again.",
        )
