"""ONNX models on onnxruntime's CPU provider."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ModelLoadError
from .base import RawCall, TensorInfo, bad_tensor_names, import_interpreter, package_version

if TYPE_CHECKING:
    from . import BackendSpec

_DTYPES = {"tensor(float)": "float32", "tensor(int8)": "int8", "tensor(uint8)": "uint8"}


class OnnxBackend:
    """An onnxruntime session (sessions are safe to share across threads)."""

    def __init__(self, spec: BackendSpec, path: Path, threads: int | None) -> None:
        ort = import_interpreter(str(spec.module), str(spec.dist))
        self.name = spec.name
        self.version = package_version(ort, spec.dists)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            # On a failed load onnxruntime prints an "EP Error ... retrying" banner to stdout
            # and tries again; the second failure is ours to report, the banner is noise.
            with contextlib.redirect_stdout(io.StringIO()):
                self._session = ort.InferenceSession(
                    str(path), sess_options=options, providers=["CPUExecutionProvider"]
                )
        except UnicodeDecodeError as exc:
            raise bad_tensor_names(path, exc) from None
        except Exception as exc:  # onnxruntime raises its own pybind exception types
            raise ModelLoadError(
                f"{path}: onnxruntime cannot load this model: {str(exc).strip()[:300]}",
                "the file is corrupt or not an ONNX model; export it again.",
            ) from None
        try:
            inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
            if len(inputs) != 1 or len(outputs) != 1:
                raise ModelLoadError(
                    f"{path}: expected one input and one output, found {len(inputs)} and "
                    f"{len(outputs)}."
                )
            self.input, self.output = (
                TensorInfo(t.name, _DTYPES.get(t.type, t.type), tuple(t.shape))
                for t in (inputs[0], outputs[0])
            )
        except UnicodeDecodeError as exc:
            raise bad_tensor_names(path, exc) from None
        self._in_name = self.input.name
        self._out_names = [self.output.name]

    def run(self, x: np.ndarray) -> np.ndarray:
        return self._session.run(self._out_names, {self._in_name: x})[0]

    def raw_call(self, x: np.ndarray) -> RawCall:
        run, out_names, in_name = self._session.run, self._out_names, self._in_name

        def call(x: np.ndarray) -> np.ndarray:
            return run(out_names, {in_name: x})[0]

        return call
