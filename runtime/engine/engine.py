"""Load a .tflite file into a chain of prepared kernels, run it, and expose every layer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelLoadError
from .flatbuffer import Malformed
from .fused import build
from .kernels import Step, Unsupported, prepare
from .model import ModelDef, TensorDef, parse
from .rounding import DEFAULT_ROUNDING, check_rounding

MAX_FILE_BYTES = 1 << 30
_INPUT_DTYPES = (np.float32, np.int8, np.uint8)


@dataclass(frozen=True)
class LayerTensor:
    """One operator's output for a batch: raw values plus what they mean."""

    index: int  # the operator's position in execution order
    op: str  # e.g. "FULLY_CONNECTED"
    name: str  # the output tensor's name in the model
    values: np.ndarray  # as the model stores it: int8 for quantized tensors
    scale: float | None
    zero_point: int | None

    @property
    def real(self) -> np.ndarray:
        """The values as float32 (dequantized for quantized tensors)."""
        if self.scale is None or self.zero_point is None:
            return self.values.astype(np.float32, copy=False)
        return (self.scale * (self.values.astype(np.float64) - self.zero_point)).astype(np.float32)


def _scalar_quant(t: TensorDef) -> tuple[float | None, int | None]:
    if t.quant is None or t.quant.per_channel:
        return None, None
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


class Engine:
    """A parsed, validated and prepared model. ``run`` is thread-safe: kernels hold only
    read-only constants and every call allocates its own arrays. ``rounding`` names whose
    int8 arithmetic it reproduces: ``litert`` (the default), ``reference`` or ``tflm``
    (``rounding.py``); an unknown name is an :class:`InvalidInputError`."""

    def __init__(
        self, model: ModelDef, source: str = "model", rounding: str = DEFAULT_ROUNDING
    ) -> None:
        self.model = model
        self.source = source
        self.rounding = check_rounding(rounding)
        try:
            self._check_graph()
            self.steps: tuple[Step, ...] = tuple(
                prepare(op, model.tensors, rounding) for op in model.operators
            )
            self._fused = build(self.steps, model.inputs[0], model.outputs[0])
            self._dry_run()
        except Unsupported as exc:
            raise ModelLoadError(
                f"{source}: {exc}.",
                "export the model with 'edge-mnist export', or choose an interpreter backend "
                "(pip install ai-edge-litert).",
            ) from None
        except Malformed as exc:
            raise ModelLoadError(
                f"{source}: the file is corrupt or not a TFLite model: {exc}.",
                "export the model again, or copy it to the device again.",
            ) from None

    @classmethod
    def load(cls, path: str | Path, rounding: str = DEFAULT_ROUNDING) -> Engine:
        check_rounding(rounding)  # before reading a possibly large file
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise ModelLoadError(
                    f"{path}: {size} bytes is too large for a model this engine runs "
                    f"(at most {MAX_FILE_BYTES})."
                )
            data = path.read_bytes()
        except FileNotFoundError:
            raise ModelLoadError(f"{path}: no such model file.") from None
        except OSError as exc:
            raise ModelLoadError(f"{path}: cannot read it ({exc.strerror}).") from None
        return cls.from_bytes(data, str(path), rounding)

    @classmethod
    def from_bytes(
        cls, data: bytes, source: str = "model", rounding: str = DEFAULT_ROUNDING
    ) -> Engine:
        check_rounding(rounding)
        try:
            model = parse(data)
        except Malformed as exc:
            raise ModelLoadError(
                f"{source}: the file is corrupt or not a TFLite model: {exc}.",
                "export the model again, or copy it to the device again.",
            ) from None
        return cls(model, source, rounding)

    @property
    def input(self) -> TensorDef:
        return self.model.tensors[self.model.inputs[0]]

    @property
    def output(self) -> TensorDef:
        return self.model.tensors[self.model.outputs[0]]

    @property
    def ops(self) -> list[str]:
        return [step.op for step in self.steps]

    def _check_graph(self) -> None:
        """One input, one output, and every operator reads only what exists by then."""
        m = self.model
        if len(m.inputs) != 1 or len(m.outputs) != 1:
            raise Unsupported(
                f"the model has {len(m.inputs)} inputs and {len(m.outputs)} outputs; this "
                "engine runs models with one of each"
            )
        if not m.operators:
            raise Malformed("the model has no operators")
        x = m.tensors[m.inputs[0]]
        if x.data is not None or x.dtype not in _INPUT_DTYPES or not x.shape:
            raise Unsupported(f"the input tensor is {x.dtype.name} {list(x.shape)}")
        ready = {m.inputs[0]} | {t.index for t in m.tensors if t.data is not None}
        for op in m.operators:
            for i in op.inputs:
                if i >= 0 and i not in ready:
                    raise Malformed(f"operator {op.index} reads tensor {i} before it is written")
            for o in op.outputs:
                if o in ready:
                    raise Malformed(f"operator {op.index} overwrites tensor {o}")
                ready.add(o)
        if m.outputs[0] not in ready:
            raise Malformed("no operator writes the output tensor")

    def _dry_run(self) -> None:
        """Run once on zeros: every produced tensor must have its declared shape and type."""
        x = np.zeros(self.input.shape, self.input.dtype)
        try:
            layers = self._layers(x)
            if self._fused is not None and not np.array_equal(self._fused(x), layers[-1]):
                raise Malformed("the fused plan disagrees with the operators")
            for step, layer in zip(self.steps, layers, strict=True):
                t = self.model.tensors[step.target]
                if layer.shape != t.shape or layer.dtype != t.dtype:
                    raise Malformed(
                        f"operator {step.index} ({step.op}) produces {layer.dtype} "
                        f"{list(layer.shape)} but its output tensor is {t.dtype} {list(t.shape)}"
                    )
        except (ValueError, IndexError, TypeError) as exc:
            raise Malformed(f"the operators do not fit together ({exc})") from None

    def _layers(self, x: np.ndarray) -> list[np.ndarray]:
        values: dict[int, Any] = {self.model.inputs[0]: x}
        out = []
        for step in self.steps:
            y = step(values[step.source])
            values[step.target] = y
            out.append(y)
        return out

    def run(self, x: np.ndarray) -> np.ndarray:
        """The model's output for a batch (no checks: the caller passes the input dtype and
        a shape whose trailing axes match the model's input)."""
        if self._fused is not None:
            return self._fused(x)
        values: dict[int, Any] = {self.model.inputs[0]: x}
        for step in self.steps:
            values[step.target] = step(values[step.source])
        return values[self.model.outputs[0]]  # type: ignore[no-any-return]

    def layers(self, x: np.ndarray) -> list[LayerTensor]:
        """Every operator's output for a batch, in execution order (the last is the output)."""
        result = []
        for step, y in zip(self.steps, self._layers(x), strict=True):
            t = self.model.tensors[step.target]
            scale, zero = _scalar_quant(t)
            result.append(LayerTensor(step.index, step.op, t.name, y, scale, zero))
        return result
