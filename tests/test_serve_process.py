"""`python -m edge_mnist.runtime.serve` as a real process: startup, errors, SIGTERM and SIGINT."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.device

ROOT = Path(__file__).resolve().parents[1]


def start(args: list[str], cwd: Path | None = None) -> tuple[subprocess.Popen[str], str]:
    """Start a server on a free port; returns the process and its URL (from its first line)."""
    proc = subprocess.Popen(
        [sys.executable, *args, "--port", "0"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("serving "):
        proc.kill()
        pytest.fail(f"server did not start: {line!r} {proc.communicate()[1]}")
    return proc, line.rsplit(" ", 1)[1].strip()


def get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.interpreter("onnxruntime")
def test_signal_stops_the_server_cleanly(artifacts: Path, sig: signal.Signals) -> None:
    proc, url = start(["-m", "edge_mnist.runtime.serve", str(artifacts / "model_int8.onnx")])
    try:
        assert get_json(url + "health")["status"] == "ok"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    # Documented: both signals end the server with exit status 0, without a traceback.
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
    assert f"{sig.name} received: stopping" in err


def test_runs_from_a_copied_runtime_folder(artifacts: Path, tmp_path: Path) -> None:
    """The folder copied alone onto a board serves, page included (python -m runtime.serve)."""
    shutil.copytree(ROOT / "runtime", tmp_path / "runtime")
    model = tmp_path / "model_int8.tflite"
    shutil.copy(artifacts / "model_int8.tflite", model)
    proc, url = start(["-m", "runtime.serve", str(model), "--host", "0.0.0.0"], cwd=tmp_path)
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert b'<canvas id="pad"' in resp.read()
        health = get_json(url + "health")
        assert health["model"] == "model_int8.tflite"
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0
    # Binding every interface prints the security warning.
    assert "without an access token" in err and "no TLS" in err


def test_startup_errors_exit_2_with_a_fix(artifacts: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "edge_mnist.runtime.serve"]
    missing = subprocess.run(
        [*cmd, str(tmp_path / "nope.tflite")], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2 and missing.stderr.startswith("error: ")
    assert "Traceback" not in missing.stderr
    bad = subprocess.run(
        [*cmd, str(artifacts / "model_int8.tflite"), "--max-body", "lots"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "invalid size 'lots'" in bad.stderr
    nowhere = subprocess.run(
        [*cmd, str(artifacts / "model_int8.tflite"), "--port", "99999"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Refused by argparse itself, with the bounds (and words) Typer uses for 'edge-mnist serve'.
    assert nowhere.returncode == 2 and "99999 is not in the range 0<=x<=65535." in nowhere.stderr
    proc, url = start(["-m", "edge_mnist.runtime.serve", str(artifacts / "model_int8.tflite")])
    try:
        port = url.rsplit(":", 1)[1].strip("/")
        taken = subprocess.run(
            [*cmd, str(artifacts / "model_int8.tflite"), "--port", port],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ},
        )
        assert taken.returncode == 2
        assert f"cannot listen on 127.0.0.1:{port}" in taken.stderr and "fix: " in taken.stderr
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def test_cli_serve_loads_no_host_module(artifacts: Path) -> None:
    """`edge-mnist serve` is a device command: it serves, stops on SIGTERM with status 0, and
    never imports the host side (-X importtime lists every module the process loads)."""
    proc, url = start(
        ["-X", "importtime", "-m", "edge_mnist", "serve", str(artifacts / "model_int8.tflite")]
    )
    try:
        assert get_json(url + "health")["model"] == "model_int8.tflite"
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0
    loaded = {
        line.rsplit("|", 1)[1].strip()
        for line in err.splitlines()
        if line.startswith("import time:")
    }
    assert "edge_mnist.runtime.serve.server" in loaded and "edge_mnist.cli.serve" in loaded
    host = sorted(
        m
        for m in loaded
        if m.split(".")[0] in ("tensorflow", "keras", "tf2onnx", "onnx")
        or (m.startswith("edge_mnist.") and m.split(".")[1] not in ("cli", "runtime"))
    )
    assert host == []
