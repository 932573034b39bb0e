"""What a model file is: interpreter details, size, sha256 and its manifest entry if one sits beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .artifacts import file_sha256, manifest_entry
from .classifier import Classifier


def describe(
    path: str | Path, backend: str | None = None, rounding: str | None = None
) -> dict[str, Any]:
    """Load the model and report what the runtime and the manifest know about it."""
    return describe_classifier(Classifier.load(path, backend=backend, rounding=rounding))


def describe_classifier(clf: Classifier) -> dict[str, Any]:
    """Report on a model that is already loaded (its file is read again for size and sha256).

    ``manifest`` is the model's manifest entry or None; ``manifest_problem`` says why it is
    None although a manifest.json sits beside the model (unreadable, or the model not listed).
    """
    path = Path(clf.info.path)
    out = clf.info.to_dict()
    # The NumPy engine's rounding variant (None for the interpreters: theirs is their own).
    out["rounding"] = getattr(clf.backend, "rounding", None)
    out["size_bytes"] = path.stat().st_size
    out["sha256"] = file_sha256(path)
    lookup = manifest_entry(path)
    out["manifest"] = lookup.entry
    out["manifest_problem"] = lookup.problem
    if lookup.entry is not None:
        out["matches_manifest"] = lookup.entry.get("sha256") == out["sha256"]
    return out
