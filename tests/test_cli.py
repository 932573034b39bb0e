"""The command line through typer's CliRunner, and import hygiene checked in child interpreters."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from edge_mnist.cli import app
from edge_mnist.data import ENV_DATA, ENV_MIRRORS, FILES

COMMANDS = ("data", "train", "compare", "export", "check", "pipeline")
SHAPES = {
    "X_train": (55_000, 784),
    "y_train": (55_000,),
    "X_valid": (5_000, 784),
    "y_valid": (5_000,),
    "X_test": (10_000, 784),
    "y_test": (10_000,),
}


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _assert_clean_failure(result: Result, code: int = 2) -> str:
    """A user error: the given exit code, an 'error:' line, no traceback; return the output."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "error:" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.splitlines()) <= 12, result.output
    return result.output


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- Help and data ---------------------------------------------------------------------------


def test_help_lists_every_command() -> None:
    result = _run("--help")
    assert result.exit_code == 0, result.output
    for command in COMMANDS:
        assert re.search(rf"^\W*{command}\s{{2,}}\S", result.output, re.MULTILINE), command


def test_no_arguments_shows_help() -> None:
    result = _run()
    assert "Usage" in result.output
    assert all(command in result.output for command in COMMANDS)


def test_data_prints_the_six_shapes(mnist_dir: Path) -> None:
    result = _run("data", "--data-dir", str(mnist_dir), "--no-download")
    assert result.exit_code == 0, result.output
    assert "verified" in result.output
    assert str(mnist_dir) in result.output
    for name, shape in SHAPES.items():
        assert re.search(rf"^{name}\s+{re.escape(str(shape))}\s*$", result.output, re.MULTILINE), (
            name
        )


def test_data_json_is_valid_json(mnist_dir: Path) -> None:
    result = _run("data", "--data-dir", str(mnist_dir), "--json", "-")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["shapes"] == {name: list(shape) for name, shape in SHAPES.items()}
    assert report["md5"] == {name: md5 for name, (md5, _size, _shape) in FILES.items()}
    assert report["source"] == f"{mnist_dir} (--data-dir)"


def test_data_uses_the_environment_variable(
    mnist_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_DATA, str(mnist_dir))
    result = _run("data", "--json", "-", "--no-download")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["source"] == f"{mnist_dir} (${ENV_DATA})"


def test_data_dir_option_beats_the_environment_variable(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_DATA, str(tmp_path))  # empty: would fail if it were used
    result = _run("data", "--data-dir", str(mnist_dir), "--json", "-", "--no-download")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["source"] == f"{mnist_dir} (--data-dir)"


def test_data_in_an_empty_folder_without_download_fails_cleanly(tmp_path: Path) -> None:
    output = _assert_clean_failure(_run("data", "--data-dir", str(tmp_path), "--no-download"))
    assert f"MNIST is not in {tmp_path}" in output
    assert "fix:" in output and f"${ENV_DATA}" in output
    assert list(tmp_path.iterdir()) == []


def test_data_download_with_unreachable_mirrors_fails_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_MIRRORS, f"http://127.0.0.1:{_closed_port()}/")
    monkeypatch.setenv("no_proxy", "*")
    output = _assert_clean_failure(_run("data", "--data-dir", str(tmp_path)))
    assert "could not download train-images-idx3-ubyte.gz" in output
    assert "refused" in output.lower()
    assert "fix:" in output and str(tmp_path) in output
    assert list(tmp_path.iterdir()) == []  # no partial downloads left


# --- train, export, check --------------------------------------------------------------------


def test_train_with_unknown_arch_names_the_known_ones(tmp_path: Path) -> None:
    output = _assert_clean_failure(
        _run("train", "--arch", "mlp-9x9", "--epochs", "1", "--out", str(tmp_path / "out"))
    )
    assert "mlp-9x9" in output
    for name in ("mlp-300x2", "mlp-800x2", "mlp-300x3"):
        assert name in output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [("--epochs", "0"), ("--learning-rate", "-0.1"), ("--dropout", "1.0")],
)
def test_train_with_invalid_values_fails_cleanly(tmp_path: Path, option: str, value: str) -> None:
    output = _assert_clean_failure(_run("train", option, value, "--out", str(tmp_path / "out")))
    assert option in output
    assert not (tmp_path / "out").exists()


def test_train_refuses_an_existing_model_without_force(mnist_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "model.keras").write_bytes(b"keep me")
    output = _assert_clean_failure(
        _run(
            "train",
            "--epochs",
            "1",
            "--quiet",
            "--out",
            str(tmp_path),
            "--data-dir",
            str(mnist_dir),
        )
    )
    assert "already exists" in output
    assert "--force" in output
    assert (tmp_path / "model.keras").read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]


def test_train_plain_with_extra_images_records_both(mnist_dir: Path, tmp_path: Path) -> None:
    """--plain brings back the notebook's recipe, an option beside it still applies, and the
    user's own digits are read, counted and recorded."""
    pytest.importorskip("tensorflow")
    from PIL import Image

    from edge_mnist.train import TrainConfig

    digits = tmp_path / "mine"
    (digits / "4").mkdir(parents=True)
    ink = np.zeros((28, 28), np.uint8)
    ink[4:24, 12:16] = 255
    Image.fromarray(255 - ink).save(digits / "tall_1.png")
    Image.fromarray(255 - np.roll(ink, 3, axis=1)).save(digits / "4" / "bar.png")
    out = tmp_path / "out"
    args = ["train", "--plain", "--epochs", "1", "-q", "--out", str(out)]
    result = _run(*args, "--extra-images", str(digits), "--data-dir", str(mnist_dir))
    assert result.exit_code == 0, result.output
    record = json.loads((out / "train.json").read_text())
    assert record["config"] == {
        **asdict(TrainConfig.plain(epochs=1)),
        "extra_images": str(digits),
    }
    assert record["config"]["augment"] is False and record["config"]["batch_size"] == 256
    extra = record["extra_images"]
    assert extra["images"] == 2 and extra["per_digit"][1] == extra["per_digit"][4] == 1
    assert extra["repeats"] == 1  # no augmentation to vary copies: the digits go in once
    # A folder that is not one fails before MNIST is read, with exit 2 and the layout to use.
    missing = str(tmp_path / "no")
    bad = _assert_clean_failure(
        _run(*args, "--force", "--extra-images", missing, "--data-dir", missing)
    )
    assert "--extra-images" in bad and "0 to 9" in bad


def test_export_with_a_bogus_format_fails_cleanly(tmp_path: Path) -> None:
    output = _assert_clean_failure(
        _run(
            "export",
            "--format",
            "bogus",
            "--model",
            str(tmp_path / "model.keras"),
            "--out",
            str(tmp_path / "out"),
        )
    )
    assert "bogus" in output
    assert "tflite" in output and "onnx" in output
    assert not (tmp_path / "out").exists()


def test_check_on_an_empty_folder_fails_cleanly(tmp_path: Path) -> None:
    output = _assert_clean_failure(_run("check", "--artifacts", str(tmp_path)))
    assert "manifest.json" in output
    assert "export" in output


# --- Entry points ----------------------------------------------------------------------------


def test_console_script_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "edge-mnist"
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable}")
    result = subprocess.run(
        [str(script), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for command in COMMANDS:
        assert command in result.stdout


def test_python_dash_m_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "edge_mnist", "check", "--artifacts", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "error:" in result.stderr and "manifest.json" in result.stderr
    assert "Traceback" not in result.stderr


# --- Long-running commands, kept short -------------------------------------------------------


def test_compare_prints_the_selection_table_and_json(mnist_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    out = tmp_path / "compare.json"
    result = _run(
        "compare",
        "--arch",
        "mlp-300x2",
        "--arch",
        "mlp-300x3",
        "--epochs",
        "1",
        "--data-dir",
        str(mnist_dir),
        "--json",
        str(out),
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["rows"]
    assert [r["arch"] for r in rows] == ["mlp-300x2", "mlp-300x3"]
    assert [r["parameters"] for r in rows] == [328_810, 419_110]
    assert all(r["epochs_run"] == 1 and r["validation_accuracy"] > 0.9 for r in rows)
    best = max(rows, key=lambda r: r["validation_accuracy"])
    assert [r["best"] for r in rows] == [r is best for r in rows]
    assert f"{best['arch']} *" in result.stdout


def test_pipeline_runs_every_stage_and_passes_the_gate(mnist_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    out = tmp_path / "artifacts"
    result = _run(
        "pipeline", "--out", str(out), "--epochs", "1", "--data-dir", str(mnist_dir), "--quiet"
    )
    assert result.exit_code == 0, result.output
    for name in (
        "model.keras",
        "train.json",
        "manifest.json",
        "model_int8.tflite",
        "model_int8.onnx",
        "model_int8.c",
        "model_int8.h",
    ):
        assert (out / name).is_file(), name
    assert "Pipeline passed" in result.stdout
    for stage in ("data", "train", "export", "check", "total"):
        assert re.search(rf"{stage} \d+\.\ds", result.stdout), stage


def test_pipeline_rejects_a_bad_gate_limit_before_training(tmp_path: Path) -> None:
    out = tmp_path / "artifacts"
    output = _assert_clean_failure(_run("pipeline", "--out", str(out), "--max-drop", "nan"))
    assert "--max-drop" in output
    assert not out.exists()


@pytest.mark.slow
def test_pipeline_strict_fails_on_a_model_file_it_did_not_write(
    mnist_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("tensorflow")
    out = tmp_path / "artifacts"
    out.mkdir()
    (out / "model_old.tflite").write_bytes(b"left over from another run")
    args = ["pipeline", "--out", str(out), "--epochs", "1", "--data-dir", str(mnist_dir), "-q"]
    result = _run(*args, "--strict")
    assert result.exit_code == 1, result.output
    assert "model_old.tflite: in the folder but not in the manifest" in result.stderr
    assert "error: the accuracy gate failed" in result.stderr
    assert "Pipeline passed" not in result.stdout
    # Every artifact was still written and gated; only the stray file fails the gate.
    assert (out / "model_int8.tflite").is_file() and (out / "manifest.json").is_file()
