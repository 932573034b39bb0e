"""TFLite interpreters: ai-edge-litert, tflite-runtime and tensorflow.lite share one API."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelLoadError
from .base import (
    RawCall,
    Stage,
    TensorInfo,
    bad_tensor_names,
    import_interpreter,
    package_version,
)
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

    def _cannot_run(self, exc: RuntimeError) -> ModelLoadError:
        """A call the interpreter refused, e.g. a batch size the damaged file cannot take."""
        return ModelLoadError(
            f"{self._path}: {self.name} cannot run this model: {exc}",
            "the file is corrupt; export it again.",
        )

    def run(self, x: np.ndarray) -> np.ndarray:
        with self._lock:
            if x.shape != self._in_shape:
                self._fit(x.shape)
            self._set_tensor(self._in, x)
            try:
                self._invoke()
            except RuntimeError as exc:
                raise self._cannot_run(exc) from None
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

    def staged_call(self, shape: tuple[int, ...], stage: Stage | None) -> RawCall:
        """See ``base.Staging``. Every name the call uses is bound here: at batch 1 each lookup
        shows. The input shape is not checked per call: set_tensor refuses a shape that is not
        the interpreter's, which happens only when ``run`` fitted another batch size since."""
        shape = tuple(shape)
        with self._lock:
            self._fit(shape)
        acquire, release = self._lock.acquire, self._lock.release
        index_in, index_out = self._in, self._out
        set_tensor, invoke, get_tensor = self._set_tensor, self._invoke, self._get_tensor
        fit, cannot_run = self._fit, self._cannot_run

        def run_ready(x: np.ndarray) -> np.ndarray:
            acquire()
            try:
                try:
                    set_tensor(index_in, x)
                except ValueError:  # another batch size ran since: fit this one again
                    fit(shape)
                    set_tensor(index_in, x)
                try:
                    invoke()
                except RuntimeError as exc:
                    raise cannot_run(exc) from None
                return get_tensor(index_out)
            finally:
                release()

        if stage is None:
            return run_ready
        # Written under the lock: one buffer serves every caller thread.
        buffer = np.empty(shape, dtype=self.input.dtype)
        ufunc, operand, target = stage.ufunc, stage.operand, buffer.view(stage.dtype)

        # run_ready's body again rather than a call to it: one Python call is a measurable share
        # of a 3 us batch-1 inference (docs/2026-12-03-batch1-overhead-and-cold-start.md).
        def run_staged(x: np.ndarray) -> np.ndarray:
            acquire()
            try:
                ufunc(x, operand, target)
                try:
                    set_tensor(index_in, buffer)
                except ValueError:  # another batch size ran since: fit this one again
                    fit(shape)
                    set_tensor(index_in, buffer)
                try:
                    invoke()
                except RuntimeError as exc:
                    raise cannot_run(exc) from None
                return get_tensor(index_out)
            finally:
                release()

        return run_staged
