"""TFLite interpreters: ai-edge-litert, tflite-runtime and tensorflow.lite share one API."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelLoadError
from .base import RawCall, TensorInfo, bad_tensor_names, import_interpreter, package_version
from .probe import probe_in_child
from .quiet import routine_lines_dropped

if TYPE_CHECKING:
    from . import BackendSpec


def _tensor(detail: dict[str, Any]) -> TensorInfo:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    quantized = bool(scale)
    return TensorInfo(
        name=str(detail["name"]),
        dtype=np.dtype(detail["dtype"]).name,
        shape=tuple(int(d) for d in detail["shape_signature"])
        or tuple(int(d) for d in detail["shape"]),
        scale=float(scale) if quantized else None,
        zero_point=int(zero_point) if quantized else None,
    )


class TFLiteBackend:
    """A TFLite interpreter behind a lock: one interpreter is not safe to share across threads."""

    def __init__(self, spec: BackendSpec, path: Path, threads: int | None) -> None:
        module = import_interpreter(str(spec.module), str(spec.dist))
        interpreter_cls = getattr(module, "Interpreter", None) or module.lite.Interpreter
        self.name = spec.name
        self._path = path
        self.version = package_version(module, spec.dists)
        if not spec.verifies_files:
            probe_in_child(spec, path, self.version)
        try:
            # The first allocation prints a routine "INFO: Created ... XNNPACK delegate" line.
            with routine_lines_dropped():
                self._interpreter = interpreter_cls(model_path=str(path), num_threads=threads)
                self._interpreter.allocate_tensors()
                # A damaged file can load and still fail at its first call (e.g. "Input tensor
                # 6 lacks data"): one call now makes that a load error, not a crash at predict.
                self._interpreter.invoke()
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(
                f"{path}: {spec.name} cannot load this model: {exc}",
                "the file is corrupt or not a TFLite model; export it again.",
            ) from None
        try:
            inputs = self._interpreter.get_input_details()
            outputs = self._interpreter.get_output_details()
        except UnicodeDecodeError as exc:
            raise bad_tensor_names(path, exc) from None
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelLoadError(
                f"{path}: expected one input and one output tensor, found "
                f"{len(inputs)} and {len(outputs)}."
            )
        self.input = _tensor(inputs[0])
        self.output = _tensor(outputs[0])
        self._in = inputs[0]["index"]
        self._out = outputs[0]["index"]
        self._in_shape = tuple(int(d) for d in inputs[0]["shape"])
        self._lock = threading.Lock()
        # Bound once: at batch 1 the whole call takes ~30 µs, and each lookup shows.
        self._set_tensor = self._interpreter.set_tensor
        self._invoke = self._interpreter.invoke
        self._get_tensor = self._interpreter.get_tensor

    def _fit(self, shape: tuple[int, ...]) -> None:
        """Resize the input for a new batch shape (called under the lock)."""
        if shape != self._in_shape:
            self._interpreter.resize_tensor_input(self._in, shape)
            self._interpreter.allocate_tensors()
            self._in_shape = shape

    def run(self, x: np.ndarray) -> np.ndarray:
        with self._lock:
            if x.shape != self._in_shape:
                self._fit(x.shape)
            self._set_tensor(self._in, x)
            try:
                self._invoke()
            except RuntimeError as exc:  # e.g. a batch size the damaged file cannot take
                raise ModelLoadError(
                    f"{self._path}: {self.name} cannot run this model: {exc}",
                    "the file is corrupt; export it again.",
                ) from None
            return self._get_tensor(self._out)

    def raw_call(self, x: np.ndarray) -> RawCall:
        with self._lock:
            self._fit(x.shape)
        index_in, index_out = self._in, self._out
        set_tensor, invoke, get_tensor = self._set_tensor, self._invoke, self._get_tensor

        def call(x: np.ndarray) -> np.ndarray:
            set_tensor(index_in, x)
            invoke()
            return get_tensor(index_out)

        return call
