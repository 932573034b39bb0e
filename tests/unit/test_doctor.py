"""edge-mnist doctor: the machine, the backends, what to install, the model check; the JSON
schema, 80 columns; and the wheel table behind the README's matrix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from edge_mnist.runtime import sysinfo, wheels
from edge_mnist.runtime.doctor import SCHEMA, _import_result, diagnose, recommend, render

pytestmark = pytest.mark.device

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "edge_mnist"]
CPUINFO = ROOT / ".ci" / "emulation" / "cpuinfo"
# Backends quick to import here (TensorFlow takes some 15 s: the full run is the CLI test).
QUICK = ("numpy", "litert", "onnxruntime")


def valid(report: dict[str, Any]) -> None:
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))


def fits(text: str) -> None:
    too_wide = [line for line in text.splitlines() if len(line) > 80]
    assert not too_wide, too_wide


def entry(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in report["backends"] if e["name"] == name)


def test_without_a_model(tmp_path: Path) -> None:
    report = diagnose(only=QUICK)
    valid(report)
    m = report["machine"]
    assert (m["system"], m["architecture"]) == wheels.here()[:2]
    assert m["python"].startswith(f"{sys.version_info[0]}.{sys.version_info[1]}.")
    numpy = entry(report, "numpy")
    assert numpy["usable"] and numpy["version"] == "engine-1" and numpy["pip"] is None
    assert [e["name"] for e in report["backends"]] == [
        "litert",
        "tflite-runtime",
        "numpy",
        "tensorflow",
        "onnxruntime",
    ]
    assert all(e["check"] is None and e["verify"] is None for e in report["backends"])
    assert report["model"] is None
    text = render(report)
    fits(text)
    assert "verify:" not in text  # only said when a model was given


@pytest.mark.interpreter("litert")
def test_with_a_model_each_backend_loads_and_classifies(tiny: Path) -> None:
    report = diagnose(tiny / "model_int8.tflite", only=QUICK)
    valid(report)
    litert, numpy = entry(report, "litert"), entry(report, "numpy")
    assert litert["usable"] and litert["import_ms"] > 0
    for e in (litert, numpy):
        assert e["check"]["ok"] and e["check"]["error"] is None
        assert 0 <= e["check"]["digit"] <= 9
    # The same file and the same blank image: the same digit on both.
    assert litert["check"]["digit"] == numpy["check"]["digit"]
    assert entry(report, "onnxruntime")["check"] is None  # another format
    assert report["recommended"] == {
        "backend": "litert",
        "installed": True,
        "pip": None,
        "why": "installed",
    }
    # The tiny model carries golden vectors: each backend that runs it reproduces them.
    assert report["verify_available"] is True
    for e in (litert, numpy):
        v = e["verify"]
        assert v["ok"] is True and v["error"] is None and v["unit"] == "steps"
        assert v["largest_difference"] == 0 and v["seconds"] > 0
    text = render(report)
    fits(text)
    assert "not available" not in text
    assert "  litert: ok, largest difference 0 steps" in text
    assert "  numpy: ok, largest difference 0 steps" in text
    assert f"ms, digit {numpy['check']['digit']}" in text


def test_a_damaged_model_is_a_finding_not_a_failure(tiny: Path, tmp_path: Path) -> None:
    from test_damaged_model import HUGE_ROWS, with_rows

    bad = with_rows(tiny / "model_int8.tflite", tmp_path / "damaged.tflite", HUGE_ROWS)
    report = diagnose(bad, only=("numpy",))
    valid(report)
    check = entry(report, "numpy")["check"]
    assert check["ok"] is False and "over the cap" in check["error"]
    text = render(report)
    fits(text)
    assert "numpy on the model:" in text


def test_cli_json_and_exit_codes(tiny: Path, tmp_path: Path) -> None:
    model = tiny / "model_int8.onnx"
    proc = subprocess.run(
        [*CLI, "doctor", str(model), "-b", "onnxruntime", "--json", "-"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    valid(report)
    assert report["model"] == {"path": str(model), "format": "onnx"}
    onnx = entry(report, "onnxruntime")
    # Without onnxruntime (the floors environment) it is reported unusable and not checked.
    assert (onnx["check"] or {}).get("ok", False) is onnx["usable"]
    missing = subprocess.run(
        [*CLI, "doctor", str(tmp_path / "nope.tflite")], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "no such model file" in missing.stderr


def test_a_crashing_import_is_reported_not_fatal() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGILL)"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert _import_result(proc) == (
        None,
        "importing it crashed the process (SIGILL (an instruction this CPU lacks))",
    )


def _entry(name: str, **kw: Any) -> dict[str, Any]:
    base = {"name": name, "format": "tflite", "usable": False, "installed": False}
    return {**base, "wheel_here": False, "pip": None, **kw}


def test_recommendation_order() -> None:
    pip = wheels.BY_BACKEND["litert"].pip_line()
    bare = [
        _entry("litert", wheel_here=True, pip=pip),
        _entry("numpy", usable=True, installed=True),
    ]
    assert recommend(bare) == {
        "backend": "litert",
        "installed": False,
        "pip": "pip install 'ai-edge-litert>=1.2'",
        "why": "a wheel exists for this machine",
    }
    # A Pi Zero: nothing to install, the engine it is.
    assert recommend([_entry("litert"), _entry("numpy", usable=True, installed=True)]) == {
        "backend": "numpy",
        "installed": True,
        "pip": None,
        "why": "installed",
    }
    # TensorFlow is never advised for a device; no ONNX interpreter: None.
    assert recommend([_entry("tensorflow", wheel_here=True, pip="pip install tensorflow")]) is None
    assert recommend([_entry("onnxruntime", format="onnx")], "onnx") is None


def test_board_and_cpu_features_from_raspberry_pi_cpuinfo() -> None:
    pi4 = (CPUINFO / "pi4-cortex-a72").read_text()
    assert sysinfo.board(pi4) == "Raspberry Pi 4 Model B Rev 1.4"
    assert sysinfo.cpu_features("aarch64", pi4) == {
        "asimd": True,
        "asimddp": False,  # the Cortex-A72 has no int8 dot product (the Pi 5's A76 has)
        "i8mm": False,
        "fphp": False,
    }
    pi2 = (CPUINFO / "pi2-cortex-a7").read_text()
    assert sysinfo.cpu_features("armv7l", pi2) == {"neon": True, "vfpv4": True}
    zero = (CPUINFO / "pi-zero-arm1176").read_text()
    assert sysinfo.board(zero) == "Raspberry Pi Zero Rev 1.3"
    assert sysinfo.cpu_features("armv6l", zero) == {"vfp": True}
    assert sysinfo.cpu_features("riscv64", zero) is None


def test_wheel_rules() -> None:
    has = {w.backend: w for w in wheels.WHEELS}
    assert has["tflite-runtime"].has_wheel("Linux", "armv7l", (3, 11))
    assert not has["tflite-runtime"].has_wheel("Linux", "armv7l", (3, 13))
    assert not has["litert"].has_wheel("Linux", "armv7l", (3, 11))
    assert has["litert"].has_wheel("Darwin", "arm64", (3, 12))  # arm64 is aarch64
    assert has["onnxruntime"].has_wheel("Windows", "AMD64", (3, 13))
    assert has["numpy"].has_wheel("Linux", "armv6l", (3, 11))
    assert not any(w.has_wheel("Linux", "armv6l", (3, 11)) for w in wheels.WHEELS if w.requirement)
    assert has["tflite-runtime"].pip_line() == "pip install 'tflite-runtime>=2.14' 'numpy<2'"


def test_wheel_table_matches_backends_and_extras() -> None:
    from edge_mnist.runtime.backends import BACKENDS

    assert {w.backend for w in wheels.WHEELS} == set(BACKENDS)
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for extra, backend in (
        ("litert", "litert"),
        ("tflite", "tflite-runtime"),
        ("onnx", "onnxruntime"),
    ):
        assert tuple(extras[extra]) == wheels.BY_BACKEND[backend].requirement, extra


def test_readme_wheel_matrix_is_generated_from_the_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert wheels.render_into(readme) == readme, (
        "README.md's wheel matrix differs from runtime/wheels.py: "
        "python -m edge_mnist.runtime.wheels README.md"
    )


@pytest.mark.interpreter("litert", "tflite-runtime", "onnxruntime")
def test_an_interrupted_doctor_kills_its_import_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    # SIGTERM/Ctrl-C arrive as KeyboardInterrupt (doctor keeps the CLI's handlers, it is not
    # in ENDS_AT_ONCE); the probes are child processes that would otherwise run on for up
    # to IMPORT_TIMEOUT after the doctor is gone.
    import signal

    from edge_mnist.cli.signals import ENDS_AT_ONCE
    from edge_mnist.runtime import doctor

    assert "doctor" not in ENDS_AT_ONCE
    monkeypatch.setattr(doctor, "_IMPORT", "import time; time.sleep(60)")
    probes: list[subprocess.Popen[str]] = []
    start = doctor._start_import

    def recorded(spec: Any) -> subprocess.Popen[str] | None:
        proc = start(spec)
        if proc is not None:
            probes.append(proc)
        return proc

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(doctor, "_start_import", recorded)
    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with pytest.raises(KeyboardInterrupt):
            doctor.backends(QUICK)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert probes, "no interpreter installed to probe"
    assert all(p.poll() is not None for p in probes)
