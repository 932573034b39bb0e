"""What this device can run a model with: the machine, every backend, what to install, and
(with a model) whether each backend loads and runs it.

``diagnose()`` returns a JSON-ready report (schema: doctor.schema.json, beside this module);
``render()`` (doctor_text.py) prints it in 80 columns. It reads the backend table
(backends.TABLE), the wheel table (wheels.py) and the machine facts of sysinfo.py, and never fails for what it finds: a
backend that will not import, a damaged model, a missing package are findings. Each installed
interpreter is imported in a child process, because a wheel built for a newer CPU dies of
SIGILL on import, and that must be a line in the report, not the end of the doctor.

With a model, each backend that runs its format loads it and classifies one blank image
("check") and, when the model carries golden vectors (``verify_available``), runs them as
'verify' does ("verify": ok, the largest difference and its vector, the time); null for a
backend that cannot run the model.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np

from . import sysinfo, wheels
from .backends import TABLE, TFLITE, BackendSpec, conflict, detect_format, installed
from .doctor_text import render

SCHEMA = Path(__file__).with_name("doctor.schema.json")
SCHEMA_VERSION = 1
# Imports the interpreter module named by argv[1] and says how long it took.
_IMPORT = (
    "import importlib, json, sys, time; t = time.perf_counter(); "
    "importlib.import_module(sys.argv[1]); "
    "print(json.dumps({'ms': round((time.perf_counter() - t) * 1e3, 1)}))"
)
IMPORT_TIMEOUT = 120.0


def machine() -> dict[str, Any]:
    """OS, architecture, Python, numpy, board, CPU and the CPU features that matter."""
    system, arch, _ = wheels.here()
    return {
        "os": platform.platform(),
        "system": system,
        "architecture": arch,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "numpy": np.__version__,
        "board": sysinfo.board(),
        "cpu_model": sysinfo.cpu_model(),
        "cores": os.cpu_count(),
        "cpu_features": sysinfo.cpu_features(),
    }


def _version(spec: BackendSpec) -> str | None:
    if spec.module is None:
        from .backends.numpy_engine import ENGINE_VERSION

        return f"engine-{ENGINE_VERSION}"
    versions = sysinfo.package_versions()
    return next((versions[d] for d in spec.dists if d in versions), None)


def _start_import(spec: BackendSpec) -> subprocess.Popen[str] | None:
    if spec.module is None or not installed(spec) or conflict(spec):
        return None
    return subprocess.Popen(
        [sys.executable, "-c", _IMPORT, spec.module],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _import_result(proc: subprocess.Popen[str]) -> tuple[float | None, str | None]:
    """(import milliseconds, None) or (None, why it failed)."""
    try:
        out, err = proc.communicate(timeout=IMPORT_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return None, f"importing it hung for over {IMPORT_TIMEOUT:.0f} s"
    if proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name
        why = " (an instruction this CPU lacks)" if name == "SIGILL" else ""
        return None, f"importing it crashed the process ({name}{why})"
    if proc.returncode != 0:
        last = (err.strip().splitlines() or ["no message"])[-1]
        return None, f"importing it failed: {last}"
    try:
        return float(json.loads(out.strip().splitlines()[-1])["ms"]), None
    except (ValueError, KeyError, IndexError):
        return None, f"importing it printed something unexpected: {out.strip()[:80]!r}"


def backends(only: Collection[str] | None = None) -> list[dict[str, Any]]:
    """One entry per row of the backend table, in its order: installed? importable? which
    version? a wheel for this machine? the pip line? Backends outside ``only`` (when given)
    are not imported: their entry comes from the package metadata alone."""
    system, arch, py = wheels.here()
    # The imports run side by side.
    started: list[tuple[BackendSpec, subprocess.Popen[str] | None]] = []
    out = []
    try:
        for spec in TABLE:
            started.append(
                (spec, _start_import(spec) if only is None or spec.name in only else None)
            )
        for spec, proc in started:
            wheel = wheels.BY_BACKEND.get(spec.name)
            is_installed = installed(spec)
            problem = conflict(spec) if is_installed else None
            import_ms, failed = _import_result(proc) if proc is not None else (None, None)
            if spec.module is None:
                import_ms = 0.0
            out.append(
                {
                    "name": spec.name,
                    "format": spec.format,
                    "installed": is_installed,
                    "version": _version(spec) if is_installed else None,
                    "usable": is_installed and problem is None and failed is None,
                    "import_ms": import_ms,
                    "problem": problem or failed,
                    "wheel_here": bool(wheel and wheel.has_wheel(system, arch, py)),
                    "pip": wheel.pip_line() if wheel else None,
                    "check": None,
                    "verify": None,
                }
            )
    finally:
        # A signal or an error mid-way must not leave import probes running for up to
        # IMPORT_TIMEOUT: every probe still alive is killed and reaped here.
        for _spec, proc in started:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    return out


def recommend(entries: list[dict[str, Any]], fmt: str = TFLITE) -> dict[str, Any] | None:
    """The first backend for ``fmt`` (in the table's order of preference) that works here or
    has a wheel for this machine; TensorFlow is never advised for a device. None: nothing can
    run ``fmt`` models here."""
    for e in entries:
        if e["format"] != fmt:
            continue
        if e["usable"]:
            return {"backend": e["name"], "installed": True, "pip": None, "why": "installed"}
        if e["name"] != "tensorflow" and e["wheel_here"] and not e["installed"]:
            why = "a wheel exists for this machine"
            return {"backend": e["name"], "installed": False, "pip": e["pip"], "why": why}
    return None


def check_model(
    path: Path, entries: list[dict[str, Any]], only: Collection[str] | None = None
) -> str:
    """Load ``path`` on each usable backend of its format and classify a blank image; fill in
    each entry's "check". Returns the format (ModelLoadError for a file of no known format)."""
    from .classifier import Classifier
    from .errors import EdgeMnistError

    fmt = detect_format(path)
    golden = has_golden(path)
    blank = np.zeros((28, 28), np.float32)
    for e in entries:
        if e["format"] != fmt or not e["usable"] or (only is not None and e["name"] not in only):
            continue
        start = time.perf_counter()
        try:
            clf = Classifier.load(path, backend=e["name"])
            load_ms = (time.perf_counter() - start) * 1e3
            digit = int(clf.predict(blank).digits[0])
        except EdgeMnistError as exc:
            e["check"] = {"ok": False, "load_ms": None, "digit": None, "error": exc.problem}
            continue
        e["check"] = {"ok": True, "load_ms": round(load_ms, 1), "digit": digit, "error": None}
        if golden:
            e["verify"] = verify_backend(path, e["name"])
    return fmt


def has_golden(path: Path) -> bool:
    """Whether ``path`` carries golden vectors that this runtime can read."""
    from .errors import EdgeMnistError
    from .golden import read_golden

    try:
        return read_golden(path) is not None
    except EdgeMnistError:  # a damaged blob: the check reports the file, verify cannot run
        return False


def verify_backend(path: Path, name: str) -> dict[str, Any]:
    """'verify' on one backend, summed up: ok, the largest difference (in its unit) and the
    vector it is on, the seconds taken, the error (all rounding variants, for numpy)."""
    from .errors import EdgeMnistError
    from .verify import verify

    start = time.perf_counter()
    try:
        checks = verify(path, name).checks
    except EdgeMnistError as exc:
        return {
            "ok": False,
            "largest_difference": None,
            "unit": None,
            "vector": None,
            "seconds": round(time.perf_counter() - start, 3),
            "error": exc.problem,
        }
    worst = max(checks, key=lambda c: (not c.ok, c.largest_difference))
    return {
        "ok": all(c.ok for c in checks),
        "largest_difference": worst.largest_difference,
        "unit": worst.unit,
        "vector": worst.worst_vector,
        "seconds": round(time.perf_counter() - start, 3),
        "error": worst.error,
    }


def diagnose(model: Path | None = None, only: Collection[str] | None = None) -> dict[str, Any]:
    """The whole report (see the module docstring and doctor.schema.json); ``only`` limits
    the import and model checks to those backends."""
    entries = backends(only)
    fmt = TFLITE
    model_doc = None
    golden = False
    if model is not None:
        fmt = check_model(Path(model), entries, only)
        model_doc = {"path": str(model), "format": fmt}
        golden = has_golden(Path(model))
    return {
        "schema_version": SCHEMA_VERSION,
        "machine": machine(),
        "backends": entries,
        "recommended": recommend(entries, fmt),
        "model": model_doc,
        "verify_available": golden,
    }


def run_doctor(model: Path | None, backend: str | None) -> dict[str, Any]:
    """Both front ends' doctor: bad usage refused before any work (an unknown backend, a
    missing or foreign model file), then the report."""
    if backend is not None:
        from .backends import spec_for

        spec_for(backend)
    if model is not None:
        detect_format(model)
    return diagnose(model, None if backend is None else (backend,))


def _main(argv: list[str]) -> int:
    import argparse

    from .cliopts import DOCTOR_OPTIONS, add_arguments, check_output_path, is_stdout, values
    from .jsonfile import write_json_or_stdout

    p = argparse.ArgumentParser(prog="python -m runtime.doctor", description=__doc__)
    p.add_argument("model", nargs="?", type=Path, help="a .tflite or .onnx model to check")
    add_arguments(p, DOCTOR_OPTIONS)
    ns = p.parse_args(argv)
    given = values(ns, DOCTOR_OPTIONS)
    check_output_path(given["json"], "--json")
    report = run_doctor(ns.model, given["backend"])
    if not is_stdout(given["json"]):
        print(render(report))
    if given["json"] is not None:
        write_json_or_stdout(given["json"], report)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m runtime.doctor [MODEL] [-b NAME] [--json FILE]`` from a copied runtime/."""
    from .cliopts import run_main

    return run_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
