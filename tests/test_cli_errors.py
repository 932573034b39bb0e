"""How the command line reports what goes wrong: usage errors, bugs (exit 3), and messages that
hold square brackets (console markup must not eat them)."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from edge_mnist.cli import app
from edge_mnist.cli.app import DEBUG_ENV, EXIT_INTERNAL, run

pytestmark = pytest.mark.device

runner = CliRunner()


@pytest.fixture
def keep_signals() -> Iterator[None]:
    """run() installs handlers for SIGTERM and SIGHUP: give pytest its own back afterwards."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


# --- usage errors through the group's error mapping -------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["predict", "--bogus"], r"no such option:? '?--bogus"),
        (["info", "m.tflite", "--bogus"], r"no such option:? '?--bogus"),
        (["info"], r"missing argument 'model'"),
        (["bench", "diff", "a.json"], r"missing argument 'new'"),
        (["frobnicate"], r"no such command 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2_with_the_problem(
    args: list[str], words: str, capsys: pytest.CaptureFixture[str], keep_signals: None
) -> None:
    # Click and typer releases differ in case and punctuation ("No such option: --x" and
    # "No such option '--x'.").
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert re.search(words, result.output.lower()), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    # The console-script path (run()) builds a named command alone: same result.
    with pytest.raises(SystemExit) as exited:
        run(args)
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert re.search(words, captured.err.lower()) and "Traceback" not in captured.err


def test_usage_error_in_a_real_process_has_no_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "edge_mnist", "predict", "--bogus"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert re.search(r"no such option:? '?--bogus", proc.stderr.lower()), proc.stderr
    assert "Traceback" not in proc.stderr


# --- a bug: exit 3, or the traceback with EDGE_MNIST_DEBUG ------------------------------------


def _broken_describe(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("describe fell over [inside]")


def test_an_unexpected_exception_is_exit_3_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import edge_mnist.runtime.describe

    monkeypatch.delenv(DEBUG_ENV, raising=False)
    monkeypatch.setattr(edge_mnist.runtime.describe, "describe", _broken_describe)
    result = runner.invoke(app, ["info", "whatever.tflite"])
    assert result.exit_code == EXIT_INTERNAL == 3, result.output
    assert "internal error: RuntimeError: describe fell over [inside]" in result.output
    assert f"This is a bug in edge-mnist. Run again with {DEBUG_ENV}=1" in result.output
    assert "Traceback" not in result.output


def test_the_debug_variable_lets_the_exception_through(monkeypatch: pytest.MonkeyPatch) -> None:
    import edge_mnist.runtime.describe

    monkeypatch.setenv(DEBUG_ENV, "1")
    monkeypatch.setattr(edge_mnist.runtime.describe, "describe", _broken_describe)
    result = runner.invoke(app, ["info", "whatever.tflite"])
    assert isinstance(result.exception, RuntimeError)
    assert str(result.exception) == "describe fell over [inside]"
    assert "internal error" not in result.output


# --- square brackets survive -------------------------------------------------------------------

# Runs the CLI with an interpreter package made unimportable (as if not installed).
_WITHOUT = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None
from edge_mnist.cli import main
sys.argv = ["edge-mnist", *sys.argv[2:]]
main()
"""


def _without(modules: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT, modules, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_install_hints_keep_their_brackets(artifacts: Path) -> None:
    litert = _without(
        "ai_edge_litert", "info", str(artifacts / "model_int8.tflite"), "--backend", "litert"
    )
    assert litert.returncode == 2, litert.stderr
    assert "error: backend 'litert' is not installed." in litert.stderr
    assert "fix: pip install ai-edge-litert (or 'edge-mnist[litert]')" in litert.stderr
    onnx = _without("onnxruntime", "predict", str(artifacts / "model_int8.onnx"), "x.png")
    assert onnx.returncode == 2, onnx.stderr
    assert "no interpreter for onnx models is installed" in onnx.stderr
    assert "'edge-mnist[onnx]'" in onnx.stderr


def test_file_names_with_brackets_are_printed_whole(artifacts: Path, tmp_path: Path) -> None:
    # Letters inside the brackets: rich would read "[v1]" as a style tag ("[1]" it leaves alone).
    model = tmp_path / "m[v1].tflite"
    shutil.copyfile(artifacts / "model_int8.tflite", model)
    image = tmp_path / "digit[seven].png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(image)
    bad = tmp_path / "bad[x].png"
    bad.write_text("not an image")

    result = runner.invoke(app, ["predict", str(model), str(image), str(bad)])
    assert result.exit_code == 2, result.output
    assert "m[v1].tflite on " in result.output  # the table's title
    assert "digit[seven].png" in result.output
    assert "bad[x].png" in result.output and "error:" in result.output

    info = runner.invoke(app, ["info", str(model)])
    assert info.exit_code == 0, info.output
    assert "m[v1].tflite" in info.output

    missing = runner.invoke(app, ["info", str(tmp_path / "gone[old].tflite")])
    assert missing.exit_code == 2
    assert "gone[old].tflite: no such model file" in missing.output
