"""The pure-NumPy engine (runtime/engine/) as a backend: runs .tflite files with numpy alone."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..engine import DEFAULT_ROUNDING, Engine
from ..engine.model import TensorDef
from ..errors import InvalidInputError
from .base import RawCall, TensorInfo

if TYPE_CHECKING:
    from . import BackendSpec

ENGINE_VERSION = "1"


def _info(t: TensorDef) -> TensorInfo:
    quantized = t.quant is not None and not t.quant.per_channel
    return TensorInfo(
        name=t.name,
        dtype=t.dtype.name,
        shape=tuple(t.signature),
        scale=float(t.quant.scale[0]) if quantized and t.quant else None,
        zero_point=int(t.quant.zero_point[0]) if quantized and t.quant else None,
    )


class NumpyBackend:
    """Runs a .tflite model with numpy alone. ``threads`` is accepted for the common
    signature and ignored: the only parallel part is BLAS, which sizes its own pool.
    ``rounding`` picks whose int8 arithmetic the engine reproduces (``Engine``)."""

    def __init__(
        self,
        spec: BackendSpec,
        path: Path,
        threads: int | None,
        rounding: str = DEFAULT_ROUNDING,
    ) -> None:
        self.name = spec.name
        self.engine = Engine.load(path, rounding)
        self.rounding = self.engine.rounding
        self.version = f"engine-{ENGINE_VERSION} (numpy {np.__version__})"
        self.input = _info(self.engine.input)
        self.output = _info(self.engine.output)
        self._dtype = self.engine.input.dtype
        self._tail = self.engine.input.shape[1:]

    def run(self, x: np.ndarray) -> np.ndarray:
        """The output for a batch of the model's input dtype, any batch size (thread-safe)."""
        if not isinstance(x, np.ndarray):
            raise InvalidInputError(f"expected a numpy array, got {type(x).__name__}.")
        if x.dtype != self._dtype:
            raise InvalidInputError(
                f"the model takes {self._dtype.name} input, got {x.dtype.name}.",
                "convert the batch with the classifier's preprocessing.",
            )
        if x.ndim != 1 + len(self._tail) or x.shape[1:] != self._tail or x.shape[0] < 1:
            raise InvalidInputError(
                f"the model takes batches of shape (N, {', '.join(map(str, self._tail))}), "
                f"got {x.shape}."
            )
        return self.engine.run(x)

    def raw_call(self, x: np.ndarray) -> RawCall:
        """The engine's own call, without the checks (for the benchmark's raw loop)."""
        return self.engine.run
