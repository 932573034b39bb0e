"""Classify MNIST digits with an exported .tflite or .onnx model, on any interpreter backend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .backends import Backend, TensorInfo, open_backend
from .backends.base import RawCall, Stage
from .conversions import (
    _F32,
    _U8,
    InputConversion,
    OutputConversion,
    _in_unit_range,
)

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded model is and what runs it."""

    path: str
    format: str
    backend: str
    backend_version: str
    input: TensorInfo
    output: TensorInfo
    threads: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "backend": self.backend,
            "backend_version": self.backend_version,
            "input": self.input.to_dict(),
            "output": self.output.to_dict(),
            "threads": self.threads,
        }


class Prediction:
    """Digits (N,) and class probabilities (N, 10) for a batch of N images.

    Probabilities are dequantized on first access: most callers want only the digits. From
    ``classify_image``, ``uncertain`` and ``reason`` say when the image may not be one digit.
    """

    __slots__ = ("_dequantize", "_probabilities", "_raw", "_reason", "digits")
    _probabilities: np.ndarray
    _reason: str

    def __init__(
        self,
        digits: np.ndarray,
        raw: np.ndarray,
        dequantize: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        self.digits = digits
        self._raw = raw
        self._dequantize = dequantize
        # _probabilities stays unset until read: one store less per call at batch 1.

    @property
    def probabilities(self) -> np.ndarray:
        """Float32 class probabilities, (N, 10)."""
        try:
            return self._probabilities
        except AttributeError:
            raw = self._raw
            self._probabilities = (
                raw.astype(np.float32, copy=False)
                if self._dequantize is None
                else self._dequantize(raw)
            )
            return self._probabilities

    @property
    def reason(self) -> str | None:
        """Why the answer is uncertain (the ink, or the model's low confidence), or None."""
        # Unset unless classify_image doubts the image: batches pay nothing for it.
        try:
            return self._reason
        except AttributeError:
            return None

    @property
    def uncertain(self) -> bool:
        """True when the image may not be one digit; only ``classify_image`` judges images."""
        return self.reason is not None

    def top(self, k: int = 3) -> list[list[tuple[int, float]]]:
        """The k most likely digits with their probabilities, per image."""
        probs = self.probabilities
        order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        return [[(int(d), float(p[d])) for d in row] for row, p in zip(order, probs, strict=True)]

    def __repr__(self) -> str:
        return f"Prediction(digits={self.digits!r})"


class _FastPath(NamedTuple):
    """The backend's staged calls for one batch shape, (N, 784): ``uint8`` takes uint8 pixels
    and converts them under the backend's lock into its own buffer; ``ready`` takes input
    already in the model's form. ``shape`` None: no fast path (the backend has no staged calls,
    or the model's input or output is not (N, 784) -> (N, 10))."""

    shape: tuple[int, ...] | None
    uint8: RawCall
    ready: RawCall
    dequantize: Callable[[np.ndarray], np.ndarray] | None


class Classifier:
    """A loaded model that turns MNIST-style images into digits."""

    def __init__(self, path: Path, fmt: str, backend: Backend, threads: int | None) -> None:
        self._backend = backend
        self.info = ModelInfo(
            path=str(path),
            format=fmt,
            backend=backend.name,
            backend_version=backend.version,
            input=backend.input,
            output=backend.output,
            threads=threads,
        )
        self._input = InputConversion(backend.input)
        self._output = OutputConversion(backend.output)
        self._run = backend.run  # bound once, as the bench's raw loop does
        # Bound, not a method: the bench's raw float loop calls it, and should pay no frame more.
        self.quantize = self._input.quantize
        """Float32 pixels in [0, 1] to the model's input values, without checking them."""
        # The fast path needs staged calls (base.Staging: TFLite's only), the exact uint8 ufunc,
        # and (N, 784) in, (N, 10) out (other shapes take the general path below).
        staged_call = getattr(backend, "staged_call", None)
        usable = self._input.image_shape is None and not self._output.flatten
        self._staged_call: Callable[[tuple[int, ...], Stage | None], RawCall] | None = (
            staged_call if usable else None
        )
        # Built by the first predict of a shape (run has then fitted the interpreter to it).
        self._fast = _FastPath(None, self._run, self._run, None)

    def _fast_path_for(self, shape: tuple[int, ...]) -> None:
        """Make ``shape`` the batch shape of the fast path (one tuple swapped in, so that a thread
        reading it sees one shape's calls, never a mix)."""
        stage = self._input.stage
        if self._staged_call is not None and stage is not None:
            self._fast = _FastPath(
                shape,
                self._staged_call(shape, stage),
                self._staged_call(shape, None),
                self._output.dequantize,
            )

    @classmethod
    def load(
        cls,
        path: str | Path,
        backend: str | None = None,
        threads: int | None = None,
        rounding: str | None = None,
    ) -> Classifier:
        """Load a .tflite or .onnx model; the backend is chosen from the file's content.

        ``rounding`` ("litert", "reference" or "tflm") picks whose int8 arithmetic the NumPy
        engine reproduces; it implies ``backend="numpy"`` and is an error with any other.
        """
        path = Path(path)
        fmt, impl = open_backend(path, backend, threads, rounding)
        return cls(path, fmt, impl, threads)

    @property
    def backend(self) -> Backend:
        """The interpreter wrapper behind this classifier."""
        return self._backend

    def prepare(self, x: Any) -> np.ndarray:
        """Validate an image or batch and convert it to the model's input tensor."""
        return self._input.prepare(x)

    def predict(self, x: Any) -> Prediction:
        """Classify one image or a batch; see ``ACCEPTS`` for the shapes and dtypes taken."""
        fast = self._fast
        if type(x) is np.ndarray and x.shape == fast.shape:
            # A batch of the last (N, 784) shape, as callers pass them in a loop: uint8 pixels go
            # straight to the backend's staged call (conversion, lock and call in one frame, no
            # shape check), in-range float32 ones through quantize, anything else through the
            # checks of prepare (docs/2026-12-03-batch1-overhead-and-cold-start.md).
            if x.dtype is _U8:
                raw = fast.uint8(x)
            elif x.dtype is _F32 and _in_unit_range(x):
                raw = fast.ready(self.quantize(x))
            else:
                raw = fast.ready(self._input.prepare(x))
            # Dequantizing is monotonic (scale > 0), so the raw output's argmax is the digit.
            return Prediction(raw.argmax(1), raw, fast.dequantize)
        ready = self._input.prepare(x)
        raw = self._run(ready)
        if self._staged_call is not None and type(x) is np.ndarray and x.shape == ready.shape:
            # The next batch of this shape takes the fast path (batch sizes change rarely).
            self._fast_path_for(x.shape)
        output = self._output
        if output.flatten:
            raw = raw.reshape(len(raw), -1)
        return Prediction(raw.argmax(1), raw, output.dequantize)

    def classify_image(self, image: str | Path | Image.Image) -> Prediction:
        """Preprocess a photo or scan of a digit into MNIST form and classify it.

        Images that are not one digit raise ``ImageError``; weaker evidence, or a top
        probability under ``LOW_CONFIDENCE``, sets ``uncertain`` and ``reason`` on the answer.
        """
        from .preprocess import prepare
        from .preprocess.evidence import confidence_doubt

        digit, doubt = prepare(image)
        pred = self.predict(digit)
        if doubt is None:
            doubt = confidence_doubt(float(pred.probabilities[0].max()))
        if doubt is not None:
            pred._reason = doubt
        return pred
