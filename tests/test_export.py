"""Tests for edge_mnist.export and the 'export' command.

Real MNIST, real TensorFlow conversions and real interpreters (ai-edge-litert, onnxruntime):
the numbers are recomputed here with the raw interpreters, not through the project's runtime.
The session ``artifacts`` folder is read-only: tests that change files work on a copy.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from edge_mnist.cli import app
from edge_mnist.errors import ExportError
from edge_mnist.export import TOLERANCES, VALIDATION_SAMPLES, export
from edge_mnist.manifest import LABELS, PREPROCESSING
from edge_mnist.runtime.artifacts import MANIFEST_FILE
from edge_mnist.runtime.artifacts import MANIFEST_SCHEMA_VERSION as SCHEMA_VERSION

INT8_TFLITE = "model_int8.tflite"
FLOAT_TFLITE = "model_float32.tflite"
INT8_ONNX = "model_int8.onnx"
FLOAT_ONNX = "model_float32.onnx"
ARTIFACTS = (INT8_TFLITE, FLOAT_TFLITE, INT8_ONNX, FLOAT_ONNX)
MAX_ACCURACY_GAP = 0.005  # 0.5 percentage points
# Ops a full-integer int8 MLP may contain; QUANTIZE / DEQUANTIZE (float <-> int8) must not occur.
INTEGER_OPS = {"FULLY_CONNECTED", "SOFTMAX"}


# ---------------------------------------------------------------- helpers (raw interpreters)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _precision(name: str) -> str:
    return "int8" if "_int8." in name else "float32"


def _manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / MANIFEST_FILE).read_text())


def _litert(path: Path) -> Any:
    """A LiteRT interpreter that shows the file's own ops (no XNNPACK 'DELEGATE' node)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_path=str(path),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    return interpreter


def _tflite_probs(path: Path, x: np.ndarray) -> np.ndarray:
    """Probabilities from a .tflite file, quantizing and dequantizing by hand."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(inp["index"], [len(x), 784])
    interpreter.allocate_tensors()
    scale, zero = inp["quantization"]
    if scale:
        info = np.iinfo(inp["dtype"])
        q = np.clip(np.round(x / np.float32(scale)) + zero, info.min, info.max)
        feed = q.astype(inp["dtype"])
    else:
        feed = x.astype(np.float32)
    interpreter.set_tensor(inp["index"], feed)
    interpreter.invoke()
    raw = interpreter.get_tensor(out["index"])
    out_scale, out_zero = out["quantization"]
    if out_scale:
        return (raw.astype(np.float32) - np.float32(out_zero)) * np.float32(out_scale)
    return raw.astype(np.float32)


def _onnx_probs(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"pixels": x.astype(np.float32)})[0]


def _probs(path: Path, x: np.ndarray) -> np.ndarray:
    return _tflite_probs(path, x) if path.suffix == ".tflite" else _onnx_probs(path, x)


def _keras_probs(path: Path, x: np.ndarray) -> np.ndarray:
    pytest.importorskip("tensorflow")
    import keras

    model = keras.models.load_model(path, compile=False)
    return np.asarray(model.predict(x, batch_size=1000, verbose=0))


def _accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(probs.argmax(axis=1) == labels))


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def _export_cli(model: Path, out: Path, data_dir: Path, *options: str) -> Any:
    """Run 'edge-mnist export' in-process."""
    args = ["export", "--model", str(model), "--out", str(out), "--data-dir", str(data_dir)]
    return CliRunner().invoke(app, [*args, *options])


def _error_line(result: Any) -> str:
    """The single 'error:' line the CLI prints on stderr."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


# ---------------------------------------------------------------- shared, computed once


@pytest.fixture(scope="module")
def keras_reference(artifacts: Path, mnist: Any) -> np.ndarray:
    """The Keras model's probabilities on the 10,000 test images."""
    return _keras_probs(artifacts / "model.keras", mnist.x_test)


@pytest.fixture(scope="module")
def export_probs(artifacts: Path, mnist: Any) -> dict[str, np.ndarray]:
    """Every export's probabilities on the 10,000 test images, from the raw interpreters."""
    return {name: _probs(artifacts / name, mnist.x_test) for name in ARTIFACTS}


@pytest.fixture(scope="module")
def poisoned_model(artifacts: Path, mnist: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trained model with hidden1's weights from pixel 0 set to 1000.

    Pixel 0 (the top-left corner) is 0 in every MNIST image, so the float model computes exactly
    what it did before; but the huge weight sets the int8 weight scale of every hidden unit
    (per tensor or per channel alike), and all the real weights round to 0 in int8.
    """
    pytest.importorskip("tensorflow")
    import keras

    assert mnist.x_train[:, 0].max() == 0 and mnist.x_test[:, 0].max() == 0
    model = keras.models.load_model(artifacts / "model.keras", compile=False)
    kernel = model.get_layer("hidden1").kernel
    weights = np.array(kernel.numpy())
    weights[0, :] = 1000.0
    kernel.assign(weights)
    path = tmp_path_factory.mktemp("poisoned") / "model.keras"
    model.save(path)
    return path


# ---------------------------------------------------------------- files and manifest


def test_export_writes_the_four_files_and_the_manifest(artifacts: Path) -> None:
    files = _files(artifacts)
    assert set(ARTIFACTS) | {MANIFEST_FILE, "model.keras"} <= files
    # 'all' also generates the C source from the int8 .tflite (not a manifest artifact).
    assert {f for f in files if f.startswith("model_")} == {
        *ARTIFACTS,
        "model_int8.c",
        "model_int8.h",
    }
    assert not [f for f in files if f.startswith(".")], "temporary files left behind"
    manifest = _manifest(artifacts)
    assert list(manifest["artifacts"]) == list(ARTIFACTS)
    assert manifest["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize("name", ARTIFACTS)
def test_manifest_entry_describes_its_file(artifacts: Path, name: str) -> None:
    entry = _manifest(artifacts)["artifacts"][name]
    path = artifacts / name
    precision = _precision(name)
    fmt = path.suffix[1:]
    assert entry["file"] == name
    assert entry["format"] == fmt
    assert entry["precision"] == precision
    assert entry["size_bytes"] == path.stat().st_size
    assert entry["sha256"] == _sha256(path)
    assert entry["calibration_samples"] == (500 if precision == "int8" else None)
    assert 0.9 < entry["test_accuracy"] <= 1.0
    assert entry["validated_with"].startswith("litert" if fmt == "tflite" else "onnxruntime")
    assert entry["validated_on"] == platform.machine()

    if fmt == "onnx":
        assert entry["input"] == {
            "name": "pixels",
            "dtype": "float32",
            "shape": ["batch", 784],
            "scale": None,
            "zero_point": None,
        }
        assert entry["output"] == {
            "name": "probabilities",
            "dtype": "float32",
            "shape": ["batch", 10],
            "scale": None,
            "zero_point": None,
        }
        return
    interpreter = _litert(path)
    for side, detail, width in (
        ("input", interpreter.get_input_details()[0], 784),
        ("output", interpreter.get_output_details()[0], 10),
    ):
        recorded = entry[side]
        assert recorded["name"] == detail["name"]
        assert recorded["dtype"] == np.dtype(detail["dtype"]).name == precision
        assert recorded["shape"] == [int(d) for d in detail["shape_signature"]] == [-1, width]
        scale, zero = detail["quantization"]
        if precision == "int8":
            assert scale > 0
            assert recorded["scale"] == pytest.approx(scale, rel=1e-7)
            assert recorded["zero_point"] == zero
        else:
            assert recorded["scale"] is None and recorded["zero_point"] is None
    if precision == "int8":
        # Pixels in [0, 1] map onto the full int8 range; probabilities in [0, 1] likewise.
        assert entry["input"]["scale"] == pytest.approx(1 / 255, rel=1e-6)
        assert entry["input"]["zero_point"] == -128
        assert entry["output"]["scale"] == pytest.approx(1 / 256, rel=1e-6)
        assert entry["output"]["zero_point"] == -128


def test_manifest_records_source_model_versions_and_preprocessing(
    artifacts: Path,
    mnist: Any,
    keras_reference: np.ndarray,
) -> None:
    manifest = _manifest(artifacts)
    source = manifest["source_model"]
    assert source["file"] == "model.keras"
    assert source["sha256"] == _sha256(artifacts / "model.keras")
    assert source["test_accuracy"] == pytest.approx(
        _accuracy(keras_reference, mnist.y_test), abs=1e-4
    )
    assert manifest["preprocessing"] == PREPROCESSING
    assert manifest["labels"] == LABELS == [str(d) for d in range(10)]
    versions = manifest["versions"]
    for dist in ("keras", "tf2onnx", "onnx", "onnxruntime", "ai-edge-litert", "edge-mnist"):
        assert versions[dist] == importlib.metadata.version(dist)
    assert "tensorflow" in versions or "tensorflow-cpu" in versions
    assert versions["numpy"] == np.__version__
    # Each entry is a self-contained model card too.
    for entry in manifest["artifacts"].values():
        assert entry["preprocessing"] == PREPROCESSING
        assert entry["versions"] == versions


# ---------------------------------------------------------------- int8 TFLite: integer only


def test_int8_tflite_has_int8_io_and_no_float_tensor_or_op(artifacts: Path) -> None:
    """Checked on the flatbuffer's own op list (default delegates off, so no DELEGATE node):

    * every op is FULLY_CONNECTED or SOFTMAX - no QUANTIZE/DEQUANTIZE, no float fallback;
    * every tensor in the file is int8 or int32, so no float32 tensor feeds or leaves any op;
    * every tensor an op reads or writes is int8, except FULLY_CONNECTED's bias (input 2),
      which is int32; int32 appears nowhere else;
    * every int8 tensor carries quantization parameters (a scale > 0).
    """
    interpreter = _litert(artifacts / INT8_TFLITE)
    assert np.dtype(interpreter.get_input_details()[0]["dtype"]) == np.int8
    assert np.dtype(interpreter.get_output_details()[0]["dtype"]) == np.int8

    ops = interpreter._get_ops_details()
    names = [op["op_name"] for op in ops]
    assert set(names) <= INTEGER_OPS, names
    assert names.count("FULLY_CONNECTED") == 3 and names.count("SOFTMAX") == 1

    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    dtypes = {i: np.dtype(t["dtype"]) for i, t in tensors.items()}
    assert set(dtypes.values()) <= {np.dtype(np.int8), np.dtype(np.int32)}, {
        t["name"]: d.name for (i, t), d in zip(tensors.items(), dtypes.values(), strict=True)
    }

    biases = set()
    for op in ops:
        for position, index in enumerate(op["inputs"]):
            if index < 0:  # an omitted optional input
                continue
            if op["op_name"] == "FULLY_CONNECTED" and position == 2:
                assert dtypes[index] == np.int32, tensors[index]["name"]
                biases.add(int(index))
            else:
                assert dtypes[index] == np.int8, (
                    op["op_name"],
                    tensors[index]["name"],
                    dtypes[index],
                )
        for index in op["outputs"]:
            assert dtypes[index] == np.int8, (op["op_name"], tensors[index]["name"], dtypes[index])
    assert {i for i, d in dtypes.items() if d == np.int32} == biases

    for index, dtype in dtypes.items():
        if dtype == np.int8:
            scales = tensors[index]["quantization_parameters"]["scales"]
            assert len(scales) > 0 and np.all(scales > 0), tensors[index]["name"]


def test_int8_tflite_is_at_most_30_percent_of_float(artifacts: Path) -> None:
    int8 = (artifacts / INT8_TFLITE).stat().st_size
    float32 = (artifacts / FLOAT_TFLITE).stat().st_size
    assert int8 <= 0.30 * float32, f"{int8} bytes is {int8 / float32:.1%} of {float32}"


# ---------------------------------------------------------------- ONNX


@pytest.mark.parametrize("name", [INT8_ONNX, FLOAT_ONNX])
def test_onnx_passes_the_checker_and_has_a_dynamic_batch(artifacts: Path, name: str) -> None:
    onnx = pytest.importorskip("onnx")
    import onnxruntime as ort

    proto = onnx.load(artifacts / name)
    onnx.checker.check_model(proto, full_check=True)
    opsets = {o.domain: o.version for o in proto.opset_import}
    assert opsets.get("", opsets.get("ai.onnx", 0)) >= 17

    graph = proto.graph
    assert [i.name for i in graph.input] == ["pixels"]
    assert [o.name for o in graph.output] == ["probabilities"]
    for value, width in ((graph.input[0], 784), (graph.output[0], 10)):
        assert value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
        batch, features = value.type.tensor_type.shape.dim
        assert batch.WhichOneof("value") == "dim_param" and batch.dim_param
        assert features.dim_value == width

    session = ort.InferenceSession(str(artifacts / name), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["pixels"]
    assert [o.name for o in session.get_outputs()] == ["probabilities"]
    for batch in (1, 7):
        x = np.random.default_rng(batch).random((batch, 784), dtype=np.float32)
        (probs,) = session.run(None, {"pixels": x})
        assert probs.shape == (batch, 10)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=0.05)


@pytest.mark.parametrize("name", [INT8_ONNX, FLOAT_ONNX])
def test_onnx_metadata_names_preprocessing_labels_source_and_tools(
    artifacts: Path, name: str
) -> None:
    onnx = pytest.importorskip("onnx")

    props = {p.key: p.value for p in onnx.load(artifacts / name).metadata_props}
    assert {"preprocessing", "labels", "source_model_sha256", "tool_versions"} <= set(props)
    assert props["labels"].split(",") == LABELS
    assert props["source_model_sha256"] == _sha256(artifacts / "model.keras")
    assert props["source_model_sha256"] == _manifest(artifacts)["source_model"]["sha256"]
    for dist in ("onnx", "tf2onnx", "keras"):
        assert f"{dist}={importlib.metadata.version(dist)}" in props["tool_versions"]
    assert ast.literal_eval(props["preprocessing"]) == PREPROCESSING


def test_onnx_preprocessing_metadata_is_json(artifacts: Path) -> None:
    onnx = pytest.importorskip("onnx")

    props = {p.key: p.value for p in onnx.load(artifacts / INT8_ONNX).metadata_props}
    assert json.loads(props["preprocessing"]) == PREPROCESSING


def test_int8_onnx_is_qdq_with_int8_weights(artifacts: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    def summary(name: str) -> tuple[set[str], dict[str, Any], list[Any]]:
        graph = onnx.load(artifacts / name).graph
        return (
            {n.op_type for n in graph.node},
            {i.name: i for i in graph.initializer},
            list(graph.node),
        )

    float_ops, _, _ = summary(FLOAT_ONNX)
    assert not float_ops & {"QuantizeLinear", "DequantizeLinear"}

    ops, inits, nodes = summary(INT8_ONNX)
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    matrices = {n: i for n, i in inits.items() if len(i.dims) == 2}
    assert len(matrices) == 3, sorted(matrices)
    assert all(i.data_type == onnx.TensorProto.INT8 for i in matrices.values())
    # Every MatMul multiplies by a DequantizeLinear of an int8 initializer.
    producers = {out: n for n in nodes for out in n.output}
    matmuls = [n for n in nodes if n.op_type == "MatMul"]
    assert len(matmuls) == 3
    for node in matmuls:
        weight = producers[node.input[1]]
        assert weight.op_type == "DequantizeLinear"
        assert inits[weight.input[0]].data_type == onnx.TensorProto.INT8
        assert numpy_helper.to_array(inits[weight.input[0]]).dtype == np.int8
    # Float initializers left are only the quantization scales (scalars or per-channel vectors).
    for init in inits.values():
        if init.data_type == onnx.TensorProto.FLOAT:
            assert len(init.dims) <= 1 and init.name.endswith("_scale"), init.name
    assert (artifacts / INT8_ONNX).stat().st_size <= 0.30 * (artifacts / FLOAT_ONNX).stat().st_size


# ---------------------------------------------------------------- accuracy and agreement


@pytest.mark.parametrize("name", ARTIFACTS)
def test_export_matches_keras_within_tolerance(
    artifacts: Path,
    mnist: Any,
    keras_reference: np.ndarray,
    export_probs: dict[str, np.ndarray],
    name: str,
) -> None:
    entry = _manifest(artifacts)["artifacts"][name]
    tolerance = TOLERANCES[_precision(name)]
    probs = export_probs[name]
    keras_acc = _accuracy(keras_reference, mnist.y_test)
    acc = _accuracy(probs, mnist.y_test)

    assert abs(acc - keras_acc) <= MAX_ACCURACY_GAP, f"{name}: {acc:.4f} vs Keras {keras_acc:.4f}"
    assert entry["test_accuracy"] == pytest.approx(acc, abs=1e-4)
    assert entry["delta_vs_float_pp"] == pytest.approx(
        (entry["test_accuracy"] - _manifest(artifacts)["source_model"]["test_accuracy"]) * 100,
        abs=1e-3,
    )

    ref, got = keras_reference[:VALIDATION_SAMPLES], probs[:VALIDATION_SAMPLES]
    top1 = float(np.mean(ref.argmax(1) == got.argmax(1)))
    max_diff = float(np.max(np.abs(ref - got)))
    assert top1 >= tolerance.min_agreement
    assert max_diff <= tolerance.max_abs_diff

    agreement = entry["agreement"]
    assert agreement["samples"] == VALIDATION_SAMPLES
    assert agreement["min_top1_agreement"] == tolerance.min_agreement
    assert agreement["max_abs_prob_diff_allowed"] == tolerance.max_abs_diff
    assert agreement["top1_agreement"] >= tolerance.min_agreement
    assert agreement["max_abs_prob_diff"] <= tolerance.max_abs_diff
    assert agreement["top1_agreement"] == pytest.approx(top1, abs=1.5 / VALIDATION_SAMPLES)
    assert agreement["max_abs_prob_diff"] == pytest.approx(max_diff, abs=0.02)
    assert agreement["mean_abs_prob_diff"] <= agreement["max_abs_prob_diff"]


# ---------------------------------------------------------------- validation fails loudly


@pytest.mark.slow
def test_export_rejects_an_int8_file_that_disagrees_and_keeps_nothing(
    poisoned_model: Path,
    mnist: Any,
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    with pytest.raises(ExportError, match="disagrees with the Keras model") as info:
        export(poisoned_model, mnist, out, fmt="tflite", quantize="int8")
    message = str(info.value)
    assert "model_int8.tflite disagrees with the Keras model" in message
    assert "top-1 agreement" in message and "not kept" in message
    assert info.value.exit_code == 1
    assert _files(out) == set(), "a rejected export left files behind"


@pytest.mark.slow
def test_poisoned_model_is_still_a_good_float_model(
    artifacts: Path,
    poisoned_model: Path,
    mnist: Any,
    keras_reference: np.ndarray,
) -> None:
    """The rejection above is the int8 file's fault, not the model's."""
    poisoned = _keras_probs(poisoned_model, mnist.x_test)
    assert np.array_equal(poisoned.argmax(1), keras_reference.argmax(1))
    np.testing.assert_allclose(poisoned, keras_reference, atol=1e-5)


@pytest.mark.slow
def test_cli_export_rejection_keeps_the_previous_files(
    artifacts: Path, poisoned_model: Path, mnist_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "artifacts"
    shutil.copytree(artifacts, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = _export_cli(poisoned_model, out, mnist_dir, "--format", "onnx", "--quantize", "int8")
    assert result.exit_code == 1, result.output
    line = _error_line(result)
    assert "model_int8.onnx disagrees with the Keras model" in line
    assert "Traceback" not in result.output
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after.keys() == before.keys(), "files appeared or vanished"
    changed = [name for name in before if after[name] != before[name]]
    assert changed == [], f"a rejected export changed {changed}"


# ---------------------------------------------------------------- a good single-file export


@pytest.mark.slow
def test_cli_export_one_float_tflite(artifacts: Path, mnist_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    options = ("--format", "tflite", "--quantize", "none", "--json", "-")
    result = _export_cli(artifacts / "model.keras", out, mnist_dir, *options)
    assert result.exit_code == 0, result.output
    assert _files(out) == {FLOAT_TFLITE, MANIFEST_FILE}
    printed = json.loads(result.stdout)
    manifest = _manifest(out)
    assert list(printed) == [FLOAT_TFLITE] == list(manifest["artifacts"])
    assert printed[FLOAT_TFLITE] == manifest["artifacts"][FLOAT_TFLITE]
    assert printed[FLOAT_TFLITE]["sha256"] == _sha256(out / FLOAT_TFLITE)
    assert manifest["source_model"]["file"] == str((artifacts / "model.keras").resolve())
    # Conversion is deterministic: the same model gives the same float file.
    assert (out / FLOAT_TFLITE).read_bytes() == (artifacts / FLOAT_TFLITE).read_bytes()


# ---------------------------------------------------------------- bad inputs through the CLI


def _keras_with_wrong_input(folder: Path) -> Path:
    pytest.importorskip("tensorflow")
    import keras

    inputs = keras.Input(shape=(100,))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(inputs))
    path = folder / "wrong.keras"
    model.save(path)
    return path


def _unwritable(tmp_path: Path) -> Path:
    if (
        os.geteuid() == 0
    ):  # root writes through chmod: a folder under a regular file can never exist
        (tmp_path / "afile").write_text("a file, not a folder\n")
        return tmp_path / "afile" / "sub"
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    return locked


BAD_INPUTS = {
    "corrupt-keras": "not a readable Keras model",
    "text-named-keras": "not a readable Keras model",
    "missing-model": "no such model file",
    "wrong-input-shape": "expected a model from (None, 784) to (None, 10)",
    "unwritable-out": "output folder",
    "bogus-format": "unknown --format 'bogus'",
    "bogus-quantize": "unknown --quantize 'int4'",
    "zero-calibration": "--calibration-samples must be in 1..",
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_cli_export_rejects_bad_input_cleanly(
    case: str, artifacts: Path, mnist_dir: Path, tmp_path: Path
) -> None:
    good = artifacts / "model.keras"
    out = tmp_path / "out"
    src = tmp_path / "src"
    src.mkdir()
    extra: list[str] = []
    if case == "corrupt-keras":
        model = src / "model.keras"
        model.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    elif case == "text-named-keras":
        model = src / "model.keras"
        model.write_text("this is a text file, not a Keras model\n")
    elif case == "missing-model":
        model = src / "nope.keras"
    elif case == "wrong-input-shape":
        model = _keras_with_wrong_input(src)
    elif case == "unwritable-out":
        model, out = good, _unwritable(tmp_path)
    elif case == "bogus-format":
        model, extra = good, ["--format", "bogus"]
    elif case == "bogus-quantize":
        model, extra = good, ["--quantize", "int4"]
    else:
        model, extra = good, ["--calibration-samples", "0"]
    try:
        result = _export_cli(model, out, mnist_dir, *extra)
        leftovers = _files(out)
    finally:
        if out.exists() and out.name == "locked":
            out.chmod(0o700)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert BAD_INPUTS[case] in _error_line(result)
    assert "Traceback" not in result.output
    assert leftovers == set(), f"files left in the output folder: {leftovers}"


# ---------------------------------------------------------------- reproducible, atomic, concurrent

# Exports both ONNX files of a model in a fresh interpreter, the way 'export --format onnx' does.
FRESH_ONNX_EXPORT = """
import sys
from pathlib import Path
from edge_mnist.data import load_mnist
from edge_mnist.export import export

model, out, data_dir = map(Path, sys.argv[1:4])
data = load_mnist(data_dir, download=False)
for quantize in ("int8", "none"):
    export(model, data, out, fmt="onnx", quantize=quantize)
"""


@pytest.mark.slow
def test_onnx_export_is_byte_for_byte_reproducible(
    artifacts: Path, mnist: Any, mnist_dir: Path, tmp_path: Path
) -> None:
    """'export --format all' (the session artifacts), '--format onnx' in this process (after
    other conversions already ran in it) and in a fresh process give the same bytes."""
    model = artifacts / "model.keras"
    here, fresh = tmp_path / "here", tmp_path / "fresh"
    for quantize in ("int8", "none"):
        export(model, mnist, here, fmt="onnx", quantize=quantize)
    child = subprocess.run(
        [sys.executable, "-c", FRESH_ONNX_EXPORT, str(model), str(fresh), str(mnist_dir)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    for name in (INT8_ONNX, FLOAT_ONNX):
        reference = (artifacts / name).read_bytes()
        assert (here / name).read_bytes() == reference, f"{name} differs within one process"
        assert (fresh / name).read_bytes() == reference, f"{name} differs in a fresh process"
        recorded = {_manifest(f)["artifacts"][name]["sha256"] for f in (artifacts, here, fresh)}
        assert recorded == {_sha256(artifacts / name)}


@pytest.mark.slow
def test_an_interrupted_export_all_changes_no_file(
    artifacts: Path, mnist: Any, tmp_path: Path
) -> None:
    """Interrupted after both TFLite files passed validation: neither they nor the manifest
    replace the previous set, and no temporary file stays."""
    out = tmp_path / "artifacts"
    shutil.copytree(artifacts, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    seen = []

    def interrupt(message: str) -> None:
        seen.append(message)
        if message == f"converting {INT8_ONNX}":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export(artifacts / "model.keras", mnist, out, fmt="all", on_stage=interrupt)
    assert f"validating {FLOAT_TFLITE}" in seen, seen
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after.keys() == before.keys(), "files appeared or vanished"
    assert [name for name in before if after[name] != before[name]] == []


@pytest.mark.slow
def test_concurrent_cli_exports_into_one_folder_keep_both_entries(
    artifacts: Path, mnist_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    base = [sys.executable, "-m", "edge_mnist", "export", "--model", str(artifacts / "model.keras")]
    base += ["--out", str(out), "--data-dir", str(mnist_dir), "--quantize", "none"]
    children = [
        subprocess.Popen(
            [*base, "--format", fmt], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for fmt in ("tflite", "onnx")
    ]
    outputs = [c.communicate(timeout=600) for c in children]
    assert [c.returncode for c in children] == [0, 0], outputs
    manifest = _manifest(out)
    assert sorted(manifest["artifacts"]) == sorted([FLOAT_TFLITE, FLOAT_ONNX])
    for name in (FLOAT_TFLITE, FLOAT_ONNX):
        assert manifest["artifacts"][name]["sha256"] == _sha256(out / name)
    assert _files(out) == {FLOAT_TFLITE, FLOAT_ONNX, MANIFEST_FILE}
