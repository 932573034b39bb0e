"""The host's side: the project's wheel, and the x86-64 reference every row's digits are held to."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .digits import Reference, parse_predict, predict_cmd
from .proc import log, run, tail
from .settings import ROOT, Settings


def build_wheel(work: Path) -> Path:
    dist = work / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    proc = run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)]
    )
    wheels = sorted(dist.glob("edge_mnist-*.whl"))
    if proc.returncode or not wheels:
        sys.exit(f"building the project's wheel failed:\n{tail(proc.stderr)}")
    return wheels[0]


def copy_tests(work: Path) -> None:
    """The tests and pyproject (pytest's configuration), bound into every guest as /opt/in/src."""
    shutil.rmtree(work / "src", ignore_errors=True)
    shutil.copytree(
        ROOT / "tests", work / "src/tests", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", work / "src/pyproject.toml")


def host_venv(work: Path, wheel: Path) -> Path:
    """The host's reference: the same wheel with every interpreter (numpy < 2 for tflite-runtime)."""
    venv = work / "host-venv"
    if not (venv / "bin" / "edge-mnist").exists():
        run([sys.executable, "-m", "venv", str(venv)], check=True)
    # The wheel's version does not change between runs: force this build in, then its extras.
    run([str(venv / "bin/pip"), "install", "-q", "--force-reinstall", "--no-deps", str(wheel)])
    proc = run([str(venv / "bin/pip"), "install", "-q", f"{wheel}[litert,onnx,tflite]", "numpy<2"])
    if proc.returncode:
        sys.exit(f"installing the host reference failed:\n{tail(proc.stderr)}")
    return venv


def host_reference(venv: Path, settings: Settings, pairs: set[tuple[str, str]]) -> Reference:
    """Each (backend, model) on the host's test set: its prediction, or why there is none."""
    ref: Reference = {}
    for backend, model in sorted(pairs):
        cmd = predict_cmd(
            model,
            backend,
            str(settings.artifacts),
            str(settings.data),
            settings.images,
            settings.labels,
        )
        cmd[0] = str(venv / "bin/edge-mnist")
        proc = run(cmd)
        if proc.returncode:
            reason = tail(proc.stderr or proc.stdout, 3)
            ref[backend, model] = reason
            log(f"host {backend} {model}: unavailable ({reason})")
            continue
        prediction = parse_predict(proc.stdout)
        ref[backend, model] = prediction
        log(f"host {backend} {model}: accuracy {prediction.accuracy:.2%}")
    return ref
