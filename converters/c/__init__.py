"""Int8 .tflite -> plain C99 for microcontrollers, bit-exact with a chosen TFLite interpreter.

``export_c`` reads the model with the runtime's NumPy engine (the project's one .tflite
parser), turns it into integer constants (plan.py) and writes ``model_int8.h`` and
``model_int8.c`` (render.py), both atomically. ``rounding`` picks whose arithmetic the C
reproduces (variants.py); golden vectors make ``edge_mnist_selftest`` (selftest.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edge_mnist.runtime.artifacts import C_STEM, file_sha256
from edge_mnist.runtime.artifacts import manifest_entry as manifest_beside
from edge_mnist.runtime.atomic import atomic_path

from .plan import Plan
from .render import Card, header, source
from .selftest import Golden, golden_for
from .variants import DEFAULT_ROUNDING, ROUNDINGS, check_rounding

__all__ = ["DEFAULT_ROUNDING", "ROUNDINGS", "STEM", "Golden", "export_c", "load_plan"]

# The names of the .h and .c files (export, the examples and tests take it from here).
STEM = C_STEM


def load_plan(tflite_path: Path) -> Plan:
    """Parse an int8 .tflite file into the plan the C is generated from."""
    from .from_engine import plan_from_tflite

    return plan_from_tflite(Path(tflite_path))


def _card(tflite_path: Path, manifest_entry: dict[str, Any] | None) -> Card:
    sha = file_sha256(tflite_path)
    entry = manifest_beside(tflite_path).entry if manifest_entry is None else manifest_entry
    accuracy = None
    # A manifest entry for another file (re-exported since) must not lend it its accuracy.
    if isinstance(entry, dict) and entry.get("sha256") == sha:
        value = entry.get("test_accuracy")
        accuracy = float(value) if isinstance(value, int | float) else None
    return Card(tflite_path.name, sha, accuracy)


def export_c(
    tflite_path: str | Path,
    out_dir: str | Path,
    manifest_entry: dict[str, Any] | None = None,
    rounding: str = DEFAULT_ROUNDING,
    golden_inputs: np.ndarray | None = None,
) -> list[Path]:
    """Write model_int8.h and model_int8.c for an int8 .tflite; return their paths.

    The test accuracy in the header comes from ``manifest_entry`` or, if not given, from
    manifest.json beside the model, and only when its sha256 matches the file. ``rounding``
    is one of ROUNDINGS. The self-test's vectors are ``golden_inputs`` ((N, 784) uint8) or,
    if not given, the ones the file carries (else a few fixed pseudo-random images), with the
    scores the engine gives for them under ``rounding`` (selftest.golden_for).
    """
    check_rounding(rounding)
    tflite_path = Path(tflite_path)
    out_dir = Path(out_dir)
    plan = load_plan(tflite_path)
    card = _card(tflite_path, manifest_entry)
    golden = golden_for(tflite_path, rounding, golden_inputs)
    h_path, c_path = out_dir / f"{STEM}.h", out_dir / f"{STEM}.c"
    # Both files are renamed into place only after both were written.
    with atomic_path(h_path, suffix=".h") as h_tmp, atomic_path(c_path, suffix=".c") as c_tmp:
        h_tmp.write_text(header(plan, card, STEM, rounding, golden), encoding="utf-8")
        c_tmp.write_text(source(plan, card, STEM, rounding, golden), encoding="utf-8")
    return [h_path, c_path]
