"""The files an export writes and how to recognise them: a file's sha256 and the manifest beside it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import EdgeMnistError
from .jsonfile import read_json


def file_sha256(path: str | Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# The model card that edge-mnist export writes beside the models.
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class ManifestLookup:
    """What the manifest beside a model says about it.

    ``entry`` is the model's entry when the manifest lists it; ``problem`` says why there is
    none although a manifest exists (unreadable, not a manifest, does not list the model).
    Both are None when no manifest sits beside the model.
    """

    entry: dict[str, Any] | None
    problem: str | None = None


def manifest_entry(model: str | Path) -> ManifestLookup:
    """Look the model up in the manifest.json beside it; never raises."""
    model = Path(model)
    manifest = model.parent / MANIFEST_FILE
    if not manifest.exists():
        return ManifestLookup(None)
    try:
        data = read_json(manifest, what="the manifest")
    except EdgeMnistError as exc:
        return ManifestLookup(None, f"unreadable: {exc.problem}")
    artifacts = data.get("artifacts") if isinstance(data, dict) else None
    if not isinstance(artifacts, dict):
        return ManifestLookup(None, f"unreadable: {manifest} is not a manifest (no artifacts).")
    entry = artifacts.get(model.name)
    if not isinstance(entry, dict):
        return ManifestLookup(None, f"{manifest} does not list {model.name}.")
    return ManifestLookup(entry)


def manifest_mismatch(model: str | Path) -> str | None:
    """A warning when the manifest beside ``model`` lists it with another sha256, else None.

    A model without a manifest, or one the manifest does not list, gets no warning: models are
    often copied to a device alone. An unreadable manifest does, as the check cannot be made.
    """
    lookup = manifest_entry(model)
    if lookup.entry is None:
        if lookup.problem is not None and lookup.problem.startswith("unreadable"):
            return f"the manifest beside {Path(model).name} is {lookup.problem}"
        return None
    expected = lookup.entry.get("sha256")
    actual = file_sha256(model)
    if expected == actual:
        return None
    return (
        f"{Path(model).name}: sha256 {actual[:12]}… differs from the {expected!s:.12}… in "
        f"{MANIFEST_FILE} beside it: this is not the model that was exported and gated."
    )
