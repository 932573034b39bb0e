"""Golden vectors: a few test inputs and the exact outputs each interpreter must give for them.

Export picks a handful of inputs (``select_inputs``: the ones where the rounding variants
disagree, the smallest top-2 margins, a few ordinary ones) and records each variant's output
(``make_golden``). They travel inside the model file: a TFLite metadata entry named
``GOLDEN_KEY`` (its buffer holds the blob), or an ONNX ``metadata_props`` entry with the same key
(the blob in base64, as protobuf strings must be UTF-8). ``read_golden`` finds them again with
numpy and the standard library alone, so ``edge-mnist verify`` runs on a bare device.

The blob: ``MAGIC``, a uint32 header length, a JSON header (count, dtype, variants, tolerance,
step bound, machine, why each input was picked), then the inputs and every variant's outputs,
zlib-compressed (16 MNIST digits and three variants: 13,024 bytes to 3,499).

Finding the blob inside a .tflite or .onnx file is ``golden_file.py``'s job.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .golden_file import GOLDEN_KEY, GoldenError, golden_blob, onnx_entry

MAGIC = b"EMGV"
BLOB_VERSION = 1
PIXELS = 784
CLASSES = 10
DEFAULT_COUNT = 16
# Float models: interpreters differ in the order of float additions, which moves probabilities
# by a few float32 ulps (~1e-7); 1e-5 allows that and still catches any changed weight.
FLOAT_TOLERANCE = 1e-5
# int8 ONNX checked on another CPU architecture than the export's: onnxruntime's int8 kernels
# differ by architecture, so only a bound is checked there (and digits where the margin
# exceeds twice the bound, as those cannot flip within it). Not yet measured on ARM.
ONNX_CROSS_ARCH_STEPS = 8
# Variant names for outputs that are not an engine rounding variant.
FLOAT = "float"
ONNXRUNTIME = "onnxruntime"
_HEADER = struct.Struct("<4sI")
# Bounds on what a blob may declare, so its inflated size is bounded before inflating (at most
# 4096 x 784 input bytes + 8 x 4096 x 10 float32 outputs: 4.5 MB). Exports write DEFAULT_COUNT
# vectors of at most 3 variants.
MAX_COUNT = 4096
MAX_VARIANTS = 8


@dataclass(frozen=True)
class GoldenVectors:
    """Inputs (N, 784) uint8 and, per variant, the expected raw outputs (N, 10).

    int8 models: ``expected`` maps "litert", "reference", "tflm" (or "onnxruntime") to int8
    outputs that must match exactly (``tolerance`` 0). float32 models: "float" to float32
    outputs within ``tolerance``. ``machine`` is where they were computed; ``step_bound`` is
    how many output steps (``step``, one quantization step of the output) an int8 ONNX
    output may differ by on another CPU architecture (0: no such allowance).
    """

    inputs: np.ndarray
    expected: dict[str, np.ndarray]
    tolerance: float = 0.0
    step_bound: int = 0
    step: float = 0.0
    machine: str = ""
    picks: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        n = len(self.inputs)
        if self.inputs.shape != (n, PIXELS) or self.inputs.dtype != np.uint8 or n == 0:
            raise ValueError(f"golden inputs must be (N, 784) uint8, got {self.inputs.shape}")
        for name, out in self.expected.items():
            if out.shape != (n, CLASSES) or out.dtype not in (np.int8, np.float32):
                raise ValueError(f"golden outputs {name!r} must be (N, 10) int8 or float32")

    @property
    def count(self) -> int:
        return len(self.inputs)

    @property
    def dtype(self) -> str:
        return next(iter(self.expected.values())).dtype.name

    @property
    def variants(self) -> tuple[str, ...]:
        return tuple(self.expected)

    def to_bytes(self) -> bytes:
        header = {
            "version": BLOB_VERSION,
            "count": self.count,
            "dtype": self.dtype,
            "variants": list(self.expected),
            "tolerance": self.tolerance,
            "step_bound": self.step_bound,
            "step": self.step,
            "machine": self.machine,
            "picks": list(self.picks),
        }
        text = json.dumps(header, separators=(",", ":")).encode()
        little = np.dtype(self.dtype).newbyteorder("<")
        payload = self.inputs.tobytes() + b"".join(
            np.ascontiguousarray(out, dtype=little).tobytes() for out in self.expected.values()
        )
        return _HEADER.pack(MAGIC, len(text)) + text + zlib.compress(payload, 9)

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "the model") -> GoldenVectors:
        def bad(why: str) -> GoldenError:
            return GoldenError(
                f"{source}: its golden vectors are damaged ({why}).",
                "export the model again, or copy it to the device again.",
            )

        if len(data) < _HEADER.size or data[:4] != MAGIC:
            raise bad("no golden-vector header")
        _, size = _HEADER.unpack_from(data)
        try:
            header = json.loads(data[_HEADER.size : _HEADER.size + size])
            if header["version"] != BLOB_VERSION:
                raise bad(f"blob version {header['version']}, this runtime reads {BLOB_VERSION}")
            count, dtype = int(header["count"]), np.dtype(header["dtype"])
            variants = [str(v) for v in header["variants"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise bad(str(exc)) from None
        # The payload's size follows from the header, so it is checked before inflating: a few
        # hundred KB of zlib can otherwise inflate to hundreds of MB on a small board.
        if dtype not in (np.int8, np.float32) or not 1 <= count <= MAX_COUNT:
            raise bad(f"{count} {dtype.name} vectors (at most {MAX_COUNT} int8 or float32)")
        if not 1 <= len(variants) <= MAX_VARIANTS or len(set(variants)) != len(variants):
            raise bad(f"{len(variants)} variants (1 to {MAX_VARIANTS} distinct)")
        want = count * PIXELS + len(variants) * count * CLASSES * dtype.itemsize
        inflate = zlib.decompressobj()
        try:
            payload = inflate.decompress(data[_HEADER.size + size :], want + 1)
        except zlib.error as exc:
            raise bad(str(exc)) from None
        if len(payload) != want or not inflate.eof:
            got = f"more than {want:,}" if len(payload) > want else f"{len(payload):,}"
            raise bad(f"{got} bytes of data for {count} {dtype.name} vectors, expected {want:,}")
        inputs = np.frombuffer(payload, np.uint8, count * PIXELS).reshape(count, PIXELS)
        expected = {}
        at = count * PIXELS
        for v in variants:
            n = count * CLASSES
            arr = np.frombuffer(payload, dtype.newbyteorder("<"), n, at).astype(dtype)
            expected[v] = arr.reshape(count, CLASSES)
            at += n * dtype.itemsize
        return cls(
            inputs,
            expected,
            float(header.get("tolerance", 0.0)),
            int(header.get("step_bound", 0)),
            float(header.get("step", 0.0)),
            str(header.get("machine", "")),
            tuple(str(p) for p in header.get("picks", ())),
        )

    def summary(self, blob_bytes: int | None = None) -> dict[str, Any]:
        """What the manifest lists about them."""
        out: dict[str, Any] = {
            "key": GOLDEN_KEY,
            "count": self.count,
            "dtype": self.dtype,
            "variants": list(self.variants),
            "tolerance": self.tolerance,
            "step_bound": self.step_bound,
            "step": self.step,
            "machine": self.machine,
            "picks": {p: self.picks.count(p) for p in dict.fromkeys(self.picks)},
        }
        if blob_bytes is not None:
            out["bytes"] = blob_bytes
        return out


def margins(outputs: np.ndarray) -> np.ndarray:
    """Top-1 minus top-2 score per row (in raw units: int8 steps or float probability)."""
    top2 = np.sort(outputs.astype(np.float64), axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def select_inputs(
    outputs: dict[str, np.ndarray], count: int = DEFAULT_COUNT
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Indices of ``count`` inputs (deterministic) and why each was picked.

    First every input where the variants' outputs differ ("disagree", at most half: they are
    the ones that tell the interpreters apart), then the smallest top-2 margins ("margin", up
    to three quarters in all: where a changed weight or rounding flips a digit first), then
    inputs spread evenly over the rest ("ordinary").
    """
    first = next(iter(outputs.values()))
    n = len(first)
    count = min(count, n)
    chosen: list[int] = []
    picks: list[str] = []
    differ = np.zeros(n, bool)
    for out in outputs.values():
        differ |= np.any(out != first, axis=1)
    for i in np.flatnonzero(differ)[: count // 2]:
        chosen.append(int(i))
        picks.append("disagree")
    taken = set(chosen)
    for i in np.argsort(margins(first), kind="stable"):
        if len(chosen) >= (3 * count) // 4:
            break
        if int(i) not in taken:
            chosen.append(int(i))
            picks.append("margin")
            taken.add(int(i))
    rest = np.array([i for i in range(n) if i not in taken], dtype=np.int64)
    want = count - len(chosen)
    if want > 0 and len(rest):
        for i in rest[np.linspace(0, len(rest) - 1, want).round().astype(np.int64)]:
            chosen.append(int(i))
            picks.append("ordinary")
    return np.array(chosen, dtype=np.int64), tuple(picks)


def quantized_step(outputs: np.ndarray) -> float:
    """The output step of a model whose float outputs take few distinct values (an int8 ONNX
    model dequantizes its int8 output: at most 256 values), else 0.0 (a float model)."""
    values = np.unique(outputs)
    if len(values) > 256 or len(values) < 2:
        return 0.0
    return float(np.diff(values).min())


def as_pixels(images: np.ndarray) -> np.ndarray:
    """(N, 784) uint8 pixels from uint8 or float images in [0, 1] (MNIST as the host loads it)."""
    arr = np.asarray(images).reshape(len(images), PIXELS)
    if arr.dtype == np.uint8:
        return arr
    return np.rint(arr.astype(np.float64) * 255).clip(0, 255).astype(np.uint8)


def raw_outputs(
    path: str | Path, pixels: np.ndarray, backend: str, rounding: str | None = None
) -> np.ndarray:
    """The model's raw (N, 10) output for uint8 pixels on one backend."""
    from .classifier import Classifier

    clf = Classifier.load(path, backend=backend, rounding=rounding)
    raw = clf.backend.run(clf.prepare(pixels))
    return np.asarray(raw).reshape(len(pixels), -1)


def make_golden(
    model_path: str | Path, images: np.ndarray, count: int = DEFAULT_COUNT
) -> GoldenVectors:
    """Pick inputs from ``images`` and record every variant's output for ``model_path``.

    .tflite: the NumPy engine's three rounding variants (int8; each matches its interpreter on
    all 10,000 MNIST test images, docs/2026-12-03-rounding-variants.md) or its float output.
    .onnx: onnxruntime's output on this machine (needs onnxruntime: export runs on the host).
    An int8 ONNX model (quantize/dequantize pairs, float output) gets an exact expectation on
    this architecture and ``ONNX_CROSS_ARCH_STEPS`` output steps elsewhere; its step is the
    smallest gap between the distinct output values over ``images``.
    """
    import platform

    from .backends import ONNX, detect_format
    from .engine import ROUNDINGS

    path = Path(model_path)
    pixels = as_pixels(images)
    if detect_format(path) == ONNX:
        outputs = {ONNXRUNTIME: raw_outputs(path, pixels, "onnxruntime")}
    else:
        outputs = {r: raw_outputs(path, pixels, "numpy", r) for r in ROUNDINGS}
    first = next(iter(outputs.values()))
    is_float = first.dtype == np.float32
    step = 0.0
    if ONNXRUNTIME in outputs:
        step = quantized_step(first)
    elif is_float:  # the rounding variants differ in int8 arithmetic only
        outputs = {FLOAT: first}
    index, picks = select_inputs(outputs, count)
    return GoldenVectors(
        inputs=np.ascontiguousarray(pixels[index]),
        expected={k: np.ascontiguousarray(v[index]) for k, v in outputs.items()},
        tolerance=FLOAT_TOLERANCE if is_float and not step else 0.0,
        step_bound=ONNX_CROSS_ARCH_STEPS if step else 0,
        step=step,
        machine=platform.machine(),
        picks=picks,
    )


def read_golden(path: str | Path) -> GoldenVectors | None:
    """The golden vectors inside a model file, or None when it carries none."""
    blob = golden_blob(path)
    return None if blob is None else GoldenVectors.from_bytes(blob, str(path))


__all__ = [
    "DEFAULT_COUNT",
    "GOLDEN_KEY",
    "GoldenError",
    "GoldenVectors",
    "golden_blob",
    "make_golden",
    "onnx_entry",
    "read_golden",
    "select_inputs",
]
