"""edge-mnist predict and info on real image files, IDX files and bad inputs, without TensorFlow."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from edge_mnist.cli import app

pytestmark = pytest.mark.device

runner = CliRunner()
COUNT = 200


def _variant(img: np.ndarray, kind: str) -> Image.Image:
    """An MNIST test digit turned into the kind of file a user would have."""
    gray = Image.fromarray(img)
    if kind == "png":
        return gray
    if kind == "inverted":
        return Image.fromarray(255 - img)
    if kind == "rgb":
        return Image.fromarray(np.stack([img, img // 2, img], axis=-1))
    if kind == "large":
        return gray.resize((112, 112), Image.Resampling.BICUBIC)
    if kind == "offcentre":
        canvas = Image.new("L", (160, 120), 0)
        canvas.paste(gray, (110, 70))
        return canvas
    raise ValueError(kind)


@pytest.fixture(scope="module")
def variants(tmp_path_factory, test_images):
    images, labels = test_images
    root = tmp_path_factory.mktemp("variants")
    for kind in ("png", "inverted", "rgb", "jpeg", "large", "offcentre"):
        folder = root / kind
        folder.mkdir()
        for i in range(COUNT):
            img = images[i].reshape(28, 28)
            if kind == "jpeg":
                _variant(img, "png").save(folder / f"{i:04d}.jpg", quality=95)
            else:
                _variant(img, kind).save(folder / f"{i:04d}.png")
    return root, labels[:COUNT]


@pytest.mark.parametrize("kind", ["png", "inverted", "rgb", "jpeg", "large", "offcentre"])
def test_predict_classifies_image_folders(artifacts, variants, kind):
    root, labels = variants
    result = runner.invoke(
        app, ["predict", str(artifacts / "model_int8.tflite"), str(root / kind), "--json", "-"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["count"] == COUNT and report["errors"] == 0
    digits = np.array([item["digit"] for item in report["items"]])
    accuracy = float(np.mean(digits == labels))
    # Two-epoch test model; the full pipeline's model reaches more (see the README).
    assert accuracy >= 0.94, f"{kind}: {accuracy:.2%}"


def test_predict_text_output_is_one_aligned_line_per_input(artifacts, variants):
    root = variants[0]
    files = sorted((root / "png").iterdir())[:5]
    model = str(artifacts / "model_int8.tflite")
    text = runner.invoke(app, ["predict", model, *map(str, files)])
    assert text.exit_code == 0, text.output
    as_json = json.loads(
        runner.invoke(app, ["predict", model, *map(str, files), "--json", "-"]).stdout
    )
    title, header, *rows = text.stdout.splitlines()
    assert title.startswith("model_int8.tflite on ")
    assert re.split(r"\s{2,}", header) == ["input", "digit", "confidence", "top 3"]
    assert len(rows) == len(files)
    for row, path, item in zip(rows, files, as_json["items"], strict=True):
        source, digit, confidence, *top3 = re.split(r"\s{2,}", row)
        assert (source, int(digit)) == (str(path), item["digit"])
        assert float(confidence.removesuffix("%")) == pytest.approx(
            100 * item["confidence"], abs=0.05
        )
        assert top3[0] == f"{item['digit']}:{confidence}"  # one format for a confidence
    # Columns line up: every digit ends where the header's "digit" does.
    end = header.index("digit") + len("digit")
    assert all(row[end - 1].isdigit() and row[end] == " " for row in rows)


def test_predict_text_output_shows_a_name_that_is_not_utf8(artifacts, tmp_path):
    name = os.fsdecode(b"d\xffigit.png")  # a byte that is not UTF-8: a surrogate in Python
    canvas = np.zeros((28, 28), np.uint8)
    canvas[4:24, 13:16] = 255
    Image.fromarray(canvas).save(tmp_path / name)
    result = runner.invoke(app, ["predict", str(artifacts / "model_int8.tflite"), str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "d\\udcffigit.png" in result.stdout


@pytest.mark.interpreter("onnxruntime")
def test_predict_idx_with_labels_prints_accuracy(artifacts, mnist_dir, test_images):
    import onnxruntime as ort

    images = next(mnist_dir.glob("t10k-images-idx3-ubyte*"))
    labels = next(mnist_dir.glob("t10k-labels-idx1-ubyte*"))
    result = runner.invoke(
        app,
        [
            "predict",
            str(artifacts / "model_int8.onnx"),
            str(images),
            "--labels",
            str(labels),
            "--limit",
            "2000",
        ],
    )
    assert result.exit_code == 0, result.output
    printed = re.search(r"Accuracy: ([0-9.]+)% on 2000 images\.", result.stdout)
    assert printed, result.stdout
    # The same file through the raw onnxruntime session on the same 2000 images.
    x, y = test_images
    session = ort.InferenceSession(str(artifacts / "model_int8.onnx"))
    probs = session.run(None, {"pixels": x[:2000].astype(np.float32) / np.float32(255)})[0]
    expected = float(np.mean(probs.argmax(axis=1) == y[:2000])) * 100
    assert float(printed.group(1)) == pytest.approx(expected, abs=0.005 + 1e-9)
    assert expected > 90


def test_predict_rejects_images_given_as_labels(artifacts, mnist_dir):
    images = next(mnist_dir.glob("t10k-images-idx3-ubyte*"))
    result = runner.invoke(
        app, ["predict", str(artifacts / "model_int8.tflite"), str(images), "--labels", str(images)]
    )
    assert result.exit_code == 2
    assert "not an IDX labels file" in result.output and "Traceback" not in result.output


def test_predict_corrupt_gzip_input_is_a_bad_image(artifacts, tmp_path):
    bad = tmp_path / "digits.gz"
    bad.write_bytes(b"\x1f\x8b" + bytes(range(200)))
    result = runner.invoke(
        app, ["predict", str(artifacts / "model_int8.tflite"), str(bad), "--json", "-"]
    )
    assert result.exit_code == 2
    assert json.loads(result.stdout)["errors"] == 1


def test_predict_reports_a_text_file_as_a_bad_image(artifacts, tmp_path):
    bad = tmp_path / "note.png"
    bad.write_text("not an image")
    result = runner.invoke(app, ["predict", str(artifacts / "model_int8.tflite"), str(bad)])
    assert result.exit_code == 2
    assert "not an image" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: Image.new("L", (1, 1), 255).save(p), "small"),
        (lambda p: Image.new("L", (64, 64), 255).save(p), "no digit"),
    ],
)
def test_predict_bad_images(artifacts, tmp_path, make, words):
    path = tmp_path / "img.png"
    make(path)
    result = runner.invoke(
        app, ["predict", str(artifacts / "model_int8.tflite"), str(path), "--json", "-"]
    )
    assert result.exit_code == 2
    assert words in json.loads(result.stdout)["items"][0]["error"]


def test_predict_missing_input_and_model(artifacts, tmp_path):
    result = runner.invoke(
        app, ["predict", str(artifacts / "model_int8.tflite"), str(tmp_path / "none.png")]
    )
    assert result.exit_code == 2 and "no such file" in result.output
    result = runner.invoke(app, ["predict", str(tmp_path / "none.tflite"), str(tmp_path)])
    assert result.exit_code == 2 and "no such model file" in result.output


def test_info_shows_quantization_and_manifest(artifacts):
    result = runner.invoke(app, ["info", str(artifacts / "model_int8.tflite"), "--json", "-"])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)
    assert facts["input"]["dtype"] == "int8" and facts["input"]["zero_point"] == -128
    assert facts["manifest"]["precision"] == "int8"
    assert facts["matches_manifest"] is True
    assert facts["size_bytes"] == (artifacts / "model_int8.tflite").stat().st_size


def test_info_text_output_is_a_field_a_line(artifacts):
    model = artifacts / "model_int8.tflite"
    result = runner.invoke(app, ["info", str(model)])
    assert result.exit_code == 0, result.output
    title, *rows = result.stdout.splitlines()
    fields = dict(re.split(r"\s{2,}", row, maxsplit=1) for row in rows)
    assert title == str(model)
    assert fields["format"] == "tflite"
    assert fields["size"] == f"{model.stat().st_size:,} bytes"
    assert "int8 (-1, 784)" in fields["input"] and "zero point -128" in fields["input"]
    assert fields["manifest"].startswith("int8 tflite, test accuracy ")
    assert fields["manifest"].endswith("sha256 matches")


def test_device_commands_load_no_tensorflow(artifacts, tmp_path):
    image = tmp_path / "seven.png"
    canvas = np.zeros((28, 28), np.uint8)
    canvas[6:22, 12:16] = 255
    Image.fromarray(canvas).save(image)
    code = (
        "import sys\n"
        "from edge_mnist.cli import app\n"
        "import edge_mnist.runtime\n"
        "for argv in (['predict', '--help'], ['predict', sys.argv[1], sys.argv[2]], ['info', sys.argv[1]]):\n"
        "    try:\n"
        "        app(argv)\n"
        "    except SystemExit as e:\n"
        "        assert e.code in (0, None), (argv, e.code)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf2onnx'))\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(artifacts / "model_int8.tflite"), str(image)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "HEAVY []" in proc.stdout


@pytest.mark.interpreter("onnxruntime")
def test_runtime_folder_works_copied_alone(artifacts, tmp_path):
    import shutil

    import edge_mnist.runtime as rt

    shutil.copytree(
        Path(rt.__file__).parent, tmp_path / "runtime", ignore=shutil.ignore_patterns("__pycache__")
    )
    code = (
        "import sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from runtime import Classifier\n"
        "import numpy as np\n"
        "print(Classifier.load(sys.argv[2]).predict(np.zeros((2, 784), np.uint8)).digits.shape)\n"
        "print('PROJECT', sorted(m for m in sys.modules if m.startswith('edge_mnist')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path), str(artifacts / "model_int8.onnx")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "(2,)" in proc.stdout and "PROJECT []" in proc.stdout
