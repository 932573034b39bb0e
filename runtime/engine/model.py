"""Read a .tflite file into plain, validated descriptions of its tensors and operators.

Everything the kernels later rely on is checked here, before any array is allocated: the
schema version, a single subgraph, tensor types, dimensions (each at most ``MAX_DIM``, at most
``MAX_ELEMENTS`` per tensor), that a constant buffer holds exactly shape × itemsize bytes,
that every quantization scale is finite and positive and every zero point fits the type, and
that tensor and opcode indices are in range. Field numbers follow TFLite's ``schema.fbs``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .flatbuffer import FlatBuffer, Malformed, Table
from .opcodes import op_name

SCHEMA_VERSION = 3
MAX_DIM = 1 << 24
MAX_ELEMENTS = 1 << 28  # 256 M elements: far beyond any model this runtime is meant for
MAX_RANK = 8

# TensorType codes -> numpy dtypes the engine can hold (others are refused by name).
_DTYPES = {0: "float32", 2: "int32", 3: "uint8", 4: "int64", 9: "int8"}
_TYPE_NAMES = {
    1: "FLOAT16",
    5: "STRING",
    6: "BOOL",
    7: "INT16",
    8: "COMPLEX64",
    10: "FLOAT64",
    11: "COMPLEX128",
    12: "UINT64",
    13: "RESOURCE",
    14: "VARIANT",
    15: "UINT32",
    16: "UINT16",
    17: "INT4",
    18: "BFLOAT16",
}

# BuiltinOptions union members the engine reads.
FULLY_CONNECTED_OPTIONS = 8
SOFTMAX_OPTIONS = 9
RESHAPE_OPTIONS = 17


@dataclass(frozen=True)
class Quantization:
    """Affine quantization: real = scale * (q - zero_point), per tensor or along ``axis``."""

    scale: np.ndarray  # float32, one entry or one per channel
    zero_point: np.ndarray  # int64, same length
    axis: int

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1


@dataclass(frozen=True)
class TensorDef:
    index: int
    name: str
    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    signature: tuple[int, ...]  # shape_signature: -1 marks a dynamic (batch) dimension
    quant: Quantization | None
    data: np.ndarray | None  # constant contents (read-only), None for activations

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class OperatorDef:
    index: int
    code: int
    name: str  # e.g. "FULLY_CONNECTED", or the custom code for custom operators
    inputs: tuple[int, ...]  # -1: an omitted optional input
    outputs: tuple[int, ...]
    options_type: int
    options: Table | None = field(repr=False)


@dataclass(frozen=True)
class ModelDef:
    tensors: tuple[TensorDef, ...]
    operators: tuple[OperatorDef, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    description: str


def _indices(table: Table, index: int, what: str, limit: int, optional: bool) -> tuple[int, ...]:
    values = table.array(index, "<i4", what)
    if values is None:
        return ()
    low = -1 if optional else 0
    for v in values:
        if not low <= int(v) < limit:
            raise Malformed(f"{what} refers to tensor {int(v)}, but there are {limit} tensors")
    return tuple(int(v) for v in values)


def _quantization(t: Table, what: str, dtype: np.dtype[Any], rank: int) -> Quantization | None:
    q = t.table(4, f"the quantization of {what}")
    if q is None:
        return None
    scale = q.array(2, "<f4", f"the scales of {what}")
    if scale is None or len(scale) == 0:
        return None  # min/max only: not a quantized tensor
    zero = q.array(3, "<i8", f"the zero points of {what}")
    if zero is None or len(zero) == 0:
        zero = np.zeros(len(scale), np.int64)
    if len(zero) != len(scale):
        raise Malformed(f"{what} has {len(scale)} scales but {len(zero)} zero points")
    if not np.all(np.isfinite(scale)) or not np.all(scale > 0):
        raise Malformed(f"{what} has a quantization scale that is not a positive number")
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if np.any(zero < info.min) or np.any(zero > info.max):
            raise Malformed(f"{what} has a zero point outside the range of {dtype.name}")
    axis = int(q.scalar(6, "i", 0))
    if len(scale) > 1 and not 0 <= axis < rank:
        raise Malformed(f"{what} is quantized along axis {axis}, but has rank {rank}")
    return Quantization(np.array(scale, np.float32), np.array(zero, np.int64), axis)


def _buffer(model: Table, buffers: tuple[int, int], index: int, what: str) -> np.ndarray | None:
    """The raw bytes of a buffer, inside the flatbuffer or (large models) after it. Buffers are
    read only when a tensor refers to them, so a damaged count costs nothing."""
    b = model.table_at(buffers, index, f"{what}: buffers")
    data = b.array(0, "u1", f"buffer {index}")
    offset = int(b.scalar(1, "Q", 0))
    if offset > 1:
        size = int(b.scalar(2, "Q", 0))
        model.buf.need(offset, size, f"buffer {index}")
        return np.frombuffer(model.buf.data, np.uint8, count=size, offset=offset)
    return data if data is not None and len(data) else None


def _tensor(t: Table, i: int, model: Table, buffers: tuple[int, int]) -> TensorDef:
    name = t.string(3, f"the name of tensor {i}") or f"tensor {i}"
    what = f"tensor {i} ({name!r})"
    code = int(t.scalar(1, "b", 0))
    if code not in _DTYPES:
        kind = _TYPE_NAMES.get(code, f"type code {code}")
        raise Malformed(f"{what} has type {kind}, which this engine does not support")
    dtype = np.dtype(_DTYPES[code])
    dims = t.array(0, "<i4", f"the shape of {what}")
    shape = () if dims is None else tuple(int(d) for d in dims)
    if len(shape) > MAX_RANK:
        raise Malformed(f"{what} has rank {len(shape)} (at most {MAX_RANK} supported)")
    if any(not 1 <= d <= MAX_DIM for d in shape):
        raise Malformed(f"{what} has a dimension outside 1..{MAX_DIM}: {list(shape)}")
    if math.prod(shape) > MAX_ELEMENTS:
        raise Malformed(f"{what} has {math.prod(shape)} elements (at most {MAX_ELEMENTS})")
    sig = t.array(7, "<i4", f"the shape signature of {what}")
    signature = shape if sig is None or len(sig) == 0 else tuple(int(d) for d in sig)
    if len(signature) != len(shape) or any(
        s != d and s != -1 for s, d in zip(signature, shape, strict=True)
    ):
        raise Malformed(f"{what} has shape {list(shape)} but signature {list(signature)}")
    if t.table(6, f"the sparsity of {what}") is not None:
        raise Malformed(f"{what} is sparse, which this engine does not support")
    if int(t.scalar(10, "Q", 0)):
        raise Malformed(f"{what} lives in an external buffer, which this engine does not read")
    raw = _buffer(model, buffers, int(t.scalar(2, "I", 0)), what)
    data = None
    if raw is not None:
        expected = math.prod(shape) * dtype.itemsize
        if len(raw) != expected:
            raise Malformed(
                f"{what} has shape {list(shape)} ({dtype.name}: {expected} bytes) but its "
                f"buffer holds {len(raw)} bytes"
            )
        data = raw.view(dtype.newbyteorder("<")).reshape(shape)
    quant = _quantization(t, what, dtype, len(shape))
    if quant is not None and quant.per_channel and len(quant.scale) != shape[quant.axis]:
        raise Malformed(
            f"{what} has {len(quant.scale)} scales for {shape[quant.axis]} channels "
            f"along axis {quant.axis}"
        )
    return TensorDef(i, name, dtype, shape, signature, quant, data)


def parse(data: bytes) -> ModelDef:
    """Parse and validate a TFLite flatbuffer; raises :class:`Malformed`."""
    buf = FlatBuffer(data)
    if buf.size < 8 or data[4:8] != b"TFL3":
        raise Malformed("no 'TFL3' identifier: not a TFLite flatbuffer")
    model = buf.root("the model")
    version = int(model.scalar(0, "I", 0))
    if version != SCHEMA_VERSION:
        raise Malformed(f"schema version {version}, but this engine reads version 3")
    codes = []
    for oc in model.tables(1, "operator_codes"):
        deprecated = int(oc.scalar(0, "b", 0))
        builtin = int(oc.scalar(3, "i", 0))
        # Files from before code 127 only set the deprecated byte; newer ones set both
        # (the byte saturates at 127), so the larger of the two is the operator.
        code = max(deprecated, builtin)
        custom = oc.string(1, "a custom operator's name")
        codes.append((code, custom))
    subgraphs = model.tables(2, "subgraphs")
    if len(subgraphs) != 1:
        raise Malformed(f"{len(subgraphs)} subgraphs; this engine runs single-graph models")
    graph = subgraphs[0]
    buffers = model.vector(4, 4, "buffers") or (0, 0)
    tensor_tables = graph.tables(0, "tensors")
    tensors = tuple(_tensor(t, i, model, buffers) for i, t in enumerate(tensor_tables))
    n = len(tensors)
    operators = []
    for i, op in enumerate(graph.tables(3, "operators")):
        opcode = int(op.scalar(0, "I", 0))
        if not 0 <= opcode < len(codes):
            raise Malformed(f"operator {i} uses opcode {opcode}, but there are {len(codes)}")
        code, custom = codes[opcode]
        name = f"CUSTOM({custom})" if code == 32 else op_name(code)
        operators.append(
            OperatorDef(
                index=i,
                code=code,
                name=name,
                inputs=_indices(op, 1, f"the inputs of operator {i}", n, optional=True),
                outputs=_indices(op, 2, f"the outputs of operator {i}", n, optional=False),
                options_type=int(op.scalar(3, "B", 0)),
                options=op.table(4, f"the options of operator {i} ({name})"),
            )
        )
    return ModelDef(
        tensors=tensors,
        operators=tuple(operators),
        inputs=_indices(graph, 1, "the graph inputs", n, optional=False),
        outputs=_indices(graph, 2, "the graph outputs", n, optional=False),
        description=model.string(3, "the description"),
    )
