"""Run the per-layer quantization report: pick the float reference, load the test images, compare.

The reference is the ``.keras`` model where TensorFlow is installed, else the float32 ``.tflite``
run by the NumPy engine, so the report also works on a device. Without ``--reference`` both are
looked for beside the int8 model. TensorFlow is imported only for a ``.keras`` reference.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from edge_mnist.errors import UsageError
from edge_mnist.runtime import quant_report
from edge_mnist.runtime.artifacts import FLOAT32_TFLITE as FLOAT_TFLITE_FILE
from edge_mnist.runtime.artifacts import INT8_TFLITE, KERAS_FILE
from edge_mnist.runtime.backends import ONNX, detect_format

MAX_IMAGES = 10_000


def has_tensorflow() -> bool:
    return importlib.util.find_spec("tensorflow") is not None


def default_reference(model: Path) -> Path:
    """model.keras beside the int8 file when TensorFlow can read it, else model_float32.tflite."""
    keras_file = model.parent / KERAS_FILE
    if keras_file.is_file() and has_tensorflow():
        return keras_file
    tflite_file = model.parent / FLOAT_TFLITE_FILE
    if tflite_file.is_file():
        return tflite_file
    found = "TensorFlow is not installed and " if keras_file.is_file() else ""
    raise UsageError(
        f"{found}no float reference found beside {model} ({KERAS_FILE} needs TensorFlow; "
        f"{FLOAT_TFLITE_FILE} runs anywhere).",
        f"pass --reference {KERAS_FILE} or --reference {FLOAT_TFLITE_FILE} "
        "('edge-mnist export --quantize none' writes the latter).",
    )


def run_quant_report(
    model: Path,
    reference: Path | None = None,
    limit: int = 1000,
    data_dir: Path | None = None,
) -> dict[str, Any]:
    """Compare the int8 model with the float reference on the first ``limit`` test images."""
    if not 1 <= limit <= MAX_IMAGES:
        raise UsageError(f"--limit must be in 1..{MAX_IMAGES}, got {limit}.")
    if not model.is_file():
        raise UsageError(f"{model}: no such model file.", "pass the int8 .tflite file.")
    if detect_format(model) == ONNX:
        raise UsageError(
            f"{model}: the per-layer report reads .tflite files only, not ONNX.",
            f"report on {INT8_TFLITE} (export writes it from the same Keras model and "
            "calibration set); for the ONNX file, onnxruntime's own "
            "onnxruntime.quantization.qdq_loss_debug compares its QDQ tensors.",
        )
    ref = reference if reference is not None else default_reference(model)
    if not ref.is_file():
        raise UsageError(f"{ref}: no such reference file.", "pass the float .keras or .tflite.")
    quant_report.check_models(model, ref)  # the files first: a wrong one is not missing data
    from edge_mnist.data import load_test_split

    images, _labels = load_test_split(data_dir)
    pixels = images[:limit]
    if ref.suffix == ".keras":
        if not has_tensorflow():
            raise UsageError(
                f"{ref}: a .keras reference needs TensorFlow, which is not installed.",
                f"pass --reference {FLOAT_TFLITE_FILE} instead (runs without TensorFlow).",
            )
        from edge_mnist.quant_reference import keras_steps

        return quant_report.report(model, pixels, ref, keras_steps(ref), reference_kind="keras")
    return quant_report.report(model, pixels, ref, reference_kind="tflite")
