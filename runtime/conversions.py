"""Images in, model tensors in; raw scores out: the conversions a Classifier builds once at load.

``as_batch`` is the exact check of every accepted image form; ``InputConversion`` turns checked
pixels into the model's input values (with the fast paths callers hit in a loop) and
``OutputConversion`` says how to read the model's raw output. The timings behind each fast path:
docs/2026-12-03-classifier-fast-paths.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .backends import TensorInfo
from .backends.base import PIXELS, Stage
from .errors import InvalidInputError

ACCEPTS = "(28, 28), (784,), (N, 784) or (N, 28, 28) arrays of float pixels in [0, 1] or integer pixels in 0-255"


def _bad_floats(lo: Any, hi: Any) -> InvalidInputError:
    bad = "NaN" if np.isnan(lo) or np.isnan(hi) else f"values from {lo:g} to {hi:g}"
    return InvalidInputError(
        f"got float pixels with {bad}; float pixels must be finite and in [0, 1].",
        "scale 0-255 images by 1/255, or pass them as uint8.",
    )


# dtype objects, not type objects: ``x.dtype is _U8`` and ``view(_U32)`` skip a conversion
# that shows at batch 1 (the fast-paths note); "is" only as a fast path (see prepare).
_U8 = np.dtype(np.uint8)
_I8 = np.dtype(np.int8)
_U32 = np.dtype(np.uint32)
_F32 = np.dtype(np.float32)
# As unsigned integers, the bit patterns of the float32 values in [0, 1] are exactly those up
# to 1.0's: negative numbers (sign bit), inf and NaN are all larger.
_ONE_F32_BITS = int(np.float32(1.0).view(np.uint32))


def _in_unit_range(x: np.ndarray) -> bool:
    """Whether every value of a float32 array is in [0, 1], in one argmax over the bit patterns
    (cheaper than a max() reduction: the fast-paths note). False for -0.0, which as_batch takes."""
    bits = x.view(_U32)
    return bool(bits.item(bits.argmax()) <= _ONE_F32_BITS)


def as_batch(x: Any) -> np.ndarray:
    """Check an image or batch and return it as an (N, 784) array of its own dtype."""
    arr = np.asarray(x)
    if arr.shape in ((28, 28), (PIXELS,)):
        arr = arr.reshape(1, PIXELS)
    elif (arr.ndim == 3 and arr.shape[1:] == (28, 28)) or (
        arr.ndim == 2 and arr.shape[1] == PIXELS
    ):
        arr = arr.reshape(arr.shape[0], PIXELS)
    else:
        raise InvalidInputError(f"got an array of shape {arr.shape}; expected {ACCEPTS}.")
    if arr.shape[0] == 0:
        raise InvalidInputError("got an empty batch (0 images).")
    kind = arr.dtype.kind
    if kind == "f":
        lo, hi = arr.min(), arr.max()
        if not (lo >= 0.0 and hi <= 1.0):
            raise _bad_floats(lo, hi)
    elif kind in "ui":
        if kind == "i" or arr.dtype.itemsize > 1:
            lo, hi = arr.min(), arr.max()
            if lo < 0 or hi > 255:
                raise InvalidInputError(
                    f"got integer pixels from {lo} to {hi}; integer pixels must be in 0-255."
                )
            arr = arr.astype(np.uint8)
    else:
        raise InvalidInputError(f"got an array of dtype {arr.dtype}; expected {ACCEPTS}.")
    return arr


class InputConversion:
    """Images to the model's input tensor, built once at load from the input ``TensorInfo``:
    its quantization, the fastest exact uint8 converter (and, where it is one ufunc call, that
    call as a ``Stage`` a backend can run into its own buffer), the model's per-image shape, and
    the fast path for the batches callers pass in a loop."""

    __slots__ = ("_clip", "_dtype", "_from_u8", "_scale", "_zero", "image_shape", "stage")

    def __init__(self, tensor: TensorInfo) -> None:
        self._dtype = np.dtype(tensor.dtype)
        self._scale: np.float32 | None = None
        self._zero = np.float32(0)
        self._clip: tuple[int, int] | None = None
        if tensor.scale is not None:
            self._scale, self._zero = np.float32(tensor.scale), np.float32(tensor.zero_point or 0)
            info = np.iinfo(self._dtype)
            low, high = self._zero, np.rint(np.float32(1) / self._scale) + self._zero
            if low < info.min or high > info.max:  # [0, 1] does not fit: clip
                self._clip = (int(info.min), int(info.max))
        # The model's own per-image shape if not (784,), e.g. (28, 28) or (28, 28, 1).
        image_shape = tuple(int(d) for d in tensor.shape[1:])
        self.image_shape = None if image_shape == (PIXELS,) else image_shape
        self._from_u8, self.stage = self._u8_converter()

    def _u8_converter(self) -> tuple[Callable[[np.ndarray], np.ndarray], Stage | None]:
        """The fastest exact map from uint8 pixels to the model's input values, and the same map
        as one ufunc call into a buffer (None if there is none); both checked on every value."""
        table = self.quantize(np.arange(256, dtype=np.float32) / np.float32(255))
        convert: Callable[[np.ndarray], np.ndarray] | None = None
        stage: Stage | None = None
        if table.dtype == np.int8:
            # Scale 1/255, zero point -128 is pixel - 128: flip the top bit (with a 0-d array,
            # cheaper than a numpy scalar: docs/2026-12-03-classifier-fast-paths.md).
            top_bit = np.array(0x80, dtype=np.uint8)

            def convert(b: np.ndarray) -> np.ndarray:
                return np.bitwise_xor(b, top_bit).view(_I8)

            stage = Stage(np.bitwise_xor, top_bit, _U8)
        elif table.dtype == np.float32:

            def convert(b: np.ndarray) -> np.ndarray:
                return np.divide(b, np.float32(255), dtype=np.float32)

            stage = Stage(np.divide, np.array(255, dtype=np.float32), _F32)
        probe = np.arange(256, dtype=np.uint8).reshape(-1, 1) * np.ones(PIXELS, dtype=np.uint8)
        expected = table[probe]
        if convert is None or not np.array_equal(convert(probe), expected):
            convert = table.take
        if stage is not None:
            # Run exactly as a backend runs it (numpy 1's value-based casting could differ).
            staged = np.empty_like(expected)
            stage.ufunc(probe, stage.operand, staged.view(stage.dtype))
            if not np.array_equal(staged, expected):
                stage = None
        return convert, stage

    def quantize(self, pixels: np.ndarray) -> np.ndarray:
        """Float32 pixels in [0, 1] to the model's input values, without checking them.

        round(p / scale) + zero in one new array changed in place: the range check has
        already proved that [0, 1] fits the integer type unless ``_clip`` says otherwise.
        """
        if self._scale is None:
            return pixels.astype(self._dtype, copy=False)
        q = np.divide(pixels, self._scale, dtype=np.float32)
        np.rint(q, out=q)
        if self._zero:
            np.add(q, self._zero, out=q)
        if self._clip is not None:
            np.clip(q, *self._clip, out=q)
        return q.astype(self._dtype)

    def prepare(self, x: Any) -> np.ndarray:
        """Validate an image or batch and convert it to the model's input tensor."""
        if type(x) is np.ndarray and x.ndim == 2 and self.image_shape is None:
            # The forms callers pass in a loop, (N, 784) uint8 or float32, checked in a few
            # attribute reads and, for floats, one argmax over the bit patterns (cheaper than a
            # max() reduction: the fast-paths note). Anything else, or a float batch that fails
            # here, goes through as_batch: the exact check (it lets -0.0 through) and messages.
            rows, columns = x.shape
            if columns == PIXELS and rows:
                dtype = x.dtype
                if dtype is _U8:
                    return self._from_u8(x)
                if dtype is _F32:
                    if _in_unit_range(x):
                        return self.quantize(x)
                # Arrays read from IDX files (read_idx) carry a uint8 dtype that is equal to
                # numpy's but another object: checked last, so the others pay nothing for it.
                elif dtype == _U8:
                    return self._from_u8(x)
        batch = as_batch(x)
        dtype = batch.dtype
        if dtype is _U8 or dtype == _U8:  # "==" for equal dtypes that are other objects
            ready = self._from_u8(batch)
        else:
            ready = self.quantize(batch if dtype is _F32 else batch.astype(_F32))
        if self.image_shape is not None:
            ready = ready.reshape(len(ready), *self.image_shape)
        return ready


class OutputConversion:
    """How to read the model's raw output, built once at load: whether the scores need flattening
    to (N, 10), and the dequantization that ``Prediction`` applies on first read (or None)."""

    __slots__ = ("dequantize", "flatten")

    def __init__(self, tensor: TensorInfo) -> None:
        self.flatten = len(tensor.shape) != 2
        self.dequantize: Callable[[np.ndarray], np.ndarray] | None = None
        if tensor.scale is not None:
            scale, zero = np.float32(tensor.scale), np.float32(tensor.zero_point or 0)
            if np.dtype(tensor.dtype).itemsize == 1:
                # Every 8-bit output value maps to one probability: look it up by its bit pattern.
                codes = np.arange(256, dtype=np.uint8).view(np.dtype(tensor.dtype))
                table = (codes.astype(np.float32) - zero) * scale
                self.dequantize = lambda raw: table[raw.view(np.uint8)]
            else:
                self.dequantize = lambda raw: (raw.astype(np.float32) - zero) * scale
