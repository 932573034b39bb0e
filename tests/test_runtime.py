"""The device runtime against real interpreters: parity with the raw loop, inputs, bad models."""

from __future__ import annotations

import importlib.util
import json
import platform
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from edge_mnist.runtime import (
    BackendUnavailableError,
    Classifier,
    InvalidInputError,
    ModelLoadError,
)
from edge_mnist.runtime.backends import SPECS, conflict, installed

pytestmark = pytest.mark.device


def _usable_tflite_backends() -> list[str]:
    usable = []
    for name, spec in SPECS.items():
        # Interpreter packages only: the NumPy engine has its own exactness tests (test_engine).
        if spec.format != "tflite" or spec.module is None or name == "tensorflow":
            continue
        if not installed(spec):
            continue
        if conflict(spec) is None:
            usable.append(name)
    return usable


TFLITE_BACKENDS_HERE = _usable_tflite_backends()


def _raw_tflite_digits(backend: str, path: Path, images: np.ndarray) -> np.ndarray:
    """The interpreter alone: quantize by hand, one image per invoke, argmax the raw output."""
    module = __import__(str(SPECS[backend].module), fromlist=["Interpreter"])
    interpreter = module.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    scale, zero = inp["quantization"]
    x = images.astype(np.float64) / 255.0
    if inp["dtype"] == np.int8:
        x = np.clip(np.round(x / scale) + zero, -128, 127)
    x = x.astype(inp["dtype"])
    digits = np.empty(len(x), dtype=np.int64)
    for i in range(len(x)):
        interpreter.set_tensor(inp["index"], x[i : i + 1])
        interpreter.invoke()
        digits[i] = interpreter.get_tensor(out["index"])[0].argmax()
    return digits


@pytest.mark.skipif(not TFLITE_BACKENDS_HERE, reason="no TFLite interpreter installed")
@pytest.mark.parametrize("backend", TFLITE_BACKENDS_HERE)
@pytest.mark.parametrize("name", ["model_int8.tflite", "model_float32.tflite"])
def test_tflite_matches_raw_interpreter_on_all_test_images(artifacts, test_images, backend, name):
    images, labels = test_images
    clf = Classifier.load(artifacts / name, backend=backend)
    ours = np.concatenate(
        [clf.predict(images[i : i + 1000]).digits for i in range(0, len(images), 1000)]
    )
    raw = _raw_tflite_digits(backend, artifacts / name, images)
    assert np.array_equal(ours, raw)
    manifest = json.loads((artifacts / "manifest.json").read_text())
    assert float(np.mean(ours == labels)) == pytest.approx(
        manifest["artifacts"][name]["test_accuracy"], abs=1e-6
    )


@pytest.mark.parametrize("name", ["model_int8.onnx", "model_float32.onnx"])
def test_onnx_matches_raw_session_on_all_test_images(artifacts, test_images, name):
    ort = pytest.importorskip("onnxruntime")
    images, labels = test_images
    clf = Classifier.load(artifacts / name)
    assert clf.info.backend == "onnxruntime"
    ours = clf.predict(images).digits
    session = ort.InferenceSession(str(artifacts / name), providers=["CPUExecutionProvider"])
    raw = session.run(None, {"pixels": images.astype(np.float32) / np.float32(255)})[0].argmax(1)
    assert np.array_equal(ours, raw)
    entry = json.loads((artifacts / "manifest.json").read_text())["artifacts"][name]
    # onnxruntime's int8 kernels differ between x86-64 and ARM (23 of 10,000 digits under
    # emulated arm64): exact only on the architecture the export measured on.
    same_cpu = entry.get("validated_on") == platform.machine()
    tolerance = 1e-6 if same_cpu or "float32" in name else 0.005
    assert float(np.mean(ours == labels)) == pytest.approx(entry["test_accuracy"], abs=tolerance)


@pytest.fixture(scope="module")
def int8(artifacts):
    return Classifier.load(artifacts / "model_int8.tflite")


def test_info_describes_the_quantized_model(int8):
    info = int8.info
    assert info.format == "tflite"
    assert info.input.dtype == "int8" and info.output.dtype == "int8"
    assert info.input.scale == pytest.approx(1 / 255, rel=1e-3)
    assert info.input.zero_point == -128
    assert info.input.shape[-1] == 784 and info.output.shape[-1] == 10
    assert json.dumps(info.to_dict())


def test_accepted_shapes_and_dtypes_agree(int8, test_images):
    images, _ = test_images
    batch = images[:16]
    expected = int8.predict(batch).digits
    assert np.array_equal(int8.predict(batch.reshape(16, 28, 28)).digits, expected)
    assert np.array_equal(int8.predict(batch.astype(np.float32) / 255).digits, expected)
    assert np.array_equal(int8.predict(batch.astype(np.int64)).digits, expected)
    # Equal dtypes that are other objects than numpy's own (the fast paths compare identity).
    tagged = np.dtype(np.uint8, metadata={"source": "camera"})
    assert tagged == np.uint8 and tagged is not np.dtype(np.uint8)
    assert np.array_equal(int8.predict(batch.view(tagged)).digits, expected)
    floats = batch.astype(np.float32) / np.float32(255)
    assert np.array_equal(int8.predict(floats.astype(">f4")).digits, expected)
    assert np.array_equal(int8.predict(np.asfortranarray(floats)).digits, expected)
    one = int8.predict(batch[3].reshape(28, 28))
    assert one.digits.shape == (1,) and one.probabilities.shape == (1, 10)
    assert one.digits[0] == expected[3]
    assert int8.predict(batch[3]).digits[0] == expected[3]
    probs = int8.predict(batch).probabilities
    assert probs.dtype == np.float32 and np.allclose(probs.sum(1), 1.0, atol=0.05)


@pytest.mark.parametrize("bad", [np.nan, -np.nan, np.inf, -np.inf, -1e-30, 1.0000001, 2.0])
def test_float_batches_are_checked_in_one_pass(int8, test_images, bad):
    """(N, 784) float32 batches take the fused check: every bad value is still rejected."""
    images, _ = test_images
    batch = images[:4].astype(np.float32) / np.float32(255)
    batch[2, 400] = bad
    with pytest.raises(InvalidInputError, match=r"\[0, 1\]"):
        int8.predict(batch)


def test_float_check_lets_negative_zero_through(int8, test_images):
    images, _ = test_images
    batch = images[:4].astype(np.float32) / np.float32(255)
    expected = int8.predict(batch).digits
    batch[batch == 0] = -0.0
    assert np.signbit(batch).any()
    assert np.array_equal(int8.predict(batch).digits, expected)
    # A strided view takes the general path and agrees.
    wide = np.zeros((4, 2 * 784), np.float32)
    wide[:, ::2] = batch
    assert np.array_equal(int8.predict(wide[:, ::2]).digits, expected)


@pytest.mark.parametrize(
    ("x", "words"),
    [
        (np.zeros((27, 28), np.float32), "shape (27, 28)"),
        (np.zeros((2, 3, 784), np.float32), "shape (2, 3, 784)"),
        (np.zeros((0, 784), np.uint8), "empty batch"),
        (np.full(784, np.nan, np.float32), "NaN"),
        (np.full(784, np.inf, np.float32), "float pixels"),
        (np.full(784, -0.5, np.float32), "-0.5"),
        (np.full(784, 2.0, np.float32), "[0, 1]"),
        (np.full(784, 300, np.int32), "0-255"),
        (np.full(784, -1, np.int16), "0-255"),
        (np.array(["a"] * 784), "dtype"),
    ],
)
def test_bad_arrays_raise_clear_value_errors(int8, x, words):
    with pytest.raises(ValueError, match=None) as info:
        int8.predict(x)
    assert isinstance(info.value, InvalidInputError)
    assert words in str(info.value)


def test_one_classifier_shared_by_threads_matches_one_thread(int8, test_images):
    images, _ = test_images
    chunks = [images[i * 250 : (i + 1) * 250] for i in range(8)]
    expected = [int8.predict(c).probabilities for c in chunks]
    results: dict[int, list[np.ndarray]] = {}

    def work(k: int) -> None:
        # Mixed batch sizes force input resizes while other threads run.
        results[k] = [
            int8.predict(c[: 1 + (k * 37 + j) % 250]).probabilities for j, c in enumerate(chunks)
        ]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(4):
        for j, probs in enumerate(results[k]):
            assert np.array_equal(probs, expected[j][: len(probs)])


def test_wrong_backend_for_the_format(artifacts):
    with pytest.raises(BackendUnavailableError, match="cannot run tflite"):
        Classifier.load(artifacts / "model_int8.tflite", backend="onnxruntime")
    with pytest.raises(BackendUnavailableError, match="unknown backend"):
        Classifier.load(artifacts / "model_int8.tflite", backend="nope")


def test_missing_backend_names_the_package(artifacts):
    absent = [n for n, spec in SPECS.items() if spec.format == "tflite" and not installed(spec)]
    if not absent:
        pytest.skip("every TFLite backend is installed here")
    with pytest.raises(BackendUnavailableError) as info:
        Classifier.load(artifacts / "model_int8.tflite", backend=absent[0])
    assert "pip install" in str(info.value)


def _corrupt_models(artifacts: Path, folder: Path) -> dict[str, Path]:
    good = (artifacts / "model_int8.tflite").read_bytes()
    rng = np.random.default_rng(0)
    cases = {
        "truncated.tflite": good[: len(good) // 2],
        "short.tflite": good[:3000],
        "random.tflite": rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes(),
        "text.onnx": b"this is not an onnx model\n" * 100,
        "truncated.onnx": (artifacts / "model_float32.onnx").read_bytes()[:5000],
        "empty.tflite": b"",
    }
    for name, data in cases.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in cases}


@pytest.mark.interpreter("onnxruntime")
def test_corrupt_models_give_clear_errors_in_a_child_process(artifacts, tmp_path):
    # A crash (segfault) would show as a negative return code: run each load in a child.
    for name, path in _corrupt_models(artifacts, tmp_path).items():
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys\nfrom edge_mnist.runtime import Classifier, EdgeMnistError\n"
                "import numpy as np\n"
                "try:\n    Classifier.load(sys.argv[1]).predict(np.zeros(784, np.uint8))\n"
                "except EdgeMnistError as e:\n    print(type(e).__name__, e)\n    sys.exit(2)\n",
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 2, (name, proc.returncode, proc.stderr[-2000:])
        assert "ModelLoadError" in proc.stdout, (name, proc.stdout)
        assert "Traceback" not in proc.stderr
        assert path.name in proc.stdout


@pytest.mark.parametrize("backend", TFLITE_BACKENDS_HERE)
def test_truncated_tflite_with_each_backend(artifacts, tmp_path, backend):
    path = tmp_path / "cut.tflite"
    path.write_bytes((artifacts / "model_int8.tflite").read_bytes()[:20_000])
    with pytest.raises(ModelLoadError, match=r"cut\.tflite"):
        Classifier.load(path, backend=backend)


@pytest.mark.skipif(
    "tflite-runtime" not in TFLITE_BACKENDS_HERE, reason="needs tflite-runtime (with numpy 1)"
)
def test_a_model_that_passed_the_child_check_is_not_checked_again(artifacts, tmp_path, monkeypatch):
    # A cache of this test's own: the session's holds every model other tests loaded.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    model = tmp_path / "model.tflite"
    model.write_bytes((artifacts / "model_int8.tflite").read_bytes())
    probed = tmp_path / "cache" / "edge-mnist" / "probed"
    expected = Classifier.load(model, backend="tflite-runtime").predict(np.zeros(784)).digits
    (marker,) = probed.iterdir()
    assert marker.name.startswith("tflite-runtime-2.") and len(marker.name.split("-")[-1]) == 64
    # No child process can start now: only the remembered result lets the same content load.
    with monkeypatch.context() as patch:
        patch.setattr(sys, "executable", str(tmp_path / "no-python-here"))
        again = Classifier.load(model, backend="tflite-runtime").predict(np.zeros(784)).digits
    assert np.array_equal(again, expected)
    # Other content is checked again (a second record), and a file that fails is not remembered
    # (a cut file now fails the size check every .tflite passes before any interpreter sees it).
    model.write_bytes((artifacts / "model_float32.tflite").read_bytes())
    Classifier.load(model, backend="tflite-runtime")
    records = sorted(probed.iterdir())
    assert len(records) == 2 and marker in records
    model.write_bytes((artifacts / "model_int8.tflite").read_bytes()[:20_000])
    with pytest.raises(ModelLoadError, match="corrupt"):
        Classifier.load(model, backend="tflite-runtime")
    assert sorted(probed.iterdir()) == records


@pytest.mark.skipif(
    importlib.util.find_spec("tflite_runtime") is None or int(np.__version__.split(".")[0]) < 2,
    reason="needs tflite-runtime installed beside numpy 2",
)
def test_tflite_runtime_under_numpy2_is_a_clear_error(artifacts):
    with pytest.raises(BackendUnavailableError) as info:
        Classifier.load(artifacts / "model_int8.tflite", backend="tflite-runtime")
    assert "numpy" in info.value.problem and "numpy<2" in (info.value.fix or "")
    # The automatic choice passes over it rather than failing.
    assert Classifier.load(artifacts / "model_int8.tflite").info.backend != "tflite-runtime"


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelLoadError, match="no such model file"):
        Classifier.load(tmp_path / "nope.tflite")
