"""What a model file is: interpreter details, size, sha256 and its manifest entry if one sits beside it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .classifier import Classifier

# The model card that edge-mnist export writes beside the models.
MANIFEST_FILE = "manifest.json"


def describe(path: str | Path, backend: str | None = None) -> dict[str, Any]:
    """Load the model and report what the runtime and the manifest know about it."""
    return describe_classifier(Classifier.load(path, backend=backend))


def describe_classifier(clf: Classifier) -> dict[str, Any]:
    """Report on a model that is already loaded (its file is read again for size and sha256)."""
    path = Path(clf.info.path)
    out = clf.info.to_dict()
    out["size_bytes"] = path.stat().st_size
    out["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    out["manifest"] = None
    manifest = path.parent / MANIFEST_FILE
    if manifest.is_file():
        try:
            entry = json.loads(manifest.read_text()).get("artifacts", {}).get(path.name)
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            entry = None
        if isinstance(entry, dict):
            out["manifest"] = entry
            out["matches_manifest"] = entry.get("sha256") == out["sha256"]
    return out
