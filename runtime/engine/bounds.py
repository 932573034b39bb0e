"""The memory a .tflite file asks for, checked against a cap before any interpreter sees it.

A damaged file can declare tensors of billions of elements: one found by flipping six bytes
of the int8 model declares a 7,707,034,384-element input. ai-edge-litert then allocates for
minutes (a 1-4 GB board swaps or is killed) inside native code that a signal cannot stop.
This walk reads only the tensor tables, with the engine's bounds-checked reader: every shape
and constant buffer must lie inside the file, a constant's buffer must hold exactly its
shape's bytes, and the activation tensors (those without constant data) together must fit
the cap: the arena an interpreter would allocate. Unlike ``model.parse`` it accepts every
tensor type and several subgraphs, because it guards interpreters that run more than the
engine does. It costs some 0.1 ms on the exported models (docs/2026-12-03-doctor-and-damaged-models.md).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelLoadError
from .flatbuffer import FlatBuffer, Malformed, Table

# Bytes per element of each TensorType (schema.fbs); STRING, RESOURCE and VARIANT have no
# fixed size and count one byte per element; INT4 is stored packed but counted whole.
ITEMSIZE = {
    0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 5: 1, 6: 1, 7: 2, 8: 8, 9: 1,
    10: 8, 11: 16, 12: 8, 13: 1, 14: 1, 15: 4, 16: 2, 17: 1, 18: 2,
}  # fmt: skip
_VARIABLE = (5, 13, 14)  # STRING, RESOURCE, VARIANT: a constant's buffer size is not implied
DEFAULT_CAP = 64 << 20  # 64 MiB: the exported MLPs need well under 1 MiB (batch 1)
CAP_ENV = "EDGE_MNIST_MAX_ARENA_MB"


@dataclass(frozen=True)
class Footprint:
    """What a file declares: tensor count, activation bytes, the largest activation."""

    tensors: int
    arena_bytes: int
    largest: str  # e.g. "tensor 0 ('x') with shape [1, 784] (784 bytes)"
    largest_bytes: int


def cap_bytes(cap: int | None = None) -> int:
    """``cap``, else EDGE_MNIST_MAX_ARENA_MB in MiB, else DEFAULT_CAP."""
    if cap is not None:
        return cap
    raw = os.environ.get(CAP_ENV, "").strip()
    if not raw:
        return DEFAULT_CAP
    try:
        mib = float(raw)
        # float() also reads "inf" and "nan": neither is a size (int(inf) raised OverflowError).
        if not (math.isfinite(mib) and mib > 0):
            raise ValueError
    except ValueError:
        raise ModelLoadError(
            f"{CAP_ENV}={raw!r} is not a positive, finite number of MiB.",
            f"set {CAP_ENV} to e.g. 256, or unset it for the default of {DEFAULT_CAP >> 20} MiB.",
        ) from None
    return int(mib * (1 << 20))


def _constant_bytes(model: Table, buffers: tuple[int, int], index: int, what: str) -> int:
    """Bytes of constant data behind buffer ``index`` (0: none, an activation)."""
    if index == 0 or buffers[1] == 0:
        return 0
    b = model.table_at(buffers, index, f"{what}: buffers")
    offset = int(b.scalar(1, "Q", 0))
    if offset > 1:
        size = int(b.scalar(2, "Q", 0))
        model.buf.need(offset, size, f"the buffer of {what}")
        return size
    span = b.vector(0, 1, f"the buffer of {what}")
    return 0 if span is None else span[1]


def footprint(data: bytes) -> Footprint:
    """Walk every subgraph's tensors; raises :class:`Malformed` for anything out of bounds."""
    buf = FlatBuffer(data)
    if buf.size < 8 or data[4:8] != b"TFL3":
        raise Malformed("no 'TFL3' identifier: not a TFLite flatbuffer")
    model = buf.root("the model")
    buffers = model.vector(4, 4, "buffers") or (0, 0)
    count = arena = largest_bytes = 0
    largest = "none"
    for g, graph in enumerate(model.tables(2, "subgraphs")):
        for i, t in enumerate(graph.tables(0, f"the tensors of subgraph {g}")):
            name = t.string(3, f"the name of tensor {i}") or f"tensor {i}"
            what = f"tensor {i} ({name!r})" + (f" of subgraph {g}" if g else "")
            dims = t.array(0, "<i4", f"the shape of {what}")
            shape = [] if dims is None else [int(d) for d in dims]
            if any(d < 0 for d in shape):
                raise Malformed(f"{what} has a negative dimension: {shape}")
            code = int(t.scalar(1, "b", 0))
            nbytes = math.prod(shape) * ITEMSIZE.get(code, 8)
            constant = _constant_bytes(model, buffers, int(t.scalar(2, "I", 0)), what)
            count += 1
            if constant:
                if code not in _VARIABLE and constant != nbytes:
                    raise Malformed(
                        f"{what} has shape {shape} ({nbytes} bytes) but its buffer holds "
                        f"{constant} bytes"
                    )
                continue
            arena += nbytes
            if nbytes > largest_bytes:
                largest_bytes = nbytes
                largest = f"{what} with shape {shape} ({nbytes:,} bytes)"
    return Footprint(count, arena, largest, largest_bytes)


def check_file(path: Path, data: bytes | None = None, cap: int | None = None) -> Footprint:
    """Refuse ``path`` (ModelLoadError, exit 2) when it is malformed or its activations need
    more than the cap; ``data`` is its content when the caller has read it already."""
    limit = cap_bytes(cap)
    try:
        if data is None:
            data = path.read_bytes()
        found = footprint(data)
    except FileNotFoundError:
        raise ModelLoadError(f"{path}: no such model file.") from None
    except OSError as exc:
        raise ModelLoadError(f"{path}: cannot read it ({exc.strerror}).") from None
    except Malformed as exc:
        raise ModelLoadError(
            f"{path}: the file is corrupt or not a TFLite model: {exc}.",
            "export the model again, or copy it to the device again.",
        ) from None
    if found.arena_bytes > limit:
        raise ModelLoadError(
            f"{path}: its tensors would need {found.arena_bytes:,} bytes of memory, over the "
            f"cap of {limit:,} ({limit / (1 << 20):g} MiB); the largest is {found.largest}. "
            "The file is damaged, or a model far larger than this runtime is meant for.",
            f"export the model again; if it really is this large, raise the cap with "
            f"{CAP_ENV}=<MiB>.",
        )
    return found
