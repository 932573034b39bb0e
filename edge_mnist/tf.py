"""Import TensorFlow lazily and quietly: only the host functions that need it call this."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator
from typing import Any

from edge_mnist.runtime.errors import BackendUnavailableError

# Routine native log lines: absl's pre-init notice, INFO/WARNING records, converter statistics,
# and the version-skew notice tf.data prints at every fit (harmless, though logged as an error).
_ROUTINE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog|[IW]\d{4} |fully_quantize: |"
    rb"INFO: Created TensorFlow Lite XNNPACK delegate|E\d{4} .*NodeDef mentions attribute)"
)


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Drop routine lines that TensorFlow's C++ code writes straight to file descriptor 2.

    TF_CPP_MIN_LOG_LEVEL does not reach messages logged before absl is initialised, nor the
    converter's own prints. Everything else passes through as it is written, so progress
    printed meanwhile still shows live.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def pump() -> None:
        with os.fdopen(read_end, "rb") as lines:
            for line in lines:
                if not _ROUTINE.match(line):
                    os.write(saved, line)

    thread = threading.Thread(target=pump, name="stderr-filter", daemon=True)
    thread.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end: the pump reads to the end and stops
        thread.join(timeout=5)
        if not thread.is_alive():
            os.close(saved)


def import_tf() -> Any:
    """Return the tensorflow module, with its C++ log chatter turned down."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with quiet_native_stderr():
            import tensorflow as tf
    except ImportError:
        raise BackendUnavailableError(
            "TensorFlow is not installed; training, export and the accuracy gate need it.",
            "pip install 'edge-mnist[train]'",
        ) from None
    tf.get_logger().setLevel("ERROR")
    return tf


def versions() -> dict[str, str]:
    """Versions of the packages that shape a model or an export."""
    import platform

    from edge_mnist.runtime.sysinfo import package_versions

    host = ("edge-mnist", "tensorflow", "tensorflow-cpu", "keras", "tf2onnx", "onnx")
    return {"python": platform.python_version(), **package_versions(host)}
