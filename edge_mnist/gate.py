"""The accuracy gate: every exported model stays within --max-drop points of the float model."""

from __future__ import annotations

import math
import platform
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge_mnist.errors import CheckFailedError, UsageError
from edge_mnist.evaluate import accuracy, classifier_probabilities, keras_probabilities, load_keras
from edge_mnist.fileio import write_bytes
from edge_mnist.runtime import Classifier
from edge_mnist.runtime.artifacts import (
    KERAS_FILE,
    MANIFEST_FILE,
    MODEL_SUFFIXES,
    file_sha256,
    read_manifest,
)
from edge_mnist.runtime.errors import EdgeMnistError
from edge_mnist.runtime.jsonfile import read_json, write_json

# What a figure certifies off this machine, where that is less than every platform. Measured
# under emulation: the .tflite files give the same digit for every test image on x86-64 and ARM
# (ai-edge-litert, tflite-runtime and the NumPy engine); the int8 ONNX file does not.
PORTABILITY = {
    ("onnx", "int8"): (
        "onnxruntime's int8 kernels differ between CPU architectures (on ARM 23 of 10,000 "
        "digits differed): this figure holds for this architecture; measure on the device with "
        "'edge-mnist predict' or ship the .tflite file"
    ),
}


@dataclass
class ArtifactResult:
    """One artifact's verdict."""

    name: str
    accuracy: float | None
    drop_pp: float | None
    sha256_ok: bool
    passed: bool
    reasons: list[str] = field(default_factory=list)
    # What computed the figure, and on which CPU architecture.
    backend: str | None = None
    machine: str = field(default_factory=platform.machine)
    # What the figure certifies beyond this machine, when that is less than everywhere.
    note: str | None = None


@dataclass
class GateReport:
    """The float model's accuracy and every artifact's verdict."""

    float_accuracy: float
    max_drop_pp: float
    test_images: int
    artifacts: list[ArtifactResult]
    # Model files in the folder that the manifest does not list, so nothing gated them.
    unlisted: list[str] = field(default_factory=list)
    # Whether unlisted model files fail the gate instead of only warning.
    strict: bool = False

    @property
    def passed(self) -> bool:
        return all(a.passed for a in self.artifacts) and not (self.strict and self.unlisted)

    @property
    def warnings(self) -> list[str]:
        """One line per unlisted model file (these are failures when ``strict``)."""
        return [
            f"{name}: in the folder but not in the manifest, so not gated "
            "(an interrupted or foreign export?)"
            for name in self.unlisted
        ]

    def raise_if_failed(self) -> None:
        """Raise CheckFailedError naming every failing artifact and its numbers."""
        if not self.passed:
            raise CheckFailedError("the accuracy gate failed:\n  " + "\n  ".join(self.failures()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "float_accuracy": self.float_accuracy,
            "max_drop_pp": self.max_drop_pp,
            "test_images": self.test_images,
            "artifacts": [asdict(a) for a in self.artifacts],
            "strict": self.strict,
            "unlisted": self.unlisted,
            "warnings": self.warnings,
        }

    def failures(self) -> list[str]:
        failed = [f"{a.name}: {'; '.join(a.reasons)}" for a in self.artifacts if not a.passed]
        return failed + (self.warnings if self.strict else [])


def _baseline(path: Path) -> dict[str, float]:
    """Artifact accuracies from an earlier 'check --json' report."""
    fix = "pass a report written by 'edge-mnist check --json'."
    report = read_json(path, what="the baseline", fix=fix, error=UsageError)
    try:
        return {
            a["name"]: float(a["accuracy"])
            for a in report["artifacts"]
            if a.get("accuracy") is not None
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(
            f"{path}: not a readable baseline ({type(exc).__name__}: {exc}).", fix
        ) from None


def unlisted_models(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Model files (*.tflite, *.onnx) in ``folder`` that ``manifest`` does not list."""
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.suffix in MODEL_SUFFIXES
        and not p.name.startswith(".")
        and p.name not in manifest["artifacts"]
        and p.is_file()
    )


def validate_limits(max_drop: float, tolerance: float = 0.0) -> None:
    """Reject gate limits that would make it meaningless (negative, NaN, infinite)."""
    for option, value in (("--max-drop", max_drop), ("--tolerance", tolerance)):
        if not (math.isfinite(value) and value >= 0):
            raise UsageError(f"{option} must be a finite number >= 0, got {value}.")


def _backend_for(path: Path, backend: str | None) -> str | None:
    """``backend`` when it runs ``path``'s format, else None (that format's default)."""
    if backend is None:
        return None
    from edge_mnist.runtime.backends import detect_format, spec_for

    return backend if detect_format(path) == spec_for(backend).format else None


def run_gate(
    artifacts: Path,
    max_drop: float = 0.5,
    baseline: Path | None = None,
    tolerance: float = 0.1,
    data_dir: Path | None = None,
    strict: bool = False,
    backend: str | None = None,
) -> GateReport:
    """Recompute every accuracy on the 10,000 test images and judge each artifact.

    ``backend`` runs the artifacts of its format (e.g. ``numpy`` for the .tflite files: what a
    board without an interpreter computes); the others run on their default backend.

    Model files in ``artifacts`` that the manifest does not list are reported in
    ``GateReport.unlisted`` (a warning); with ``strict`` they fail the gate.
    """
    from edge_mnist.data import load_test_split

    if not (artifacts / MANIFEST_FILE).is_file():
        raise UsageError(
            f"{artifacts / MANIFEST_FILE} not found.",
            "run 'edge-mnist export' first, or pass --artifacts.",
        )
    validate_limits(max_drop, tolerance)
    if backend is not None:
        from edge_mnist.runtime.backends import spec_for

        spec_for(backend)
    manifest = read_manifest(artifacts)
    if not manifest["artifacts"]:
        raise UsageError(
            f"{artifacts / MANIFEST_FILE} lists no artifacts.", "run 'edge-mnist export' first."
        )
    expected = _baseline(baseline) if baseline else {}
    source = manifest.get("source_model", {}).get("file", KERAS_FILE)
    model_path = artifacts / source if not Path(source).is_absolute() else Path(source)
    recorded = manifest.get("source_model", {}).get("sha256")
    if model_path.is_file() and recorded and file_sha256(model_path) != recorded:
        raise CheckFailedError(
            f"{model_path} is not the model these artifacts were exported from (sha256 differs "
            "from the manifest's source_model).",
            "export again from this model, or restore the original model.",
        )
    # Only the test files: the gate never needs the 47 MB train file.
    images, labels = load_test_split(data_dir)
    pixels = images.astype(np.float32) / np.float32(255.0)
    float_acc = accuracy(keras_probabilities(load_keras(model_path), pixels), labels)
    results = []
    for name, entry in manifest["artifacts"].items():
        path = artifacts / name
        reasons = []
        if not path.is_file():
            results.append(ArtifactResult(name, None, None, False, False, [f"{path} is missing"]))
            continue
        sha_ok = file_sha256(path) == entry.get("sha256")
        if not sha_ok:
            reasons.append(
                f"sha256 mismatch: the file is not the one the manifest records ({entry.get('sha256', '?')[:12]}…)"
            )
        used = None
        try:
            clf = Classifier.load(path, backend=_backend_for(path, backend))
            used = f"{clf.info.backend} {clf.info.backend_version}"
            acc: float | None = accuracy(classifier_probabilities(clf, images), labels)
        except EdgeMnistError as exc:
            acc = None
            reasons.append(f"cannot run it: {exc.problem}")
        drop = None if acc is None else round((float_acc - acc) * 100, 4)
        if drop is not None and drop > max_drop:
            reasons.append(
                f"accuracy {acc:.2%} is {drop:.2f} points below the float model's {float_acc:.2%} "
                f"(allowed: {max_drop})"
            )
        if acc is not None and name in expected and acc < expected[name] - tolerance / 100:
            reasons.append(
                f"accuracy {acc:.2%} is below the baseline {expected[name]:.2%} minus {tolerance} points"
            )
        note = PORTABILITY.get((entry.get("format"), entry.get("precision")))
        results.append(
            ArtifactResult(name, acc, drop, sha_ok, not reasons, reasons, used, note=note)
        )
    return GateReport(
        round(float_acc, 6),
        max_drop,
        len(labels),
        results,
        unlisted=unlisted_models(artifacts, manifest),
        strict=strict,
    )


def write_report(report: GateReport, path: Path) -> None:
    """The report as JSON."""
    write_json(path, report.to_dict())


def write_junit(report: GateReport, path: Path) -> None:
    """The report as JUnit XML: one test case per artifact."""
    unlisted = len(report.unlisted) if report.strict else 0
    failures = sum(not a.passed for a in report.artifacts) + unlisted
    suite = ET.Element(
        "testsuite",
        name="edge-mnist accuracy gate",
        tests=str(len(report.artifacts) + unlisted),
        failures=str(failures),
    )
    for a in report.artifacts:
        case = ET.SubElement(suite, "testcase", classname="edge_mnist.gate", name=a.name)
        props = ET.SubElement(case, "properties")
        for key, value in (
            ("accuracy", a.accuracy),
            ("drop_pp", a.drop_pp),
            ("float_accuracy", report.float_accuracy),
        ):
            ET.SubElement(props, "property", name=key, value=str(value))
        if not a.passed:
            ET.SubElement(case, "failure", message="; ".join(a.reasons)).text = "\n".join(a.reasons)
    if report.strict:
        for name, warning in zip(report.unlisted, report.warnings, strict=True):
            case = ET.SubElement(suite, "testcase", classname="edge_mnist.gate", name=name)
            ET.SubElement(case, "failure", message=warning).text = warning
    write_bytes(path, ET.tostring(suite, encoding="utf-8", xml_declaration=True))


__all__ = [
    "ArtifactResult",
    "GateReport",
    "run_gate",
    "unlisted_models",
    "write_junit",
    "write_report",
]
