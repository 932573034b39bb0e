"""Export a trained model to TFLite and ONNX, validate each file against Keras, record it."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_mnist.data import Mnist
from edge_mnist.errors import ExportError, UsageError
from edge_mnist.evaluate import accuracy, classifier_probabilities, keras_probabilities, load_keras
from edge_mnist.fileio import ensure_dir
from edge_mnist.manifest import LABELS, PREPROCESSING, updating_manifest
from edge_mnist.runtime import Classifier
from edge_mnist.runtime.artifacts import (
    ALL_FORMATS,
    C_FILES,
    C_FORMAT,
    EXPORT_FORMATS,
    FORMATS,
    INT8,
    MANIFEST_SCHEMA_VERSION,
    PRECISIONS,
    QUANTIZE,
    TFLITE,
    file_sha256,
    model_file,
    read_manifest,
)
from edge_mnist.runtime.atomic import atomic_path, remove_stale_temporaries
from edge_mnist.runtime.engine.rounding import DEFAULT_ROUNDING
from edge_mnist.runtime.errors import EdgeMnistError
from edge_mnist.tf import quiet_native_stderr, versions

VALIDATION_SAMPLES = 1000
CALIBRATION_SEED = 0

# Called with a short description of each step as it starts.
StageFn = Callable[[str], None]


@dataclass(frozen=True)
class Tolerance:
    """How closely an export must match Keras on the validation sample to be kept."""

    min_agreement: float
    max_abs_diff: float


# Float exports differ from Keras only by float rounding. Int8 moves probabilities by a few
# hundredths (at most ~0.2 on a handful of borderline digits in our trials) and flips a few
# top-1 answers in a thousand.
TOLERANCES = {
    "float32": Tolerance(min_agreement=0.999, max_abs_diff=1e-3),
    "int8": Tolerance(min_agreement=0.985, max_abs_diff=0.5),
}


@dataclass(frozen=True)
class Target:
    """One file to produce: a format at a precision."""

    fmt: str
    precision: str

    @property
    def filename(self) -> str:
        return model_file(self.fmt, self.precision)


def plan(fmt: str, quantize: str) -> list[Target]:
    """The files that --format and --quantize ask for ('all' means all four)."""
    if quantize not in QUANTIZE:
        raise UsageError(
            f"unknown --quantize {quantize!r}.", f"choose one of: {', '.join(QUANTIZE)}."
        )
    if fmt == ALL_FORMATS:
        return [Target(f, p) for f in FORMATS for p in PRECISIONS]
    if fmt == C_FORMAT:
        if QUANTIZE[quantize] != INT8:
            raise UsageError(
                "--format c is generated from the int8 model.", "use --quantize int8 (the default)."
            )
        return [Target(TFLITE, INT8)]
    if fmt not in FORMATS:
        raise UsageError(
            f"unknown --format {fmt!r}.", f"choose one of: {', '.join(EXPORT_FORMATS)}."
        )
    return [Target(fmt, QUANTIZE[quantize])]


def c_files(fmt: str, out: Path) -> list[Path]:
    """The C sources that --format c and --format all write beside the int8 .tflite."""
    return [out / name for name in C_FILES] if fmt in (C_FORMAT, ALL_FORMATS) else []


def calibration_set(data: Mnist, samples: int) -> np.ndarray:
    """A fixed-seed draw of training images for quantization calibration."""
    if not 1 <= samples <= len(data.x_train):
        raise UsageError(f"--calibration-samples must be in 1..{len(data.x_train)}, got {samples}.")
    rng = np.random.default_rng(CALIBRATION_SEED)
    return data.x_train[np.sort(rng.choice(len(data.x_train), samples, replace=False))]


def embed_golden(path: Path, images: np.ndarray) -> dict[str, Any]:
    """Golden vectors into the file (converters/golden.py), imported when needed."""
    from edge_mnist.converters.golden import embed_golden as embed

    with quiet_native_stderr():
        return embed(path, images)


def _convert(
    target: Target, model: Any, calibration: np.ndarray, metadata: dict[str, str]
) -> bytes:
    from edge_mnist.converters import to_onnx, to_tflite

    quantize = next(q for q, p in QUANTIZE.items() if p == target.precision)
    try:
        if target.fmt == TFLITE:
            return to_tflite(model, quantize, calibration)
        return to_onnx(model, quantize, calibration, metadata)
    except EdgeMnistError:
        raise
    except Exception as exc:  # converter internals raise anything; report it, keep nothing
        raise ExportError(
            f"converting to {target.filename} failed: {type(exc).__name__}: {str(exc).strip()[:300]}"
        ) from exc


def _agreement(target: Target, reference: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    tol = TOLERANCES[target.precision]
    top1 = float(np.mean(reference.argmax(1) == probs.argmax(1)))
    max_diff = float(np.max(np.abs(reference - probs)))
    result = {
        "samples": len(reference),
        "top1_agreement": round(top1, 6),
        "max_abs_prob_diff": round(max_diff, 6),
        "mean_abs_prob_diff": round(float(np.mean(np.abs(reference - probs))), 6),
        "min_top1_agreement": tol.min_agreement,
        "max_abs_prob_diff_allowed": tol.max_abs_diff,
    }
    if top1 < tol.min_agreement or max_diff > tol.max_abs_diff:
        raise ExportError(
            f"{target.filename} disagrees with the Keras model on {len(reference)} test images: "
            f"top-1 agreement {top1:.2%} (needs >= {tol.min_agreement:.2%}), max |Δ probability| "
            f"{max_diff:.4f} (allowed {tol.max_abs_diff}). The file was not kept.",
            "check the calibration set (--calibration-samples) and the model; see the README on tolerances.",
        )
    return result


def _entry(
    target: Target,
    path: Path,
    clf: Classifier,
    agreement: dict[str, Any],
    test_acc: float,
    float_acc: float,
    calibration: int,
    tool_versions: dict[str, str],
) -> dict[str, Any]:
    info = clf.info
    return {
        "file": target.filename,
        "format": target.fmt,
        "precision": target.precision,
        "size_bytes": path.stat().st_size,
        "sha256": file_sha256(path),
        "input": info.input.to_dict(),
        "output": info.output.to_dict(),
        "calibration_samples": calibration if target.precision == INT8 else None,
        "agreement": agreement,
        "test_accuracy": round(test_acc, 6),
        "delta_vs_float_pp": round((test_acc - float_acc) * 100, 4),
        "validated_with": f"{info.backend} {info.backend_version}",
        # The CPU architecture the figures were computed on: onnxruntime's int8 kernels give
        # different digits on x86-64 and ARM, so an int8 ONNX figure holds for this one only.
        "validated_on": platform.machine(),
        "preprocessing": PREPROCESSING,
        "versions": tool_versions,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def export(
    model_path: Path,
    data: Mnist,
    out: Path,
    fmt: str = "tflite",
    quantize: str = "int8",
    calibration_samples: int = 500,
    on_stage: StageFn | None = None,
    rounding: str = DEFAULT_ROUNDING,
) -> dict[str, Any]:
    """Convert, validate and write the requested files; update and return the manifest.
    ``rounding`` picks whose int8 arithmetic the C export reproduces."""
    targets = plan(fmt, quantize)
    stage = on_stage or (lambda _msg: None)
    stage(f"loading {model_path}")
    model = load_keras(model_path)
    calibration = calibration_set(data, calibration_samples)
    ensure_dir(out)
    remove_stale_temporaries(out)
    reference = keras_probabilities(model, data.x_test)
    float_acc = accuracy(reference, data.y_test)
    source_sha = file_sha256(model_path)
    tool_versions = versions()
    metadata = {
        "preprocessing": json.dumps(PREPROCESSING),
        "labels": ",".join(LABELS),
        "source_model_sha256": source_sha,
        "tool_versions": ", ".join(f"{k}={v}" for k, v in tool_versions.items()),
    }
    # Fail now, not after minutes of converting, on a manifest that cannot be updated.
    read_manifest(out)
    try:
        source = str(model_path.resolve().relative_to(out.resolve()))
    except ValueError:
        source = str(model_path.resolve())
    source_model = {"file": source, "sha256": source_sha, "test_accuracy": round(float_acc, 6)}
    entries: dict[str, dict[str, Any]] = {}
    # Every file waits under its temporary name until all of them passed validation; an
    # interrupted or rejected export then changes neither the models nor the manifest.
    with contextlib.ExitStack() as pending:
        for target in targets:
            stage(f"converting {target.filename}")
            with quiet_native_stderr():
                blob = _convert(target, model, calibration, metadata)
            tmp = pending.enter_context(atomic_path(out / target.filename, suffix=f".{target.fmt}"))
            tmp.write_bytes(blob)
            stage(f"recording golden vectors in {target.filename}")
            golden = embed_golden(tmp, data.x_test)
            stage(f"validating {target.filename}")
            with quiet_native_stderr():
                clf = Classifier.load(tmp)
            probs = classifier_probabilities(clf, data.x_test)
            agreement = _agreement(
                target, reference[:VALIDATION_SAMPLES], probs[:VALIDATION_SAMPLES]
            )
            entries[target.filename] = _entry(
                target,
                tmp,
                clf,
                agreement,
                accuracy(probs, data.y_test),
                float_acc,
                len(calibration),
                tool_versions,
            )
            entries[target.filename]["golden"] = golden
        # Under the lock, so that a concurrent export into this folder keeps its entries too.
        with updating_manifest(out) as manifest:
            pending.close()  # renames every file into place
            if manifest.get("source_model", {}).get("sha256") not in (None, source_sha):
                # Entries made from another model would be gated against this one: start afresh.
                manifest["artifacts"] = {}
            manifest.update(
                schema_version=MANIFEST_SCHEMA_VERSION,
                source_model=source_model,
                preprocessing=PREPROCESSING,
                labels=LABELS,
                versions=tool_versions,
            )
            manifest["artifacts"].update(entries)
    if c_files(fmt, out):
        from edge_mnist.converters.c import export_c

        int8 = Target(TFLITE, INT8).filename
        stage(f"generating C ({rounding} rounding) from {int8}")
        export_c(out / int8, out, manifest["artifacts"][int8], rounding)
    return manifest
