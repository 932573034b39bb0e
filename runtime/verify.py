"""Run a model's golden vectors through each installed backend and compare with what it must give.

Each backend is held to the rounding variant that reproduces its arithmetic (measured on all
10,000 MNIST test images, docs/2026-12-03-rounding-variants.md): ``litert`` (XNNPACK) to
"litert", ``tflite-runtime`` (TFLite's built-in kernels) to "reference", the NumPy engine to its
``rounding`` or, when none is named, to every variant in turn (it can run all three).
onnxruntime is held to its own output recorded at export: exactly on the export machine's CPU
architecture; elsewhere within the recorded step bound, with equal digits wherever the margin
exceeds twice the bound. Float models: every backend within the recorded tolerance.

TensorFlow is checked only when named (``backend="tensorflow"``): importing it takes seconds.

``python -m runtime.verify MODEL [-b NAME] [--rounding R] [--json FILE]`` (``main``) is the
twin of 'edge-mnist verify' for a runtime/ folder copied alone onto a board; both read their
options from cliopts.VERIFY_OPTIONS. The text report is verify_text.py's.
"""

from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .backends import (
    NUMPY,
    ONNX,
    conflict,
    detect_format,
    for_format,
    installed,
    pick_backend,
)
from .backends.rounding import check_rounding_backend
from .engine.rounding import INTERPRETER_ROUNDING, ROUNDINGS
from .errors import EdgeMnistError, ModelLoadError
from .golden import FLOAT, ONNXRUNTIME, GoldenVectors, margins, read_golden
from .verify_text import report_lines

# Installed but not run unless named: too slow to import for a check meant to take < 1 s.
ONLY_WHEN_NAMED = ("tensorflow",)


class VerifyFailedError(EdgeMnistError):
    """A backend did not reproduce the golden vectors (exit 1)."""

    exit_code = 1


@dataclass
class Check:
    """One backend (at one rounding, for the NumPy engine) against one recorded variant."""

    backend: str
    version: str
    expected: str  # the recorded variant compared with
    mode: str  # "exact", "tolerance" or "bound" (int8 ONNX on another architecture)
    ok: bool
    vectors: int
    mismatched: list[int] = field(default_factory=list)
    worst_vector: int | None = None
    largest_difference: float = 0.0
    unit: str = "steps"  # of the int8 output, or "probability" for float outputs
    allowed: float = 0.0
    digits_equal: bool = True
    seconds: float = 0.0
    error: str | None = None


@dataclass
class VerifyReport:
    model: str
    format: str
    golden: dict[str, Any]
    machine: str
    checks: list[Check]
    skipped: dict[str, str]

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def failure(self) -> VerifyFailedError | None:
        """The error to exit with (naming the backend, the vector, the largest difference)."""
        failed = [c for c in self.checks if not c.ok]
        if not failed:
            return None
        worst = failed[0]
        where = worst.error or (
            f"vector {worst.worst_vector}, largest difference "
            f"{worst.largest_difference:g} {worst.unit}"
        )
        return VerifyFailedError(
            f"{', '.join(dict.fromkeys(c.backend for c in failed))} did not reproduce the golden vectors "
            f"({worst.backend}: {where}).",
            "this device does not compute what was exported and gated: check the interpreter "
            "version against the conformance table, or copy the model again.",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "format": self.format,
            "ok": self.ok,
            "machine": self.machine,
            "golden": self.golden,
            "checks": [asdict(c) for c in self.checks],
            "skipped": self.skipped,
        }


def _compare(
    golden: GoldenVectors, variant: str, raw: np.ndarray, backend: str, version: str
) -> Check:
    expected = golden.expected[variant]
    got = np.asarray(raw).reshape(expected.shape)
    n = golden.count
    if expected.dtype == np.int8:
        diff = np.abs(got.astype(np.int16) - expected.astype(np.int16)).astype(np.float64)
        mode, allowed, unit = "exact", 0.0, "steps"
    elif golden.step and golden.machine != platform.machine():
        diff = np.abs(got.astype(np.float64) - expected) / golden.step
        mode, allowed, unit = "bound", float(golden.step_bound), "steps"
    elif golden.step:
        diff = np.abs(got.astype(np.float64) - expected) / golden.step
        mode, allowed, unit = "exact", 0.0, "steps"
    else:
        diff = np.abs(got.astype(np.float64) - expected)
        mode, allowed, unit = "tolerance", golden.tolerance, "probability"
    per_vector = diff.max(axis=1)
    digits = got.argmax(1) == expected.argmax(1)
    if mode == "bound":
        # A digit can flip within the bound only where the recorded margin is under twice it.
        clear = margins(expected) / golden.step > 2 * allowed
        bad = (per_vector > allowed) | (~digits & clear)
    else:
        bad = per_vector > allowed
    mismatched = [int(i) for i in np.flatnonzero(bad)]
    worst = int(per_vector.argmax()) if per_vector.max() > 0 else None
    return Check(
        backend=backend,
        version=version,
        expected=variant,
        mode=mode,
        ok=not mismatched,
        vectors=n,
        mismatched=mismatched,
        worst_vector=worst,
        largest_difference=float(per_vector.max()),
        unit=unit,
        allowed=allowed,
        digits_equal=bool(digits.all()),
    )


def _variants(golden: GoldenVectors, backend: str, fmt: str, rounding: str | None) -> list[str]:
    """The recorded variants ``backend`` is held to, with the rounding each needs (numpy)."""
    if fmt == ONNX:
        return [ONNXRUNTIME]
    if FLOAT in golden.expected:
        return [FLOAT]
    if backend == NUMPY:
        return [rounding] if rounding else list(ROUNDINGS)
    return [INTERPRETER_ROUNDING.get(backend, "litert")]


def _run_one(
    path: Path, golden: GoldenVectors, backend: str, variant: str, rounding: str | None
) -> Check:
    from .classifier import Classifier

    start = time.perf_counter()
    try:
        clf = Classifier.load(path, backend=backend, rounding=rounding)
        raw = clf.backend.run(clf.prepare(golden.inputs))
    except EdgeMnistError as exc:
        version = ""
        return Check(backend, version, variant, "exact", False, golden.count, error=str(exc))
    check = _compare(golden, variant, raw, backend, clf.info.backend_version)
    check.seconds = time.perf_counter() - start
    return check


def verify(
    model: str | Path, backend: str | None = None, rounding: str | None = None
) -> VerifyReport:
    """Check the golden vectors inside ``model`` on ``backend`` (None: every installed backend
    that runs its format, TensorFlow only when named). Raises ModelLoadError when the file
    carries no golden vectors; the report says which checks failed."""
    path = Path(model)
    if rounding is not None:
        backend = check_rounding_backend(backend, rounding)
    fmt = detect_format(path)
    golden = read_golden(path)
    if golden is None:
        raise ModelLoadError(
            f"{path}: the file carries no golden vectors (exported before they existed, or not "
            "by edge-mnist).",
            "export it again with 'edge-mnist export' (it embeds them), then copy it here.",
        )
    skipped: dict[str, str] = {}
    if backend is not None:
        names = [pick_backend(fmt, backend).name]
    else:
        names = []
        for spec in for_format(fmt):
            if not installed(spec):
                continue
            problem = conflict(spec)
            if problem:
                skipped[spec.name] = problem
            elif spec.name in ONLY_WHEN_NAMED:
                skipped[spec.name] = f"slow to import: check it with --backend {spec.name}"
            else:
                names.append(spec.name)
    checks = []
    for name in names:
        for variant in _variants(golden, name, fmt, rounding):
            engine_rounding = variant if name == NUMPY and variant in ROUNDINGS else None
            checks.append(_run_one(path, golden, name, variant, engine_rounding))
    if not checks:
        pick_backend(fmt)  # raises BackendUnavailableError with the install hint
    return VerifyReport(
        model=str(path),
        format=fmt,
        golden=golden.summary(),
        machine=platform.machine(),
        checks=checks,
        skipped=skipped,
    )


def _main(argv: list[str]) -> int:
    import argparse

    from .cliopts import VERIFY_OPTIONS, add_arguments, check_output_path, is_stdout, values
    from .jsonfile import write_json_or_stdout

    p = argparse.ArgumentParser(
        prog="python -m runtime.verify",
        description="Check that this device computes what was exported: the golden vectors "
        "inside MODEL on each installed backend. Exit 0 all match, 1 one does not, 2 bad input.",
    )
    p.add_argument("model", type=Path, help="a .tflite or .onnx model exported by edge-mnist")
    add_arguments(p, VERIFY_OPTIONS)
    ns = p.parse_args(argv)
    given = values(ns, VERIFY_OPTIONS)
    check_output_path(given["json"], "--json")
    report = verify(ns.model, given["backend"], given["rounding"])
    if not is_stdout(given["json"]):
        print("\n".join(report_lines(report)))
    if given["json"] is not None:
        write_json_or_stdout(given["json"], report.to_dict())
    failure = report.failure()
    if failure is not None:
        raise failure
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m runtime.verify MODEL [-b NAME] [--rounding R] [--json FILE]`` from a copied
    runtime/ folder (its options are declared once, cliopts.VERIFY_OPTIONS, with the CLI's)."""
    from .cliopts import run_main

    return run_main(_main, argv)


if __name__ == "__main__":
    import sys

    sys.exit(main())
