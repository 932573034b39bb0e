"""Where int8 loses accuracy: per-layer error of a quantized model against float activations.

For every layer the int8 output tensor (dequantized with the layer's own scale and zero point)
is compared with the float reference activation of the same layer on the same images:
SNR in dB, cosine similarity, max and mean absolute error, the fraction of values clipped at the
int8 limits, and the fraction of the int8 range in use. Needs numpy only, so it runs on a board.

Two SNRs per layer. ``snr_db`` is end to end: the int8 model's tensor against the float model
run on the same images, so it includes everything inherited from earlier layers. ``layer_snr_db``
is the layer's own: the float layer run on the int8 model's (dequantized) input to that layer,
against the int8 layer's output. The worst layer is the one with the lowest own SNR, which
points at the layer whose quantization is at fault rather than at the last one in the chain.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .artifacts import FLOAT32_TFLITE, INT8_TFLITE
from .errors import EdgeMnistError

SCHEMA_VERSION = 1
QMIN, QMAX = -128, 127
# Reported instead of an infinite SNR when the dequantized tensor equals the reference exactly.
SNR_CAP_DB = 200.0


class QuantReportError(EdgeMnistError):
    """The models cannot be compared layer by layer."""


@dataclass(frozen=True)
class QuantTensor:
    """A layer's int8 output for a batch, with the parameters that turn it into real values."""

    name: str
    op: str
    values: np.ndarray  # int8, (N, ...)
    scale: float
    zero_point: int

    def dequantized(self) -> np.ndarray:
        return (self.values.astype(np.float32) - np.float32(self.zero_point)) * np.float32(
            self.scale
        )


@dataclass(frozen=True)
class LayerStats:
    """One row of the report."""

    index: int
    name: str
    op: str
    shape: list[int]
    snr_db: float
    layer_snr_db: float
    cosine: float
    max_abs_error: float
    mean_abs_error: float
    saturated: float
    at_min: float
    at_max: float
    range_used: float
    scale: float
    zero_point: int
    reference_min: float
    reference_max: float


def snr_db(reference: np.ndarray, approx: np.ndarray) -> float:
    """10·log10(signal power / error power); capped at SNR_CAP_DB for an exact match."""
    ref = reference.astype(np.float64)
    noise = float(np.sum((approx.astype(np.float64) - ref) ** 2))
    signal = float(np.sum(ref**2))
    if noise == 0.0:
        return SNR_CAP_DB
    if signal == 0.0:
        return -SNR_CAP_DB
    return max(-SNR_CAP_DB, min(SNR_CAP_DB, 10.0 * math.log10(signal / noise)))


def mean_cosine(reference: np.ndarray, approx: np.ndarray) -> float:
    """Cosine similarity per image, averaged; two all-zero vectors count as identical."""
    a = reference.reshape(len(reference), -1).astype(np.float64)
    b = approx.reshape(len(approx), -1).astype(np.float64)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    dot = np.sum(a * b, axis=1)
    both_zero = (na == 0) & (nb == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(both_zero, 1.0, dot / np.maximum(na * nb, 1e-300))
    return float(np.mean(cos))


def layer_stats(
    index: int, tensor: QuantTensor, reference: np.ndarray, local_reference: np.ndarray
) -> LayerStats:
    """Compare one layer's int8 tensor with its float reference activation (end to end) and
    with the float layer's output on the int8 model's own input to the layer (local)."""
    if tensor.values.shape != reference.shape:
        raise QuantReportError(
            f"layer {index} ({tensor.name}): int8 shape {tensor.values.shape} differs from the "
            f"reference's {reference.shape}.",
            "compare a model with the float model it was exported from.",
        )
    q = tensor.values.astype(np.int32)
    deq = tensor.dequantized()
    ref = reference.astype(np.float32)
    err = np.abs(deq - ref)
    # A value at an int8 limit is clipped only if the float value lies beyond that limit by more
    # than half a step: ReLU zeros sit at -128 with zero point -128 and are exact, not saturated.
    half = 0.5 * tensor.scale
    low = (QMIN - tensor.zero_point) * tensor.scale - half
    high = (QMAX - tensor.zero_point) * tensor.scale + half
    clipped = ((q == QMIN) & (ref < low)) | ((q == QMAX) & (ref > high))
    snr = snr_db(ref, deq)
    return LayerStats(
        index=index,
        name=tensor.name,
        op=tensor.op,
        shape=[int(d) for d in tensor.values.shape[1:]],
        snr_db=round(snr, 3),
        layer_snr_db=round(snr_db(local_reference.astype(np.float32), deq), 3),
        cosine=round(mean_cosine(ref, deq), 6),
        max_abs_error=float(err.max()) if err.size else 0.0,
        mean_abs_error=float(err.mean()) if err.size else 0.0,
        saturated=float(clipped.mean()),
        at_min=float(np.mean(q == QMIN)),
        at_max=float(np.mean(q == QMAX)),
        range_used=float((q.max() - q.min()) / (QMAX - QMIN)) if q.size else 0.0,
        scale=float(tensor.scale),
        zero_point=int(tensor.zero_point),
        reference_min=float(ref.min()) if ref.size else 0.0,
        reference_max=float(ref.max()) if ref.size else 0.0,
    )


FloatStep = Callable[[np.ndarray], np.ndarray]


def compare_layers(
    layers: Sequence[QuantTensor],
    steps: Sequence[FloatStep],
    input_tensor: QuantTensor,
    reference_input: np.ndarray,
) -> list[LayerStats]:
    """One LayerStats per layer. ``steps`` are the float model's layers as functions, in the
    same order; ``reference_input`` is the float input the int8 input was quantized from."""
    if len(layers) != len(steps):
        raise QuantReportError(
            f"the int8 model has {len(layers)} layers and the reference {len(steps)}.",
            "compare a model with the float model it was exported from.",
        )
    rows = []
    reference = reference_input.astype(np.float32)
    previous = input_tensor
    for i, (tensor, step) in enumerate(zip(layers, steps, strict=True)):
        reference = np.asarray(step(reference), dtype=np.float32)
        local = np.asarray(step(previous.dequantized()), dtype=np.float32)
        rows.append(layer_stats(i, tensor, reference, local))
        previous = tensor
    return rows


def worst_layer(rows: Sequence[LayerStats]) -> LayerStats:
    """The layer with the lowest own SNR (ties: the lower end-to-end SNR)."""
    if not rows:
        raise QuantReportError("the model has no layers to compare.")
    return min(rows, key=lambda r: (r.layer_snr_db, r.snr_db))


def build_report(
    model: str,
    reference: str,
    reference_kind: str,
    images: int,
    rows: Sequence[LayerStats],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON document (see quant_report.schema.json)."""
    worst = worst_layer(rows)
    return {
        "schema_version": SCHEMA_VERSION,
        "model": model,
        "reference": reference,
        "reference_kind": reference_kind,
        "images": images,
        "worst_layer": worst.name,
        "worst_index": worst.index,
        "layers": [asdict(r) for r in rows],
        **(extra or {}),
    }


# --- The int8 model and the float .tflite reference, run by the NumPy engine ---------------------

# Operators whose outputs the report compares; QUANTIZE, DEQUANTIZE and RESHAPE only move data.
COMPARED_OPS = ("FULLY_CONNECTED", "SOFTMAX")


def quantize_input(pixels: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """uint8 pixels (N, 784) to the model's int8 input; exact for scale 1/255, zero point -128."""
    real = pixels.astype(np.float32) / np.float32(255.0)
    q = np.round(real / np.float32(scale)) + zero_point
    return np.clip(q, QMIN, QMAX).astype(np.int8)


def _unmapped(path: Path, ops: list[str]) -> QuantReportError:
    return QuantReportError(
        f"{path}: operators {', '.join(sorted(set(ops)))} are not ones the report maps to layers "
        f"(it compares chains of {' and '.join(COMPARED_OPS)}).",
        f"report on the files 'edge-mnist export' writes ({INT8_TFLITE}, {FLOAT32_TFLITE}).",
    )


def _checked_engine(path: Path, dtype: type[np.generic], fix: str) -> Any:
    """The NumPy engine on ``path``, once its input is ``dtype`` (int8: quantized) and its
    operators are ones the report maps to layers; else QuantReportError with ``fix``."""
    from .engine import Engine

    engine = Engine.load(path)
    if engine.input.dtype != dtype or (dtype is np.int8 and engine.input.quant is None):
        want = "quantized int8" if dtype is np.int8 else np.dtype(dtype).name
        raise QuantReportError(
            f"{path}: the input tensor is {engine.input.dtype}, not {want}.", fix
        )
    other = [op for op in engine.ops if op not in COMPARED_OPS]
    if other:
        raise _unmapped(path, other)
    return engine


def check_models(model: Path, reference: Path) -> None:
    """Refuse a model or a .tflite reference of the wrong kind before any test image is read."""
    _checked_engine(model, np.int8, f"pass the full-integer int8 .tflite ({INT8_TFLITE}).")
    if reference.suffix == ".tflite":
        float_tflite_steps(reference)


def int8_layers(path: Path, pixels: np.ndarray) -> tuple[QuantTensor, list[QuantTensor]]:
    """The int8 model's input and every layer's output for uint8 ``pixels`` (N, 784)."""
    engine = _checked_engine(path, np.int8, f"pass the full-integer int8 .tflite ({INT8_TFLITE}).")
    quant = engine.input.quant
    scale, zero = float(quant.scale[0]), int(quant.zero_point[0])
    x = quantize_input(pixels, scale, zero)
    layers = []
    for layer in engine.layers(x):
        if layer.scale is None or layer.zero_point is None or layer.values.dtype != np.int8:
            raise QuantReportError(
                f"{path}: layer {layer.index} ({layer.op}) is not per-tensor int8 "
                f"({layer.values.dtype}).",
                f"pass the full-integer int8 .tflite ({INT8_TFLITE}).",
            )
        layers.append(
            QuantTensor(layer.name, layer.op, layer.values, layer.scale, layer.zero_point)
        )
    return QuantTensor("input", "INPUT", x, scale, zero), layers


def float_tflite_steps(path: Path) -> list[tuple[str, FloatStep]]:
    """(name, function) per layer of the float .tflite, each run by the engine's own kernel."""
    engine = _checked_engine(
        path,
        np.float32,
        f"pass the float32 .tflite ({FLOAT32_TFLITE}) or the .keras model as --reference.",
    )
    names = [layer.name for layer in engine.layers(np.zeros((1, 784), np.float32))]
    return list(zip(names, engine.steps, strict=True))


def report(
    model: Path,
    pixels: np.ndarray,
    reference: Path,
    reference_steps: list[tuple[str, FloatStep]] | None = None,
    reference_kind: str = "tflite",
) -> dict[str, Any]:
    """The full report for uint8 test ``pixels`` (N, 784): the float layers come from
    ``reference_steps`` when given (e.g. Keras), else from the float .tflite ``reference``."""
    if reference_steps is None:
        reference_steps = float_tflite_steps(reference)
    input_tensor, layers = int8_layers(model, pixels)
    real_input = pixels.astype(np.float32) / np.float32(255.0)
    rows = compare_layers(layers, [f for _n, f in reference_steps], input_tensor, real_input)
    # Reference names (hidden1, …) read better than the converter's tensor names.
    if reference_kind == "keras":
        rows = [
            LayerStats(**{**asdict(r), "name": name})
            for r, (name, _f) in zip(rows, reference_steps, strict=True)
        ]
    return build_report(str(model), str(reference), reference_kind, len(pixels), rows)
