"""Where golden vectors sit inside a model file: find their blob, or make the ONNX entry.

- .tflite: the ``Model.metadata`` entry named ``GOLDEN_KEY``; its buffer holds the blob (read
  with the engine's bounds-checked FlatBuffer reader).
- .onnx: a ``metadata_props`` entry with the same key, the blob in base64 (protobuf strings must
  be UTF-8). Read without the ``onnx`` package: a ModelProto is a sequence of tagged fields, so
  walking the top level and skipping every field but ``metadata_props`` (14) takes a few lines;
  export appends the entry to the serialized file (protobuf merges repeated fields wherever they
  appear), leaving the converter's bytes as they were.
"""

from __future__ import annotations

import base64
from pathlib import Path

from .errors import ModelLoadError

GOLDEN_KEY = "edge_mnist_golden"


class GoldenError(ModelLoadError):
    """Golden vectors that are present but damaged."""


def _tflite_blob(data: bytes) -> bytes | None:
    """The buffer of the metadata entry named GOLDEN_KEY (Model.metadata: name, buffer)."""
    from .engine.flatbuffer import FlatBuffer

    model = FlatBuffer(data).root("the model")
    buffers = model.vector(4, 4, "buffers")
    for meta in model.tables(6, "metadata"):
        if meta.string(0, "a metadata name") != GOLDEN_KEY:
            continue
        index = int(meta.scalar(1, "I", 0))
        if buffers is None:
            return None
        buffer = model.table_at(buffers, index, "buffers")
        array = buffer.array(0, "u1", "the golden-vector buffer")
        return None if array is None else array.tobytes()
    return None


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _fields(data: bytes) -> list[tuple[int, bytes | int]]:
    """The top-level (field number, value) pairs of a protobuf message."""
    out: list[tuple[int, bytes | int]] = []
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, value))
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            size, pos = _varint(data, pos)
            if pos + size > len(data):
                raise ValueError("a field runs past the end of the file")
            out.append((number, data[pos : pos + size]))
            pos += size
        else:
            raise ValueError(f"wire type {wire}")
    return out


ONNX_METADATA_PROPS = 14  # ModelProto.metadata_props: StringStringEntryProto (key 1, value 2)


def _onnx_blob(data: bytes) -> bytes | None:
    for number, value in _fields(data):
        if number != ONNX_METADATA_PROPS or not isinstance(value, bytes):
            continue
        entry = dict(_fields(value))
        if entry.get(1) == GOLDEN_KEY.encode():
            text = entry.get(2, b"")
            return base64.b64decode(text, validate=True) if isinstance(text, bytes) else None
    return None


def onnx_entry(blob: bytes) -> bytes:
    """A serialized ModelProto field 14 holding the blob: appended to an ONNX file, it adds
    the golden vectors (protobuf merges repeated fields in any order)."""

    def varint(v: int) -> bytes:
        out = bytearray()
        while True:
            out.append((v & 0x7F) | (0x80 if v > 0x7F else 0))
            v >>= 7
            if not v:
                return bytes(out)

    def field(number: int, payload: bytes) -> bytes:
        return varint(number << 3 | 2) + varint(len(payload)) + payload

    entry = field(1, GOLDEN_KEY.encode()) + field(2, base64.b64encode(blob))
    return field(ONNX_METADATA_PROPS, entry)


def golden_blob(path: str | Path) -> bytes | None:
    """The raw golden-vector blob inside a .tflite or .onnx file, or None when it has none."""
    from .backends import TFLITE, detect_format
    from .engine.flatbuffer import Malformed

    path = Path(path)
    fmt = detect_format(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelLoadError(f"{path}: cannot read it ({exc.strerror}).") from None
    try:
        return _tflite_blob(data) if fmt == TFLITE else _onnx_blob(data)
    except (Malformed, ValueError) as exc:
        raise GoldenError(
            f"{path}: the file is corrupt ({exc}).", "export the model again."
        ) from None
