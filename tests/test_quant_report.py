"""The per-layer quantization report: statistics on known arrays, the exported model's report
against both references, a model whose first layer's scale is forced wrong, and bad input."""

from __future__ import annotations

import json
import shutil
import struct
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from edge_mnist.quant_report_run import run_quant_report
from edge_mnist.runtime.errors import EdgeMnistError
from edge_mnist.runtime.quant_report import (
    SNR_CAP_DB,
    QuantTensor,
    compare_layers,
    layer_stats,
    mean_cosine,
    snr_db,
    worst_layer,
)

SCHEMA = json.loads(
    resources.files("edge_mnist.runtime").joinpath("quant_report.schema.json").read_text()
)
LAYERS = 4  # three FULLY_CONNECTED and the SOFTMAX
IMAGES = 500


def _valid(report: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(report, SCHEMA)


# --- Statistics on arrays whose answers are known ----------------------------------------------


@pytest.mark.device
def test_snr_and_cosine_on_known_arrays() -> None:
    ref = np.array([[3.0, 4.0]], dtype=np.float32)
    # Error power 1 against signal power 25: 10·log10(25) dB.
    assert snr_db(ref, ref + np.array([[1.0, 0.0]], dtype=np.float32)) == pytest.approx(
        10 * np.log10(25)
    )
    assert snr_db(ref, ref) == SNR_CAP_DB
    assert mean_cosine(ref, 2 * ref) == pytest.approx(1.0)
    assert mean_cosine(ref, -ref) == pytest.approx(-1.0)
    assert mean_cosine(np.zeros((1, 2)), np.zeros((1, 2))) == 1.0


@pytest.mark.device
def test_saturation_counts_clipped_values_not_exact_relu_zeros() -> None:
    # scale 0.1, zero point -128: representable [0, 25.5]. Four values: an exact ReLU zero at
    # -128, a mid value, one clipped at 127 (float 40 > 25.5), one at 127 that is in range.
    q = np.array([[-128, 0, 127, 127]], dtype=np.int8)
    ref = np.array([[0.0, 12.8, 40.0, 25.5]], dtype=np.float32)
    stats = layer_stats(0, QuantTensor("t", "FULLY_CONNECTED", q, 0.1, -128), ref, ref)
    assert stats.saturated == pytest.approx(0.25)
    assert stats.at_min == pytest.approx(0.25)
    assert stats.at_max == pytest.approx(0.5)
    assert stats.range_used == pytest.approx(1.0)
    assert stats.max_abs_error == pytest.approx(40.0 - 25.5, rel=1e-5)
    assert stats.scale == 0.1 and stats.zero_point == -128
    assert stats.shape == [4]


@pytest.mark.device
def test_worst_layer_is_the_one_that_adds_the_error_not_the_last_in_line() -> None:
    # Three identity "layers": layer 1 quantizes coarsely, layer 2 finely. Layer 2's output
    # inherits layer 1's error (low end-to-end SNR) but adds almost none itself.
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(8, 16)).astype(np.float32)

    def quantized(a: np.ndarray, scale: float) -> QuantTensor:
        q = np.clip(np.round(a / scale), -128, 127).astype(np.int8)
        return QuantTensor("t", "FULLY_CONNECTED", q, scale, 0)

    inp = quantized(x, 1 / 127)
    l0 = quantized(inp.dequantized(), 1 / 127)
    l1 = quantized(l0.dequantized(), 0.25)
    l2 = quantized(l1.dequantized(), 1 / 127)
    rows = compare_layers([l0, l1, l2], [lambda a: a] * 3, inp, x)
    assert rows[2].snr_db < 20 and rows[2].layer_snr_db > 40
    assert rows[1].layer_snr_db < 20
    assert worst_layer(rows).index == 1


@pytest.mark.device
def test_mismatched_layer_counts_are_refused() -> None:
    t = QuantTensor("t", "SOFTMAX", np.zeros((1, 10), np.int8), 1 / 256, -128)
    with pytest.raises(EdgeMnistError, match="1 layers and the reference 2"):
        compare_layers([t], [np.exp, np.exp], t, np.zeros((1, 10)))


# --- The exported model ---------------------------------------------------------------------------


def _check_plausible(report: dict[str, Any]) -> None:
    _valid(report)
    rows = report["layers"]
    assert len(rows) == LAYERS
    assert [r["op"] for r in rows] == ["FULLY_CONNECTED"] * 3 + ["SOFTMAX"]
    assert report["images"] == IMAGES
    for r in rows:
        assert r["snr_db"] > 20, r
        assert r["cosine"] > 0.99, r
        # Softmax clips only the confident top class (above 255/256): one value in ten at most.
        assert r["saturated"] < (0.1 + 1e-9 if r["op"] == "SOFTMAX" else 0.01), r
        assert 0 < r["mean_abs_error"] <= r["max_abs_error"], r
        assert r["range_used"] > 0.2, r
    assert rows[-1]["scale"] == pytest.approx(1 / 256) and rows[-1]["zero_point"] == -128
    # Hidden ReLU outputs use zero point -128: every int8 value is a non-negative real.
    assert all(r["zero_point"] == -128 for r in rows[:2])
    assert report["worst_layer"] == rows[report["worst_index"]]["name"]


@pytest.mark.device
def test_report_against_the_float_tflite_on_the_engine(artifacts: Path, mnist_dir: Path) -> None:
    report = run_quant_report(
        artifacts / "model_int8.tflite",
        artifacts / "model_float32.tflite",
        limit=IMAGES,
        data_dir=mnist_dir,
    )
    assert report["reference_kind"] == "tflite"
    _check_plausible(report)


def test_report_against_keras_names_the_keras_layers(artifacts: Path, mnist_dir: Path) -> None:
    pytest.importorskip("tensorflow")
    report = run_quant_report(artifacts / "model_int8.tflite", limit=IMAGES, data_dir=mnist_dir)
    assert report["reference_kind"] == "keras"
    assert report["reference"].endswith("model.keras")
    _check_plausible(report)
    names = [r["name"] for r in report["layers"]]
    assert names == ["hidden1", "hidden2", "logits", "probabilities"]


def _first_layer_scale(path: Path) -> float:
    from edge_mnist.runtime.engine import Engine

    layers = Engine.load(path).layers(np.zeros((1, 784), np.int8))
    assert layers[0].op == "FULLY_CONNECTED" and layers[0].scale is not None
    return layers[0].scale


@pytest.mark.device
def test_a_wrong_first_layer_scale_is_named_the_worst_layer(
    artifacts: Path, mnist_dir: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model_int8.tflite"
    shutil.copy(artifacts / "model_int8.tflite", model)
    blob = bytearray(model.read_bytes())
    scale = _first_layer_scale(model)
    old = struct.pack("<f", scale)
    assert blob.count(old) == 1, "the scale's bytes must identify one tensor"
    # A scale 20 times too small: most of the first layer's outputs clip at 127.
    at = blob.index(old)
    blob[at : at + 4] = struct.pack("<f", scale / 20)
    model.write_bytes(bytes(blob))
    assert _first_layer_scale(model) == pytest.approx(scale / 20)

    report = run_quant_report(
        model, artifacts / "model_float32.tflite", limit=IMAGES, data_dir=mnist_dir
    )
    _valid(report)
    rows = report["layers"]
    assert report["worst_index"] == 0
    assert report["worst_layer"] == rows[0]["name"]
    assert rows[0]["saturated"] > 0.05
    assert rows[0]["snr_db"] < 15
    # The healthy file's first layer, for contrast.
    healthy = run_quant_report(
        artifacts / "model_int8.tflite",
        artifacts / "model_float32.tflite",
        limit=IMAGES,
        data_dir=mnist_dir,
    )["layers"][0]
    assert rows[0]["snr_db"] < healthy["snr_db"] - 10


# --- Bad input ----------------------------------------------------------------------------------


@pytest.mark.device
def test_onnx_is_refused_with_the_reason(artifacts: Path, mnist_dir: Path) -> None:
    with pytest.raises(EdgeMnistError, match=r"\.tflite files only") as info:
        run_quant_report(artifacts / "model_int8.onnx", limit=10, data_dir=mnist_dir)
    assert info.value.exit_code == 2 and info.value.fix


@pytest.mark.device
@pytest.mark.parametrize("limit", [0, 10_001])
def test_limit_out_of_range(artifacts: Path, limit: int) -> None:
    with pytest.raises(EdgeMnistError, match=r"--limit must be in 1\.\.10000"):
        run_quant_report(artifacts / "model_int8.tflite", limit=limit)


@pytest.mark.device
def test_float_model_as_the_int8_model_is_refused(artifacts: Path, mnist_dir: Path) -> None:
    with pytest.raises(EdgeMnistError, match="not quantized int8"):
        run_quant_report(
            artifacts / "model_float32.tflite",
            artifacts / "model_float32.tflite",
            limit=10,
            data_dir=mnist_dir,
        )


@pytest.mark.device
def test_missing_reference_says_how_to_get_one(artifacts: Path, tmp_path: Path) -> None:
    model = tmp_path / "model_int8.tflite"
    shutil.copy(artifacts / "model_int8.tflite", model)
    with pytest.raises(EdgeMnistError, match="no float reference found") as info:
        run_quant_report(model, limit=10)
    assert info.value.fix and "--reference" in info.value.fix


# --- The command ------------------------------------------------------------------------------


@pytest.mark.device
def test_cli_prints_the_table_and_writes_valid_json(
    artifacts: Path, mnist_dir: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from edge_mnist.cli import app

    out = tmp_path / "report.json"
    args = ["quant-report", str(artifacts / "model_int8.tflite"), "--limit", "200"]
    args += ["--reference", str(artifacts / "model_float32.tflite"), "--json", str(out)]
    result = CliRunner().invoke(app, [*args, "--data-dir", str(mnist_dir)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    _valid(report)
    assert report["images"] == 200 and len(report["layers"]) == LAYERS
    assert f"Worst layer: {report['worst_index']} " in result.stdout
    assert "softmax" in result.stdout  # the SOFTMAX tensor's long name is shortened


@pytest.mark.device
def test_cli_refuses_onnx_with_exit_2(artifacts: Path, mnist_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from edge_mnist.cli import app

    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        app, ["quant-report", str(artifacts / "model_int8.onnx"), "--json", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert "tflite files only" in result.output and "Traceback" not in result.output
    assert not out.exists()
