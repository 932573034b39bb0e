"""A damaged model cannot hang or exhaust the device: the size check before any interpreter,
and device commands that end at once on SIGTERM even inside an interpreter's native code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from edge_mnist.runtime.backends import TFLITE, conflict, for_format, installed
from edge_mnist.runtime.classifier import Classifier
from edge_mnist.runtime.engine.bounds import CAP_ENV, DEFAULT_CAP, check_file, footprint
from edge_mnist.runtime.engine.flatbuffer import FlatBuffer
from edge_mnist.runtime.errors import ModelLoadError

pytestmark = pytest.mark.device

CLI = [sys.executable, "-m", "edge_mnist"]
# The input the damaged file in the bug report declared: 7,707,034,384 int8 elements.
HUGE_ROWS = 7_707_034_384 // 784


def with_rows(model: Path, out: Path, rows: int) -> Path:
    """A copy of ``model`` whose input tensor declares ``rows`` rows instead of 1: the four
    bytes of its shape vector, found with the engine's own reader."""
    data = bytearray(model.read_bytes())
    graph = FlatBuffer(bytes(data)).root("the model").tables(2, "subgraphs")[0]
    tensor = graph.tables(0, "tensors")[0]
    span = tensor.vector(0, 4, "the input shape")
    assert span is not None
    start, count = span
    assert np.frombuffer(bytes(data), "<i4", count, start).tolist() == [1, 784]
    data[start : start + 4] = np.int32(rows).tobytes()
    out.write_bytes(bytes(data))
    return out


def usable_tflite_backends() -> list[str]:
    return [s.name for s in for_format(TFLITE) if installed(s) and conflict(s) is None]


def test_the_exported_models_fit_far_below_the_cap(tiny_any: Path) -> None:
    for name in ("model_int8.tflite", "model_float32.tflite"):
        found = footprint((tiny_any / name).read_bytes())
        # The input (784 values) is the largest activation; the rest are a few dozen values.
        assert found.largest_bytes == 784 * (1 if "int8" in name else 4)
        assert 784 < found.arena_bytes < 8 * 1024 < DEFAULT_CAP


def test_a_declared_giant_input_is_refused_by_every_backend(tiny: Path, tmp_path: Path) -> None:
    bad = with_rows(tiny / "model_int8.tflite", tmp_path / "damaged.tflite", HUGE_ROWS)
    with pytest.raises(ModelLoadError, match=r"over the cap of 67,108,864 \(64 MiB\)"):
        check_file(bad)
    backends = usable_tflite_backends()
    assert "numpy" in backends
    for backend in backends:
        start = time.perf_counter()
        with pytest.raises(ModelLoadError) as caught:
            Classifier.load(bad, backend=backend)
        seconds = time.perf_counter() - start
        assert seconds < 1.0, (backend, seconds)
        assert f"tensor 0 ('serving_default_pixels:0') with shape [{HUGE_ROWS}, 784]" in str(
            caught.value
        ), backend
        assert CAP_ENV in str(caught.value.fix)


def test_the_cap_can_be_raised_and_is_checked(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 100,000 rows: 78.4 MB of input, over the default cap, under a raised one.
    bad = with_rows(tiny / "model_int8.tflite", tmp_path / "large.tflite", 100_000)
    with pytest.raises(ModelLoadError, match="over the cap"):
        check_file(bad)
    monkeypatch.setenv(CAP_ENV, "128")
    assert check_file(bad).largest_bytes == 100_000 * 784
    for raw in ("lots", "inf", "-inf", "nan", "-5", "0"):
        monkeypatch.setenv(CAP_ENV, raw)
        with pytest.raises(ModelLoadError, match="not a positive, finite number of MiB") as caught:
            check_file(bad)
        assert CAP_ENV in str(caught.value) and "e.g. 256" in str(caught.value.fix), raw


def test_an_infinite_cap_exits_2_naming_the_variable(tiny: Path) -> None:
    env = {**os.environ, CAP_ENV: "inf"}
    proc = subprocess.run(
        [*CLI, "info", str(tiny / "model_int8.tflite")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"{CAP_ENV}='inf'" in proc.stderr and "Traceback" not in proc.stderr


def test_info_on_a_damaged_model_exits_2_with_a_clear_message(tiny: Path, tmp_path: Path) -> None:
    bad = with_rows(tiny / "model_int8.tflite", tmp_path / "damaged.tflite", HUGE_ROWS)
    proc = subprocess.run([*CLI, "info", str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "would need" in proc.stderr and "over the cap" in proc.stderr
    assert "Traceback" not in proc.stderr


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@pytest.mark.slow
@pytest.mark.interpreter("litert")
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize("command", ["info", "predict"])
def test_sigterm_ends_a_command_busy_in_native_code_at_once(
    tiny: Path, tmp_path: Path, digit_pngs: tuple[Path, ...], command: str
) -> None:
    """With the cap raised, litert takes seconds allocating (and running) a 1.5 GB input inside
    native code; SIGTERM must still end the process within a second."""
    big = with_rows(tiny / "model_int8.tflite", tmp_path / "big.tflite", 2_000_000)
    args = [str(big), "-b", "litert"] + ([str(digit_pngs[0])] if command == "predict" else [])
    env = {**os.environ, CAP_ENV: "4096"}
    proc = subprocess.Popen(
        [*CLI, command, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    # Busy in native code: the interpreter has allocated some of its 1.5 GB.
    while _rss_mb(proc.pid) < 400 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    proc.wait(timeout=60)
    seconds = time.monotonic() - sent
    assert seconds < 1.0, seconds  # a Python handler waited some 4 s here for native code
    assert proc.returncode == -signal.SIGTERM  # the shell shows 143


def test_commands_that_end_at_once_still_write_their_json_under_handlers() -> None:
    from edge_mnist.cli import signals

    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        for s in saved:
            signal.signal(s, signal.SIG_DFL)
        signals.install_handlers("predict")
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        with signals.handled():  # the --json write: a signal unwinds and removes the temp file
            assert signal.getsignal(signal.SIGTERM) is signals._raise_interrupted
            assert signal.getsignal(signal.SIGHUP) is signals._raise_interrupted
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        signals.install_handlers("bench")  # keeps its handlers: reports and plots
        assert signal.getsignal(signal.SIGTERM) is signals._raise_interrupted
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
