"""Tests for the robustness variations and report, on real MNIST digits and real models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge_mnist.errors import UsageError
from edge_mnist.robustness.report import (
    CLEAN,
    SCHEMA_FILE,
    pick_images,
    run_folder,
    run_variations,
    variation_rng,
)
from edge_mnist.robustness.variations import NAMES, VARIATIONS, Variation, crop_to_ink
from edge_mnist.runtime import Classifier
from edge_mnist.runtime.errors import InvalidInputError
from edge_mnist.runtime.labelled import labelled_files

pytestmark = pytest.mark.device

SAMPLE = 12


@pytest.fixture(scope="module")
def digits(test_images: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    images, labels = test_images
    return images[:SAMPLE].reshape(-1, 28, 28), labels[:SAMPLE]


def _outputs(v: Variation, images: np.ndarray, seed: int) -> list[np.ndarray]:
    return [v.apply(img, variation_rng(seed, v.name, i)) for i, img in enumerate(images)]


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("variation", VARIATIONS, ids=NAMES)
def test_variation_changes_every_image(variation: Variation, digits) -> None:  # type: ignore[no-untyped-def]
    images, _ = digits
    for img, out in zip(images, _outputs(variation, images, seed=0), strict=True):
        assert out.dtype == np.uint8
        assert out.ndim == 2
        assert min(out.shape) >= 8
        assert out.shape != img.shape or not np.array_equal(out, img)


@pytest.mark.parametrize("variation", VARIATIONS, ids=NAMES)
def test_variation_is_seeded(variation: Variation, digits) -> None:  # type: ignore[no-untyped-def]
    images, _ = digits
    first = _outputs(variation, images, seed=1)
    assert _same(first, _outputs(variation, images, seed=1))
    assert not _same(first, _outputs(variation, images, seed=2))


def test_variation_names_are_unique_and_cover_the_list() -> None:
    assert len(set(NAMES)) == len(NAMES)
    assert {"rotate-10", "rotate-20", "elastic", "jpeg-20", "inverted", "tight-crop"} <= set(NAMES)
    assert CLEAN not in NAMES


def test_crop_to_ink_touches_every_edge(digits) -> None:  # type: ignore[no-untyped-def]
    images, _ = digits
    crop = crop_to_ink(images[0], 4)
    ink = crop < 255
    assert ink[0].any() and ink[-1].any() and ink[:, 0].any() and ink[:, -1].any()
    framed = crop_to_ink(images[0], 4, margin=16)
    assert framed.shape == (crop.shape[0] + 32, crop.shape[1] + 32)
    assert (framed[:16] == 255).all()


def test_pick_images_is_seeded_and_checks_the_limit() -> None:
    assert np.array_equal(pick_images(100, None, 0), np.arange(100))
    assert np.array_equal(pick_images(100, 500, 0), np.arange(100))
    a = pick_images(10_000, 50, 3)
    assert len(a) == 50 and len(set(a.tolist())) == 50 and np.all(np.diff(a) > 0)
    assert np.array_equal(a, pick_images(10_000, 50, 3))
    assert not np.array_equal(a, pick_images(10_000, 50, 4))
    with pytest.raises(UsageError, match="--limit must be positive"):
        pick_images(10_000, 0, 0)


@pytest.fixture(scope="module")
def report(artifacts: Path, test_images: tuple[np.ndarray, np.ndarray]):  # type: ignore[no-untyped-def]
    clf = Classifier.load(artifacts / "model_int8.tflite")
    images, labels = test_images
    chosen = pick_images(len(labels), 200, 0)
    seen: list[tuple[str, int, int]] = []
    baseline, rows = run_variations(
        clf, images[chosen], labels[chosen], seed=0, progress=lambda *a: seen.append(a)
    )
    return clf, baseline, rows, seen


def test_report_rows_and_figures(report) -> None:  # type: ignore[no-untyped-def]
    _clf, baseline, rows, seen = report
    assert [r.name for r in rows] == list(NAMES)
    assert baseline.total == 200 and baseline.rejected == 0
    assert baseline.accuracy > 0.9
    by_name = {r.name: r for r in rows}
    # Inverting is undone exactly by the preprocessing; heavy rotation costs accuracy.
    assert abs(by_name["inverted"].accuracy - baseline.accuracy) <= 0.02
    assert by_name["rotate-20"].accuracy < baseline.accuracy
    assert by_name["tight-crop"].rejected == 0
    for r in rows:
        assert r.total == 200
        assert 0 <= r.correct <= r.total
    assert seen[-1] == (NAMES[-1], 200, 200)
    assert {s[0] for s in seen} == {CLEAN, *NAMES}


def test_report_json_matches_the_schema(report) -> None:  # type: ignore[no-untyped-def]
    jsonschema = pytest.importorskip("jsonschema")
    from edge_mnist.robustness.report import RobustnessReport

    _clf, baseline, rows, _ = report
    doc = RobustnessReport("m.tflite", "litert", 0, 200, baseline, rows).to_dict()
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(json.dumps(doc)), schema)
    assert doc["variations"][0]["delta_pp"] == pytest.approx(
        100 * (rows[0].accuracy - baseline.accuracy), abs=1e-3
    )
    broken = json.loads(json.dumps(doc))
    broken["variations"][0]["accuracy"] = 1.5
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_labelled_folder_by_name_and_by_subfolder(  # type: ignore[no-untyped-def]
    report, digits, tmp_path: Path
) -> None:
    clf, _baseline, _rows, _ = report
    images, labels = digits
    for i in range(6):
        Image.fromarray(255 - images[i]).save(tmp_path / f"scan{i}_{labels[i]}.png")
    for i in range(6, SAMPLE):
        folder = tmp_path / str(labels[i])
        folder.mkdir(exist_ok=True)
        Image.fromarray(images[i]).save(folder / f"img{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "unlabelled.png").write_bytes((tmp_path / "scan0_7.png").read_bytes())
    found = labelled_files(tmp_path)
    assert len(found) == SAMPLE
    assert sorted(label for _, label in found) == sorted(labels.tolist())
    row = run_folder(clf, tmp_path)
    assert row.total == SAMPLE and row.rejected == 0
    assert row.correct >= SAMPLE - 1


def test_folder_without_labels_is_an_input_error(tmp_path: Path) -> None:
    Image.new("L", (28, 28)).save(tmp_path / "digit.png")
    with pytest.raises(InvalidInputError, match="no labelled images") as info:
        labelled_files(tmp_path)
    assert info.value.exit_code == 2
    with pytest.raises(InvalidInputError, match="not a folder"):
        labelled_files(tmp_path / "digit.png")


def test_runtime_never_imports_scikit_learn(artifacts: Path, tmp_path: Path) -> None:
    Image.new("L", (40, 40), 255).save(tmp_path / "blank.png")
    code = (
        "import sys\n"
        "from PIL import Image, ImageDraw\n"
        "from edge_mnist.runtime import Classifier\n"
        "import edge_mnist.robustness\n"
        "im = Image.new('L', (60, 60), 255)\n"
        "ImageDraw.Draw(im).line([(30, 10), (30, 50)], fill=0, width=5)\n"
        f"print(Classifier.load({str(artifacts / 'model_int8.tflite')!r}).classify_image(im).digits)\n"
        "print('SKLEARN', sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "SKLEARN []" in proc.stdout


def test_scikit_learn_is_only_a_dev_dependency() -> None:
    tomllib = pytest.importorskip("tomllib")
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    if not pyproject.is_file():
        pytest.skip("pyproject.toml is not beside the tests")
    project = tomllib.loads(pyproject.read_text())["project"]
    assert not any("scikit-learn" in d for d in project["dependencies"])
    extras = project["optional-dependencies"]
    assert [name for name, deps in extras.items() if any("scikit-learn" in d for d in deps)] == [
        "dev"
    ]


# --- The command ------------------------------------------------------------------------------


@pytest.mark.interpreter("onnxruntime")
def test_robustness_command_writes_a_valid_report(  # type: ignore[no-untyped-def]
    artifacts: Path, mnist_dir: Path, digits, tmp_path: Path
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from typer.testing import CliRunner

    from edge_mnist.cli import app

    images, labels = digits
    folder = tmp_path / "mine"
    folder.mkdir()
    for i in range(SAMPLE):
        Image.fromarray(255 - images[i]).save(folder / f"d{i}_{labels[i]}.png")
    out = tmp_path / "report.json"
    args = [str(artifacts / "model_int8.onnx"), "--limit", "40", "--seed", "5"]
    args += ["--images", str(folder), "--json", str(out), "--data-dir", str(mnist_dir)]
    result = CliRunner().invoke(app, ["robustness", *args])
    assert result.exit_code == 0, result.output
    assert "tight-crop" in result.output and "rotate-20" in result.output
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, json.loads(SCHEMA_FILE.read_text()))
    assert doc["images"] == 40 and doc["seed"] == 5 and doc["backend"] == "onnxruntime"
    assert [r["name"] for r in doc["variations"]] == list(NAMES)
    assert doc["folders"][0]["images"] == SAMPLE and doc["folders"][0]["correct"] >= SAMPLE - 1


def test_robustness_command_refuses_an_unlabelled_folder(  # type: ignore[no-untyped-def]
    artifacts: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from edge_mnist.cli import app

    Image.new("L", (28, 28)).save(tmp_path / "digit.png")
    result = CliRunner().invoke(
        app, ["robustness", str(artifacts / "model_int8.tflite"), "--images", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "no labelled images" in result.output
