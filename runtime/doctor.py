"""What this device can run a model with: the machine, every backend, what to install, and
(with a model) whether each backend loads and runs it.

``diagnose()`` returns a JSON-ready report (schema: doctor.schema.json, beside this module);
``render()`` prints it in 80 columns. It reads the backend table (backends.TABLE), the wheel
table (wheels.py) and the machine facts of sysinfo.py, and never fails for what it finds: a
backend that will not import, a damaged model, a missing package are findings. Each installed
interpreter is imported in a child process, because a wheel built for a newer CPU dies of
SIGILL on import, and that must be a line in the report, not the end of the doctor.

With a model, each backend that runs its format loads it and classifies one blank image
("check"); ``verify`` (golden vectors) is reported per backend as null until the verify
module is part of this build.
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
from .textfmt import align

SCHEMA = Path(__file__).with_name("doctor.schema.json")
SCHEMA_VERSION = 1
VERIFY_NOTE = "verify: not available in this build"
# Imports the interpreter module named by argv[1] and says how long it took.
_IMPORT = (
    "import importlib, json, sys, time; t = time.perf_counter(); "
    "importlib.import_module(sys.argv[1]); "
    "print(json.dumps({'ms': round((time.perf_counter() - t) * 1e3, 1)}))"
)
IMPORT_TIMEOUT = 120.0
WIDTH = 80


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
    started = [
        (spec, _start_import(spec) if only is None or spec.name in only else None) for spec in TABLE
    ]
    out = []
    try:
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
    return fmt


def diagnose(model: Path | None = None, only: Collection[str] | None = None) -> dict[str, Any]:
    """The whole report (see the module docstring and doctor.schema.json); ``only`` limits
    the import and model checks to those backends."""
    entries = backends(only)
    fmt = TFLITE
    model_doc = None
    if model is not None:
        fmt = check_model(Path(model), entries, only)
        model_doc = {"path": str(model), "format": fmt}
    return {
        "schema_version": SCHEMA_VERSION,
        "machine": machine(),
        "backends": entries,
        "recommended": recommend(entries, fmt),
        "model": model_doc,
        "verify_available": False,
    }


def _status(e: dict[str, Any]) -> str:
    if e["usable"]:
        return "ok"
    if e["installed"]:
        return "cannot run"
    return "not installed" if e["wheel_here"] else "no wheel here"


def _check_text(e: dict[str, Any]) -> str:
    check = e["check"]
    if check is None:
        return "-"
    if not check["ok"]:
        return "failed (below)"
    return f"{check['load_ms']:.0f} ms, digit {check['digit']}"


def _wrap(line: str, width: int = WIDTH) -> list[str]:
    import textwrap

    if len(line) <= width:
        return [line]
    indent = " " * (len(line) - len(line.lstrip()) + 4)
    return textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False)


def render(report: dict[str, Any]) -> str:
    """The report as text of at most 80 columns."""
    m = report["machine"]
    features = m["cpu_features"]
    if features is None:
        feature_text = "not readable here"
    else:
        have = [f for f, ok in features.items() if ok]
        lack = [f for f, ok in features.items() if not ok]
        feature_text = " ".join(have) or "none"
        feature_text += f"; lacks {' '.join(lack)}" if lack else ""
    lines = ["Machine"]
    lines += align(
        [
            [
                "  system",
                f"{m['system']} {m['architecture']}, Python {m['python']}, numpy {m['numpy']}",
            ],
            ["  os", m["os"]],
            ["  board", m["board"] or "-"],
            ["  cpu", f"{m['cpu_model']}, {m['cores']} cores"],
            ["  features", feature_text],
        ]
    )
    rows = [["  backend", "format", "status", "version", "import", "model load"]]
    for e in report["backends"]:
        ms = "-" if not e["import_ms"] else f"{e['import_ms']:.0f} ms"
        rows.append(
            [f"  {e['name']}", e["format"], _status(e), e["version"] or "-", ms, _check_text(e)]
        )
    lines += ["", "Backends", *align(rows)]
    problems = [f"  {e['name']}: {e['problem']}" for e in report["backends"] if e["problem"]]
    for e in report["backends"]:
        if e["check"] is not None and not e["check"]["ok"]:
            problems.append(f"  {e['name']} on the model: {e['check']['error']}")
    if problems:
        lines += ["", "Problems", *problems]
    can = [
        [f"  {e['name']}", e["pip"]]
        for e in report["backends"]
        if e["wheel_here"] and not e["installed"] and e["pip"]
    ]
    if can:
        lines += ["", "Could be installed here", *align(can)]
    rec = report["recommended"]
    if rec is None:
        lines += ["", "Recommended: nothing runs this format here; use the .tflite model."]
    elif rec["installed"]:
        lines += ["", f"Recommended: {rec['backend']} (installed)."]
    else:
        lines += ["", f"Recommended: {rec['backend']} ({rec['why']}): {rec['pip']}"]
    if report["model"] is not None and not report["verify_available"]:
        lines.append(VERIFY_NOTE + ".")
    return "\n".join(w for line in lines for w in _wrap(line))


def main(argv: list[str] | None = None) -> int:
    """``python -m runtime.doctor [MODEL] [--json FILE]`` from a copied runtime/ folder."""
    import argparse

    from .cliopts import is_stdout
    from .errors import EdgeMnistError
    from .jsonfile import write_json

    p = argparse.ArgumentParser(prog="python -m runtime.doctor", description=__doc__)
    p.add_argument("model", nargs="?", type=Path, help="a .tflite or .onnx model to check")
    p.add_argument("--json", type=Path, metavar="FILE", help="write JSON there ('-': stdout)")
    args = p.parse_args(argv)
    try:
        report = diagnose(args.model)
        if args.json is not None and not is_stdout(args.json):
            write_json(args.json, report)
    except EdgeMnistError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(report, indent=2) if is_stdout(args.json) else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
