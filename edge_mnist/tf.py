"""Import TensorFlow lazily and quietly: only the host functions that need it call this."""

from __future__ import annotations

import os
from typing import Any

from edge_mnist.errors import BackendUnavailableError


def import_tf() -> Any:
    """Return the tensorflow module, with its C++ log chatter turned down."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
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
    import importlib.metadata
    import platform

    import numpy as np

    out = {"python": platform.python_version(), "numpy": np.__version__}
    for dist in (
        "edge-mnist",
        "tensorflow",
        "tensorflow-cpu",
        "keras",
        "tf2onnx",
        "onnx",
        "onnxruntime",
        "ai-edge-litert",
    ):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out
