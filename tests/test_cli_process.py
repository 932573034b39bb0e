"""The command line as a real process: stopped by signals, writing into a closed pipe, and a
clean stderr on a good run."""

from __future__ import annotations

import importlib.util
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge_mnist.cli.signals import EXIT_BROKEN_PIPE

pytestmark = pytest.mark.device

CLI = [sys.executable, "-m", "edge_mnist"]


def _default_signals() -> None:
    # A CI runner or nohup may start us with signals ignored; the child must see the defaults.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def _start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_signals,
    )


def _wait_for(proc: subprocess.Popen[str], words: str, timeout: float) -> list[str]:
    """Read stderr lines until one holds ``words``; return them."""
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if words in line:
            return seen
    proc.kill()
    pytest.fail(f"never saw {words!r}; stderr: {''.join(seen)[-2000:]}")


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)],
    ids=["TERM", "HUP", "INT"],
)
def test_a_signal_stops_bench_cleanly(
    artifacts: Path, tmp_path: Path, signum: int, code: int
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    proc = _start(
        "bench",
        str(artifacts / "model_int8.tflite"),
        "--batch",
        "1",
        "--seconds",
        "30",
        "--json",
        str(out / "report.json"),
        cwd=tmp_path,
    )
    started = time.monotonic()
    _wait_for(proc, "runtime vs raw", timeout=120)  # the timing loop has started
    time.sleep(0.5)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert time.monotonic() - started < 60  # stopped, not run to the end
    assert proc.returncode == code, stderr
    name = signal.Signals(signum).name
    assert f"interrupted ({name})." in stderr
    assert "Traceback" not in stderr and "Aborted" not in stderr
    assert stdout == ""  # no half report
    assert list(out.iterdir()) == []  # no report and no temporary file


@pytest.mark.slow
def test_sigterm_during_export_leaves_no_file(artifacts: Path, tmp_path: Path) -> None:
    """Stopped while the converted model is being validated (its temporary file exists)."""
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("export needs TensorFlow")
    keras = artifacts / "model.keras"
    if not keras.is_file():
        pytest.skip(f"{keras} is missing")
    out = tmp_path / "out"
    proc = _start(
        "export", "--model", str(keras), "--format", "all", "--out", str(out), cwd=tmp_path
    )
    _wait_for(proc, "validating model_int8.tflite", timeout=300)
    proc.send_signal(signal.SIGTERM)
    _stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert "interrupted (SIGTERM)." in stderr and "Traceback" not in stderr
    left = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert left == [], left  # no model, no manifest, no temporary or lock file


def test_predict_into_a_closed_pipe_exits_141_quietly(artifacts: Path, mnist_dir: Path) -> None:
    images = next(mnist_dir.glob("t10k-images-idx3-ubyte*"))
    for extra in ([], ["--json", "-"]):
        proc = subprocess.Popen(
            [*CLI, "predict", str(artifacts / "model_int8.tflite"), str(images), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the first line is written
        stderr = proc.stderr.read().decode()
        proc.wait(timeout=120)
        assert proc.returncode == EXIT_BROKEN_PIPE == 141, (extra, stderr)
        assert stderr == "", (extra, stderr)


def test_predict_piped_into_head(artifacts: Path, mnist_dir: Path, tmp_path: Path) -> None:
    """The shell's own pipe: head stops reading after two lines of a long JSON listing."""
    workdir = tmp_path
    if shutil.which("bash") is None or shutil.which("head") is None:
        pytest.skip("needs bash and head")
    images = next(mnist_dir.glob("t10k-images-idx3-ubyte*"))
    command = " ".join(
        [
            *(f"'{a}'" for a in CLI),
            "predict",
            f"'{artifacts / 'model_int8.tflite'}'",
            f"'{images}'",
            "--limit 3000 --json - 2>stderr.txt | head -2; echo status=${PIPESTATUS[0]}",
        ]
    )
    proc = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=workdir,
        check=False,
    )
    lines = proc.stdout.splitlines()
    assert lines[0] == "{" and '"model"' in lines[1], proc.stdout
    # 141 when a write found the pipe closed; 0 when the kernel took the whole listing into the
    # pipe before head exited (the closed-pipe test above makes the first case certain).
    assert lines[-1] in ("status=0", f"status={EXIT_BROKEN_PIPE}"), proc.stdout
    assert (workdir / "stderr.txt").read_text() == ""


@pytest.mark.parametrize(
    "name", ["model_int8.tflite", "model_float32.tflite", "model_int8.onnx", "model_float32.onnx"]
)
def test_predict_leaves_stderr_empty_for_a_good_model(
    artifacts: Path, mnist_dir: Path, name: str
) -> None:
    from edge_mnist.runtime.backends import pick_backend
    from edge_mnist.runtime.errors import BackendUnavailableError

    try:
        pick_backend(name.rsplit(".", 1)[1])
    except BackendUnavailableError:
        pytest.skip(f"no interpreter for {name} here")
    images = next(mnist_dir.glob("t10k-images-idx3-ubyte*"))
    labels = next(mnist_dir.glob("t10k-labels-idx1-ubyte*"))
    proc = subprocess.run(
        [
            *CLI,
            "predict",
            str(artifacts / name),
            str(images),
            "--labels",
            str(labels),
            "--limit",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Accuracy:" in proc.stdout
    # No interpreter chatter (XNNPACK's INFO line), no warning: the manifest matches.
    assert proc.stderr == ""


def test_only_the_routine_native_line_is_dropped_from_stderr() -> None:
    code = (
        "import os\n"
        "from edge_mnist.runtime.backends.quiet import routine_lines_dropped\n"
        "with routine_lines_dropped():\n"
        "    os.write(2, b'INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n')\n"
        "    os.write(2, b'ERROR: something the user must see\\n')\n"
        "os.write(2, b'after\\n')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b"ERROR: something the user must see\nafter\n"
