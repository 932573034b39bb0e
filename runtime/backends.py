"""Interpreter backends: find one that can run a .tflite or .onnx file and wrap it uniformly."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .errors import BackendUnavailableError, InvalidInputError, ModelLoadError

TFLITE = "tflite"
ONNX = "onnx"

# TFLite backends in order of preference: (module, pip distribution, how to get it).
TFLITE_BACKENDS: dict[str, tuple[str, str]] = {
    "litert": ("ai_edge_litert.interpreter", "ai-edge-litert"),
    "tflite-runtime": ("tflite_runtime.interpreter", "tflite-runtime"),
    "tensorflow": ("tensorflow", "tensorflow"),
}
ONNX_BACKENDS: dict[str, tuple[str, str]] = {"onnxruntime": ("onnxruntime", "onnxruntime")}
BACKENDS = (*TFLITE_BACKENDS, *ONNX_BACKENDS)

# Interpreters without a flatbuffer verifier crash the process on truncated files, so those
# load a model in a child process first.
_UNVERIFIED = ("tflite-runtime", "tensorflow")

_PROBE = """
import sys, numpy as np
mod = __import__(sys.argv[1], fromlist=["_"])
cls = mod.lite.Interpreter if sys.argv[1] == "tensorflow" else mod.Interpreter
it = cls(model_path=sys.argv[2])
it.allocate_tensors()
d = it.get_input_details()[0]
it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
it.invoke()
"""


@dataclass(frozen=True)
class TensorInfo:
    """Name, dtype, shape and (for quantized tensors) scale and zero point of a tensor."""

    name: str
    dtype: str
    shape: tuple[int | str, ...]
    scale: float | None = None
    zero_point: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "shape": list(self.shape),
            "scale": self.scale,
            "zero_point": self.zero_point,
        }


class Backend(Protocol):
    """What the classifier needs of an interpreter."""

    name: str
    version: str
    input: TensorInfo
    output: TensorInfo

    def run(self, x: np.ndarray) -> np.ndarray: ...


def detect_format(path: Path) -> str:
    """Tell a TFLite flatbuffer from an ONNX protobuf by content (the suffix only words the error)."""
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except FileNotFoundError:
        raise ModelLoadError(f"{path}: no such model file.") from None
    except OSError as exc:
        raise ModelLoadError(f"{path}: cannot read it ({exc.strerror}).") from None
    if not head:
        raise ModelLoadError(f"{path}: the file is empty.", "export the model again.")
    if head[4:8] == b"TFL3":
        return TFLITE
    # An ONNX ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
    if head[0] == 0x08:
        return ONNX
    kind = (
        "TFLite"
        if path.suffix.lower() == ".tflite"
        else "ONNX"
        if path.suffix.lower() == ".onnx"
        else "model"
    )
    raise ModelLoadError(
        f"{path}: not a valid {kind} file (no TFLite 'TFL3' identifier, no ONNX header).",
        "pass a .tflite or .onnx file written by 'edge-mnist export'.",
    )


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module.split(".")[0]) is not None
    except (ImportError, ValueError):
        return False


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _import(spec: tuple[str, str]) -> Any:
    """Import an interpreter module; an installed but broken package is a clear error."""
    module, dist = spec
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"{dist} is installed but cannot be imported: {exc}.",
            f"reinstall it: pip install --force-reinstall {dist}",
        ) from None


def _numpy2_conflict(name: str) -> str | None:
    """tflite-runtime's last release (2.14) was built against numpy 1 and breaks under numpy 2."""
    if name != "tflite-runtime" or int(np.__version__.split(".")[0]) < 2:
        return None
    version = _version("tflite-runtime")
    try:
        major, minor = (int(p) for p in version.split(".")[:2])
    except ValueError:
        return None
    if (major, minor) > (2, 14):
        return None
    return (
        f"tflite-runtime {version} was built for numpy 1 and cannot run under numpy "
        f"{np.__version__}."
    )


def pick_backend(fmt: str, backend: str | None) -> str:
    table = TFLITE_BACKENDS if fmt == TFLITE else ONNX_BACKENDS
    if backend is not None:
        if backend not in BACKENDS:
            raise BackendUnavailableError(
                f"unknown backend {backend!r}.", f"choose one of: {', '.join(BACKENDS)}."
            )
        if backend not in table:
            raise BackendUnavailableError(
                f"backend {backend!r} cannot run {fmt} models.",
                f"for {fmt} use one of: {', '.join(table)}.",
            )
        module, dist = table[backend]
        if not _installed(module):
            raise BackendUnavailableError(
                f"backend {backend!r} is not installed.", f"pip install {dist}"
            )
        conflict = _numpy2_conflict(backend)
        if conflict:
            raise BackendUnavailableError(
                conflict, "pip install 'numpy<2', or use ai-edge-litert: pip install ai-edge-litert"
            )
        return backend
    skipped = []
    for name, (module, _dist) in table.items():
        if not _installed(module):
            continue
        conflict = _numpy2_conflict(name)
        if conflict:
            skipped.append(conflict)
            continue
        return name
    if fmt == TFLITE:
        fix = "pip install ai-edge-litert (or 'edge-mnist[litert]'); or, on Python <= 3.11: pip install tflite-runtime 'numpy<2'"
    else:
        fix = "pip install onnxruntime (or 'edge-mnist[onnx]')"
    problem = f"no interpreter for {fmt} models is installed."
    if skipped:
        problem += " " + " ".join(skipped)
    raise BackendUnavailableError(problem, fix)


def _probe_in_child(name: str, path: Path) -> None:
    module = TFLITE_BACKENDS[name][0]
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _PROBE, module, str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        raise ModelLoadError(f"{path}: the {name} interpreter hung loading this model.") from None
    if proc.returncode != 0:
        how = "crashed" if proc.returncode < 0 else "failed"
        last = (proc.stderr.strip().splitlines() or [""])[-1]
        raise ModelLoadError(
            f"{path}: the {name} interpreter {how} loading this file, so it is truncated or "
            f"corrupt. {last}".strip(),
            "export the model again, or copy it to the device again.",
        )


def _tflite_tensor(detail: dict[str, Any]) -> TensorInfo:
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

    def __init__(self, name: str, path: Path, threads: int | None) -> None:
        module = _import(TFLITE_BACKENDS[name])
        interpreter_cls = module.lite.Interpreter if name == "tensorflow" else module.Interpreter
        self.name = name
        self.version = _version(TFLITE_BACKENDS[name][1] if name != "tensorflow" else "tensorflow")
        if name in _UNVERIFIED:
            _probe_in_child(name, path)
        try:
            self._interpreter = interpreter_cls(model_path=str(path), num_threads=threads)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(
                f"{path}: {name} cannot load this model: {exc}",
                "the file is corrupt or not a TFLite model; export it again.",
            ) from None
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelLoadError(
                f"{path}: expected one input and one output tensor, found "
                f"{len(inputs)} and {len(outputs)}."
            )
        self.input = _tflite_tensor(inputs[0])
        self.output = _tflite_tensor(outputs[0])
        self._in = inputs[0]["index"]
        self._out = outputs[0]["index"]
        self._in_shape = tuple(int(d) for d in inputs[0]["shape"])
        self._lock = threading.Lock()

    @property
    def interpreter(self) -> Any:
        """The raw interpreter (for benchmarks that compare against it)."""
        return self._interpreter

    def run(self, x: np.ndarray) -> np.ndarray:
        with self._lock:
            if x.shape != self._in_shape:
                self._interpreter.resize_tensor_input(self._in, x.shape)
                self._interpreter.allocate_tensors()
                self._in_shape = x.shape
            self._interpreter.set_tensor(self._in, x)
            self._interpreter.invoke()
            return self._interpreter.get_tensor(self._out)


_ORT_DTYPES = {"tensor(float)": "float32", "tensor(int8)": "int8", "tensor(uint8)": "uint8"}


class OnnxBackend:
    """An onnxruntime session on the CPU provider (sessions are safe to share across threads)."""

    def __init__(self, path: Path, threads: int | None) -> None:
        ort = _import(ONNX_BACKENDS["onnxruntime"])
        self.name = "onnxruntime"
        self.version = ort.__version__
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own pybind exception types
            raise ModelLoadError(
                f"{path}: onnxruntime cannot load this model: {str(exc).strip()[:300]}",
                "the file is corrupt or not an ONNX model; export it again.",
            ) from None
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelLoadError(
                f"{path}: expected one input and one output, found {len(inputs)} and {len(outputs)}."
            )
        self.input = TensorInfo(
            inputs[0].name, _ORT_DTYPES.get(inputs[0].type, inputs[0].type), tuple(inputs[0].shape)
        )
        self.output = TensorInfo(
            outputs[0].name,
            _ORT_DTYPES.get(outputs[0].type, outputs[0].type),
            tuple(outputs[0].shape),
        )
        self._in_name = inputs[0].name
        self._out_names = [outputs[0].name]

    @property
    def session(self) -> Any:
        """The raw onnxruntime session (for benchmarks that compare against it)."""
        return self._session

    def run(self, x: np.ndarray) -> np.ndarray:
        return self._session.run(self._out_names, {self._in_name: x})[0]


def open_backend(
    path: str | Path, backend: str | None = None, threads: int | None = None
) -> tuple[str, Backend]:
    """Detect the model's format, pick an interpreter and load the model into it."""
    path = Path(path)
    if threads is not None and threads < 1:
        raise InvalidInputError(f"threads must be at least 1, got {threads}.")
    fmt = detect_format(path)
    name = pick_backend(fmt, backend)
    if fmt == TFLITE:
        return fmt, TFLiteBackend(name, path, threads)
    return fmt, OnnxBackend(path, threads)
