"""Embed golden vectors (runtime/golden.py) into an exported model file, in place.

A .tflite gets a metadata entry named ``GOLDEN_KEY`` whose buffer holds the blob
(``tflite.with_metadata``); an .onnx gets a ``metadata_props`` entry appended to the serialized
ModelProto (``golden.onnx_entry``; protobuf merges repeated fields wherever they appear, so the
model's other bytes stay as the converter wrote them). Interpreters ignore both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edge_mnist.runtime.backends import ONNX, detect_format
from edge_mnist.runtime.golden import (
    DEFAULT_COUNT,
    GOLDEN_KEY,
    make_golden,
    onnx_entry,
    read_golden,
)


def embed_golden(path: Path, images: np.ndarray, count: int = DEFAULT_COUNT) -> dict[str, Any]:
    """Compute golden vectors for the model at ``path`` from ``images``, write them into the
    file (rewriting it in place: call it on a temporary file) and return the manifest's
    summary of them (with ``bytes``: how much the file grew)."""
    golden = make_golden(path, images, count)
    blob = golden.to_bytes()
    model = path.read_bytes()
    if detect_format(path) == ONNX:
        if read_golden(path) is not None:
            raise ValueError(f"{path} already carries golden vectors")
        updated = model + onnx_entry(blob)
    else:
        from .tflite import with_metadata

        updated = with_metadata(model, GOLDEN_KEY, blob)
    path.write_bytes(updated)
    return golden.summary(len(updated) - len(model))
