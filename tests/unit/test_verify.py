"""Golden vectors and `edge-mnist verify` on the tiny models: read back from every format, exit 0
on every installed backend, 1 for a model whose weights changed after export (sha256 fixed up
so only the arithmetic tells), 2 for a file without golden vectors; --rounding wiring."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from edge_mnist.cli import app
from edge_mnist.runtime import Classifier
from edge_mnist.runtime.artifacts import MANIFEST_FILE, MODEL_FILES, file_sha256
from edge_mnist.runtime.cliopts import ROUNDING_HELP
from edge_mnist.runtime.engine import ROUNDINGS, Engine
from edge_mnist.runtime.errors import InvalidInputError
from edge_mnist.runtime.golden import (
    GOLDEN_KEY,
    GoldenError,
    GoldenVectors,
    golden_blob,
    onnx_entry,
    read_golden,
    select_inputs,
)
from edge_mnist.runtime.verify import verify

runner = CliRunner()
INT8 = "model_int8.tflite"


@pytest.mark.parametrize("name", MODEL_FILES)
def test_every_exported_file_carries_golden_vectors(tiny_any: Path, name: str) -> None:
    golden = read_golden(tiny_any / name)
    assert golden is not None
    assert golden.count == 16 and golden.inputs.dtype == np.uint8
    listed = json.loads((tiny_any / MANIFEST_FILE).read_text())["artifacts"][name]["golden"]
    assert listed["variants"] == list(golden.variants)
    assert 2000 < listed["bytes"] < 6000  # "a few KB"
    if name == INT8:
        assert golden.variants == ROUNDINGS and golden.dtype == "int8"
        assert golden.tolerance == 0
    elif name.endswith(".onnx"):
        assert golden.variants == ("onnxruntime",)
    else:
        assert golden.variants == ("float",) and golden.tolerance == 1e-5


def test_int8_expectations_are_the_engine_variants_outputs(tiny_any: Path) -> None:
    golden = read_golden(tiny_any / INT8)
    assert golden is not None
    for rounding in ROUNDINGS:
        clf = Classifier.load(tiny_any / INT8, rounding=rounding)
        got = clf.backend.run(clf.prepare(golden.inputs))
        np.testing.assert_array_equal(got, golden.expected[rounding])


def test_blob_round_trip_and_damage() -> None:
    rng = np.random.default_rng(0)
    golden = GoldenVectors(
        rng.integers(0, 256, (4, 784), dtype=np.uint8),
        {"litert": rng.integers(-128, 128, (4, 10)).astype(np.int8)},
        machine="x86_64",
        picks=("margin",) * 4,
    )
    blob = golden.to_bytes()
    back = GoldenVectors.from_bytes(blob)
    np.testing.assert_array_equal(back.inputs, golden.inputs)
    np.testing.assert_array_equal(back.expected["litert"], golden.expected["litert"])
    assert back.picks == golden.picks and back.machine == "x86_64"
    with pytest.raises(GoldenError, match="damaged"):
        GoldenVectors.from_bytes(blob[:-5])
    with pytest.raises(GoldenError, match="header"):
        GoldenVectors.from_bytes(b"nope" + blob[4:])


def test_select_inputs_takes_disagreements_then_margins_then_ordinary() -> None:
    n = 100
    a = np.zeros((n, 10), np.int8)
    a[:, 0] = np.arange(n) + 20  # margin grows with the index...
    a[57, 0] = 1  # ...except here: the smallest margin
    b = a.copy()
    b[[80, 90], 3] = 5  # the variants disagree on two inputs
    index, picks = select_inputs({"x": a, "y": b}, 8)
    assert list(index[:3]) == [80, 90, 57]
    assert picks[:2] == ("disagree", "disagree") and picks.count("margin") == 4
    assert picks[-2:] == ("ordinary", "ordinary") and len(set(index.tolist())) == 8
    again, _ = select_inputs({"x": a, "y": b}, 8)
    np.testing.assert_array_equal(index, again)  # deterministic


def test_verify_passes_on_every_installed_backend(tiny_any: Path) -> None:
    for name in MODEL_FILES:
        report = verify(tiny_any / name)
        assert report.ok, [c for c in report.checks if not c.ok]
        if name == INT8:  # the engine is held to each variant
            numpy_checks = [c.expected for c in report.checks if c.backend == "numpy"]
            assert numpy_checks == list(ROUNDINGS)


@pytest.mark.interpreter("litert")
def test_verify_holds_litert_to_its_variant(tiny: Path) -> None:
    report = verify(tiny / INT8, backend="litert")
    assert [(c.backend, c.expected, c.ok) for c in report.checks] == [("litert", "litert", True)]


def _tampered(tiny: Path, folder: Path) -> Path:
    """A copy of the int8 model with one weight of the logits layer changed where golden vector 0
    reads it, and the manifest's sha256 rewritten to match (only the arithmetic can tell)."""
    for name in (INT8, MANIFEST_FILE):
        shutil.copy(tiny / name, folder / name)
    path = folder / INT8
    source = path.read_bytes()
    engine = Engine.from_bytes(source)  # constant tensors are views into ``source``
    golden = read_golden(path)
    assert golden is not None
    hidden = engine.layers((golden.inputs[:1].astype(np.int16) - 128).astype(np.int8))[-3]
    unit = int(np.argmax(hidden.values[0]))  # the most active unit feeding the logits
    logits = engine.model.operators[-2]
    assert logits.name == "FULLY_CONNECTED"
    weights = engine.model.tensors[logits.inputs[1]].data
    assert weights is not None and weights.dtype == np.int8
    digit = int(np.argmax(golden.expected["litert"][0]))
    offset = weights.ctypes.data - np.frombuffer(source, np.uint8).ctypes.data
    at = offset + digit * weights.shape[1] + unit
    data = bytearray(source)
    data[at] = (data[at] + 100) % 256  # the weight from that unit into the predicted digit
    path.write_bytes(bytes(data))
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest["artifacts"][INT8]["sha256"] = file_sha256(path)
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    return path


def test_verify_exits_1_for_weights_changed_after_export(tiny: Path, tmp_path: Path) -> None:
    path = _tampered(tiny, tmp_path)
    result = runner.invoke(app, ["verify", str(path), "-b", "numpy"])
    assert result.exit_code == 1, result.output
    assert "numpy did not reproduce the golden vectors" in result.output
    assert "vector" in result.output and "largest difference" in result.output
    # The model still loads and classifies: nothing but the golden vectors shows the change.
    assert Classifier.load(path, backend="numpy").predict(np.zeros(784, np.uint8)).digits.shape


def test_verify_exits_2_for_a_file_without_golden_vectors(tiny: Path, tmp_path: Path) -> None:
    tflite = tmp_path / INT8
    tflite.write_bytes((tiny / INT8).read_bytes().replace(GOLDEN_KEY.encode(), b"x" * 17))
    onnx = tmp_path / "model_int8.onnx"
    data = (tiny / "model_int8.onnx").read_bytes()
    blob = golden_blob(tiny / "model_int8.onnx")
    assert blob is not None and data.endswith(onnx_entry(blob))
    onnx.write_bytes(data[: -len(onnx_entry(blob))])  # the file as the converter wrote it
    for path in (tflite, onnx):
        assert read_golden(path) is None
        result = runner.invoke(app, ["verify", str(path)])
        assert result.exit_code == 2, result.output
        assert "no golden vectors" in result.output and "edge-mnist export" in result.output


def test_verify_json_and_text_width(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "verify.json"
    result = runner.invoke(app, ["verify", str(tiny / INT8), "-b", "numpy", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["ok"] is True
    assert [c["expected"] for c in report["checks"]] == list(ROUNDINGS)
    assert all(c["largest_difference"] == 0 for c in report["checks"])
    args = ["verify", str(tiny / INT8), "--rounding", "tflm"]
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    assert max(len(line) for line in text.output.splitlines()) <= 80
    assert [line.split()[2] for line in text.output.splitlines()[3:]] == ["tflm"]
    stdout = runner.invoke(app, [*args, "--json", "-"])
    checks = json.loads(stdout.stdout)["checks"]
    assert [(c["backend"], c["expected"], c["ok"]) for c in checks] == [("numpy", "tflm", True)]


def test_rounding_means_the_numpy_engine(tiny: Path) -> None:
    clf = Classifier.load(tiny / INT8, rounding="tflm")
    assert clf.info.backend == "numpy" and clf.backend.engine.rounding == "tflm"  # type: ignore[attr-defined]
    with pytest.raises(InvalidInputError, match="numpy backend only"):
        Classifier.load(tiny / INT8, backend="litert", rounding="tflm")
    with pytest.raises(InvalidInputError, match="unknown rounding"):
        Classifier.load(tiny / INT8, rounding="nearest")
    result = runner.invoke(app, ["verify", str(tiny / INT8), "-b", "litert", "--rounding", "tflm"])
    assert result.exit_code == 2 and "numpy backend only" in result.output
    assert all(r in ROUNDING_HELP for r in ROUNDINGS)  # the help names every variant


@pytest.mark.interpreter("litert")
def test_conformance_table_and_a_moved_interpreter(
    tiny: Path, framed_digits: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    from edge_mnist import conformance

    images, _labels = framed_digits
    report = conformance.conformance(tiny / INT8, images)
    litert = report["interpreters"]["litert"]
    assert litert["variants"]["litert"]["identical"] == len(images)
    assert report["failures"] == []
    assert max(len(line) for line in conformance.render(report)[1:]) <= 80

    # An interpreter release whose arithmetic moved: here the engine's own litert bytes with one
    # value a step off, standing in for the interpreter (the real ones conform on these images).
    def moved(path: Path, x: np.ndarray) -> np.ndarray:
        out = Engine.load(path).run(x).copy()
        out[0, 0] += 1
        return out

    monkeypatch.setattr(
        conformance, "interpreters", lambda: [("litert", "ai-edge-litert", "9.9", moved)]
    )
    report = conformance.conformance(tiny / INT8, images)
    n = len(images)
    assert report["interpreters"]["litert"]["status"] == "moved"
    assert report["failures"] == [
        f"litert 9.9 no longer computes the 'litert' bytes ({n - 1:,}/{n:,} identical, largest "
        "difference 1 steps); it matches no engine variant."
    ]


def test_verify_imports_no_host_module(tiny: Path, tmp_path: Path) -> None:
    """verify runs on a device: the CLI and the runtime only (no TensorFlow, onnx, export)."""
    import subprocess
    import sys

    import edge_mnist

    child = (
        "import json, runpy, sys\n"
        f"sys.argv = ['edge-mnist', 'verify', {str(tiny / INT8)!r}, '-b', 'numpy']\n"
        "try:\n    runpy.run_module('edge_mnist', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n"
        "print('MODULES=' + json.dumps(sorted(sys.modules)))\n"
    )
    root = Path(edge_mnist.__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", child],
        cwd=tmp_path,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("MODULES="))
    modules = json.loads(line.removeprefix("MODULES="))
    assert "edge_mnist.runtime.verify" in modules
    host = ("train", "data", "export", "gate", "evaluate", "tf", "converters", "models")
    bad = [
        m
        for m in modules
        if m.split(".")[0] in ("tensorflow", "keras", "tf2onnx", "onnx")
        or (m.startswith("edge_mnist.") and m.split(".")[1] in host)
    ]
    assert bad == []
