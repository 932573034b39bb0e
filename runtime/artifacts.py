"""The files an export writes and how to recognise them: their names, a file's sha256, the manifest.

One table of formats and precisions names every model file (``model_<precision>.<format>``);
export, the converters' quantize modes, the CLI's choices, the C export and the backends read
it from here. The manifest (``manifest.json``) is read and looked up only through this module;
the host writes it (edge_mnist/manifest.py) with the names and schema version defined here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import EdgeMnistError, InvalidInputError

TFLITE = "tflite"
ONNX = "onnx"
# The model formats an export writes and the runtime loads.
FORMATS = (TFLITE, ONNX)
INT8 = "int8"
FLOAT32 = "float32"
PRECISIONS = (INT8, FLOAT32)
# Export's --quantize values, which the converters take, and the precision each one writes.
QUANTIZE = {"int8": INT8, "none": FLOAT32}
QUANTIZE_MODES = tuple(QUANTIZE)
# Generated from the int8 .tflite after it is written and validated; not a manifest artifact.
C_FORMAT = "c"
ALL_FORMATS = "all"
# Export's --format choices: one model format, the C, or every model file and the C.
EXPORT_FORMATS = (*FORMATS, C_FORMAT, ALL_FORMATS)


def model_file(fmt: str, precision: str) -> str:
    """The file name export gives a model of ``fmt`` at ``precision``."""
    return f"model_{precision}.{fmt}"


MODEL_FILES = tuple(model_file(f, p) for f in FORMATS for p in PRECISIONS)
# Suffixes that mark a file as a model (for finding ones the manifest does not list).
MODEL_SUFFIXES = tuple(f".{f}" for f in FORMATS)
INT8_TFLITE = model_file(TFLITE, INT8)
FLOAT32_TFLITE = model_file(TFLITE, FLOAT32)
# The C export writes <stem>.h and <stem>.c beside the int8 .tflite it is generated from.
C_STEM = Path(INT8_TFLITE).stem
C_FILES = (f"{C_STEM}.h", f"{C_STEM}.c")
KERAS_FILE = "model.keras"
TRAIN_FILE = "train.json"
# The model card that edge-mnist export writes beside the models.
MANIFEST_FILE = "manifest.json"
MANIFEST_SCHEMA_VERSION = 1
# The accuracy gate's report, as the CI recipes name it ('edge-mnist check --json gate.json').
GATE_FILE = "gate.json"


def file_sha256(path: str | Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    # Imported here: every Classifier.load imports this table, and most never need a digest.
    import hashlib

    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest in ``directory``, or an empty one when the folder has none yet.

    Raises InvalidInputError for a manifest that cannot be read or has no artifacts table.
    """
    from .jsonfile import read_json  # likewise: only a manifest needs the JSON reader

    path = Path(directory) / MANIFEST_FILE
    if not path.exists():
        return {"schema_version": MANIFEST_SCHEMA_VERSION, "artifacts": {}}
    fix = "delete it and run 'edge-mnist export' again."
    manifest = read_json(path, what="the manifest", fix=fix, error=InvalidInputError)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("artifacts"), dict):
        raise InvalidInputError(f"{path} is not a manifest (no 'artifacts' table).", fix)
    return manifest


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
    if not (model.parent / MANIFEST_FILE).exists():
        return ManifestLookup(None)
    try:
        artifacts = read_manifest(model.parent)["artifacts"]
    except EdgeMnistError as exc:
        return ManifestLookup(None, f"unreadable: {exc.problem}")
    entry = artifacts.get(model.name)
    if not isinstance(entry, dict):
        return ManifestLookup(None, f"{model.parent / MANIFEST_FILE} does not list {model.name}.")
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
