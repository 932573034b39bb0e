"""The manifest.json beside a model, as 'info' and 'predict' read it: missing, unreadable,
silent about the model, or listing another sha256."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edge_mnist.cli import app
from edge_mnist.runtime.artifacts import manifest_entry, manifest_mismatch

pytestmark = pytest.mark.device

runner = CliRunner()
MODEL = "model_int8.tflite"


@pytest.fixture
def folder(artifacts: Path, tmp_path: Path) -> Path:
    """A copy of the int8 model and the manifest written with it."""
    shutil.copyfile(artifacts / MODEL, tmp_path / MODEL)
    shutil.copyfile(artifacts / "manifest.json", tmp_path / "manifest.json")
    return tmp_path


def _edit_manifest(folder: Path, **changes: object) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["artifacts"][MODEL].update(changes)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _digit(folder: Path) -> Path:
    import numpy as np
    from PIL import Image

    canvas = np.zeros((28, 28), np.uint8)
    canvas[6:22, 12:16] = 255
    Image.fromarray(canvas).save(folder / "one.png")
    return folder / "one.png"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"artifacts": {', "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b'["a list"]', "is not a manifest"),
    ],
    ids=["truncated", "nested", "binary", "list"],
)
def test_info_reports_an_unreadable_manifest(folder: Path, content: bytes, reason: str) -> None:
    (folder / "manifest.json").write_bytes(content)
    lookup = manifest_entry(folder / MODEL)
    assert lookup.entry is None and lookup.problem is not None
    assert lookup.problem.startswith("unreadable:") and reason in lookup.problem

    result = runner.invoke(app, ["info", str(folder / MODEL)])
    assert result.exit_code == 0, result.output
    assert "unreadable" in result.output and "none beside the model" not in result.output
    facts = json.loads(runner.invoke(app, ["info", str(folder / MODEL), "--json", "-"]).stdout)
    assert facts["manifest"] is None and reason in facts["manifest_problem"]


def test_info_without_a_manifest_and_with_one_that_lacks_the_model(folder: Path) -> None:
    (folder / "manifest.json").unlink()
    result = runner.invoke(app, ["info", str(folder / MODEL), "--json", "-"])
    facts = json.loads(result.stdout)
    assert facts["manifest"] is None and facts["manifest_problem"] is None
    assert "none beside the model" in runner.invoke(app, ["info", str(folder / MODEL)]).output

    (folder / "manifest.json").write_text(json.dumps({"artifacts": {"other.onnx": {}}}))
    facts = json.loads(runner.invoke(app, ["info", str(folder / MODEL), "--json", "-"]).stdout)
    assert facts["manifest_problem"].endswith(f"does not list {MODEL}.")


def test_predict_warns_when_the_model_differs_from_its_manifest(folder: Path) -> None:
    image = _digit(folder)
    quiet = runner.invoke(app, ["predict", str(folder / MODEL), str(image)])
    assert quiet.exit_code == 0, quiet.output
    assert "warning" not in quiet.output
    assert manifest_mismatch(folder / MODEL) is None

    _edit_manifest(folder, sha256="0" * 64)
    result = runner.invoke(app, ["predict", str(folder / MODEL), str(image)])
    assert result.exit_code == 0, result.output  # a warning, not a failure
    assert f"warning: {MODEL}: sha256 " in result.stderr
    assert "differs from the 000000000000… in manifest.json beside it" in result.stderr
    assert "one.png" in result.stdout  # and it still classified
    info = json.loads(runner.invoke(app, ["info", str(folder / MODEL), "--json", "-"]).stdout)
    assert info["matches_manifest"] is False


def test_predict_warns_about_an_unreadable_manifest_only(folder: Path) -> None:
    image = _digit(folder)
    (folder / "manifest.json").write_text("{ not json")
    result = runner.invoke(app, ["predict", str(folder / MODEL), str(image)])
    assert result.exit_code == 0, result.output
    assert "warning: the manifest beside model_int8.tflite is unreadable" in result.stderr
    # A model copied alone, or one the manifest does not list, is not warned about.
    (folder / "manifest.json").unlink()
    alone = runner.invoke(app, ["predict", str(folder / MODEL), str(image)])
    assert alone.exit_code == 0 and alone.stderr == ""
