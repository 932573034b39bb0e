"""quant-report on the tiny model (no MNIST): the engine-backed layers, the refusal of a model
of the wrong kind on either side, and the table's layer labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from edge_mnist.cli import app
from edge_mnist.cli.quant_report import layer_labels, short_name
from edge_mnist.runtime.quant_report import (
    QuantReportError,
    float_tflite_steps,
    int8_layers,
    report,
)

PIXELS = np.random.default_rng(0).integers(0, 256, (8, 784), dtype=np.uint8)


def test_the_tiny_models_layers_and_labels(tiny: Path) -> None:
    doc = report(tiny / "model_int8.tflite", PIXELS, tiny / "model_float32.tflite")
    assert [r["op"] for r in doc["layers"]] == ["FULLY_CONNECTED", "FULLY_CONNECTED", "SOFTMAX"]
    assert layer_labels(doc["layers"]) == ["hidden1", "logits", "softmax"]
    # Random pixels: each layer's own error is small (measured 11 to 46 dB).
    assert all(r["layer_snr_db"] > 10 for r in doc["layers"]), doc["layers"]
    assert short_name("model_1/hidden2_1/MatMul;model_1/hidden2_1/Relu") == "hidden2"
    assert short_name("StatefulPartitionedCall_1:0", "SOFTMAX") == "softmax"
    assert short_name("dense") == "dense"


def test_a_model_of_the_wrong_kind_is_refused_on_either_side(tiny: Path) -> None:
    int8, float32 = tiny / "model_int8.tflite", tiny / "model_float32.tflite"
    with pytest.raises(QuantReportError, match="input tensor is float32, not quantized int8") as e:
        int8_layers(float32, PIXELS)
    assert "int8 .tflite" in str(e.value.fix)
    with pytest.raises(QuantReportError, match="input tensor is int8, not float32") as e:
        float_tflite_steps(int8)
    assert "--reference" in str(e.value.fix)
    result = CliRunner().invoke(
        app, ["quant-report", str(int8), "--reference", str(int8), "--limit", "5"]
    )
    assert result.exit_code == 2 and "not float32" in result.output, result.output
