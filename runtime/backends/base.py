"""What every backend gives the classifier and the benchmark, and the checks they all share."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np

from ..errors import BackendUnavailableError, ModelLoadError

PIXELS = 784
CLASSES = 10
# Input dtypes the classifier can feed: floats in [0, 1], or 8-bit quantized pixels.
INPUT_DTYPES = ("float32", "int8", "uint8")


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


# The bare interpreter call on an input already in the model's form: set input, invoke, read.
RawCall = Callable[[np.ndarray], np.ndarray]


class Stage(NamedTuple):
    """A uint8 -> model input conversion as one ufunc call, ``ufunc(pixels, operand)``, whose
    result (of ``dtype``, the model's input dtype or one of the same size) has the bytes of the
    model's input: x ^ 0x80 as uint8 is x - 128 as int8; x / 255 as float32 is itself."""

    ufunc: np.ufunc
    operand: np.ndarray
    dtype: np.dtype[Any]


class Backend(Protocol):
    """A model loaded into one interpreter.

    ``run`` is the classifier's call: safe to share across threads, resizing for any batch.
    ``raw_call(x)`` readies the interpreter for ``x``'s shape and returns the bare call (set
    input, invoke, read output; no checks, no lock), which the benchmark times beside ``run``.
    """

    name: str
    version: str
    input: TensorInfo
    output: TensorInfo

    def run(self, x: np.ndarray) -> np.ndarray: ...

    def raw_call(self, x: np.ndarray) -> RawCall: ...


class Staging(Protocol):
    """What a backend whose interpreter holds its input buffer (TFLite) may offer beside
    ``Backend``, for callers that pass one batch shape in a loop (the classifier at batch 1).

    ``staged_call(shape, stage)`` readies the interpreter for ``shape`` and returns a call, as
    safe as ``run`` (same lock, same errors), for inputs of exactly that shape: with a ``stage``
    it takes uint8 pixels and writes ``stage``'s conversion into an input buffer of its own under
    the lock; without one it takes input already in the model's form. What it saves against
    ``run`` + a converted copy: a new array and its view, a shape check, a frame
    (docs/2026-12-03-batch1-overhead-and-cold-start.md).
    """

    def staged_call(self, shape: tuple[int, ...], stage: Stage | None) -> RawCall: ...


def import_interpreter(module: str, dist: str) -> Any:
    """Import an interpreter module; an installed but broken package is a clear error."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"{dist} is installed but cannot be imported: {exc}.",
            f"reinstall it: pip install --force-reinstall {dist}",
        ) from None


def package_version(module: Any, dists: tuple[str, ...]) -> str:
    """The interpreter's version: its __version__, else the installed distribution's."""
    top = importlib.import_module(module.__name__.split(".")[0])
    version = getattr(top, "__version__", None)
    if isinstance(version, str):
        return version
    from importlib import metadata  # slow to import: only when the module does not say

    for dist in dists:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def _per_item(shape: tuple[int | str, ...]) -> int | None:
    """Values per batch item (all dimensions after the first), None if any is not fixed."""
    dims = shape[1:]
    if not dims or not all(isinstance(d, int) and d > 0 for d in dims):
        return None
    return math.prod(int(d) for d in dims)


def validate_signature(path: Path, inp: TensorInfo, out: TensorInfo) -> None:
    """Reject a model that is not an MNIST classifier: 784 pixels in, 10 scores out per image
    (any batch dimension; (N, 784) and (N, 28, 28)-like inputs)."""
    fix = "pass a digit classifier written by 'edge-mnist export'."
    if _per_item(inp.shape) != PIXELS:
        raise ModelLoadError(
            f"{path}: its input {inp.name!r} has shape {inp.shape}; expected {PIXELS} pixels "
            "per image after the batch dimension, e.g. (N, 784) or (N, 28, 28).",
            fix,
        )
    if _per_item(out.shape) != CLASSES:
        raise ModelLoadError(
            f"{path}: its output {out.name!r} has shape {out.shape}; expected {CLASSES} class "
            "scores per image, e.g. (N, 10).",
            fix,
        )
    if inp.dtype not in INPUT_DTYPES:
        raise ModelLoadError(
            f"{path}: its input {inp.name!r} is {inp.dtype}; expected one of "
            f"{', '.join(INPUT_DTYPES)}.",
            fix,
        )


def bad_tensor_names(path: Path, detail: UnicodeDecodeError | str) -> ModelLoadError:
    """The error for tensor names that are not valid UTF-8 (a damaged or hostile file).

    ``detail`` is the decode error, or its last line as a child process reported it.
    """
    if isinstance(detail, UnicodeDecodeError):
        detail = f"{detail.reason} at byte {detail.start}"
    return ModelLoadError(
        f"{path}: the model's tensor names are not valid UTF-8 ({detail}), so the file is "
        "damaged or was not written by a converter.",
        "export the model again, or copy it to the device again.",
    )
