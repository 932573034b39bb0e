"""artifacts/manifest.json: the model card for every exported file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edge_mnist.errors import UsageError
from edge_mnist.fileio import write_json
from edge_mnist.runtime.describe import MANIFEST_FILE

SCHEMA_VERSION = 1

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


def read_manifest(directory: Path) -> dict[str, Any]:
    """Read a manifest, or an empty one when the folder has none yet."""
    path = directory / MANIFEST_FILE
    if not path.exists():
        return {"schema_version": SCHEMA_VERSION, "artifacts": {}}
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(
            f"{path}: cannot read the manifest ({exc}).",
            "delete it and run 'edge-mnist export' again.",
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("artifacts"), dict):
        raise UsageError(f"{path}: not an edge-mnist manifest (no 'artifacts' table).")
    return manifest


def write_manifest(directory: Path, manifest: dict[str, Any]) -> Path:
    """Write the manifest atomically."""
    path = directory / MANIFEST_FILE
    write_json(path, manifest)
    return path
