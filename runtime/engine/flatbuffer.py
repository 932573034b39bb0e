"""A bounds-checked reader for FlatBuffers tables, vectors and strings.

Why not the ``tflite`` package (the schema generated for the ``flatbuffers`` runtime)? It
would add two dependencies to a runtime that promises numpy and Pillow only, and generated
accessors trust every offset in the file: a truncated or damaged model raises ``struct.error``
or ``IndexError`` from deep inside, or reads garbage. The engine needs a handful of fields, so
this reader checks every offset, vtable, vector length and scalar against the file size before
it reads, and raises :class:`Malformed` (with what it was reading) instead.

Format facts used (FlatBuffers binary format, little-endian): the file starts with a uoffset
to the root table; a table starts with an soffset to its vtable (``table - soffset``); a vtable
holds its own size, the table's size and one uint16 offset per field (0: absent, use the
default); an offset field holds a uoffset relative to the field's own position; a vector is a
uint32 count followed by its elements; a string is a byte vector with a NUL after it.
"""

from __future__ import annotations

import struct

import numpy as np

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")


class Malformed(Exception):
    """The bytes are not a well-formed FlatBuffer (the loader turns this into ModelLoadError)."""


class FlatBuffer:
    """The whole file, with bounds-checked primitive reads."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)

    def need(self, pos: int, n: int, what: str) -> None:
        if pos < 0 or n < 0 or pos + n > self.size:
            raise Malformed(
                f"{what} at byte {pos} (+{n}) lies outside the file ({self.size} bytes)"
            )

    def unpack(self, fmt: struct.Struct, pos: int, what: str) -> int | float | bool:
        self.need(pos, fmt.size, what)
        return fmt.unpack_from(self.data, pos)[0]  # type: ignore[no-any-return]

    def root(self, what: str) -> Table:
        return Table(self, int(self.unpack(_U32, 0, "the root offset")), what)


class Table:
    """One table: its fields are read by index (the order of the schema's declarations)."""

    __slots__ = ("_size", "_vt", "_vt_size", "buf", "pos", "what")

    def __init__(self, buf: FlatBuffer, pos: int, what: str) -> None:
        self.buf, self.pos, self.what = buf, pos, what
        vtable = pos - int(buf.unpack(_I32, pos, what))
        buf.need(vtable, 4, f"the vtable of {what}")
        self._vt_size = int(buf.unpack(_U16, vtable, what))
        self._size = int(buf.unpack(_U16, vtable + 2, what))
        if self._vt_size < 4 or self._vt_size % 2 or self._size < 4:
            raise Malformed(f"the vtable of {what} is invalid")
        buf.need(vtable, self._vt_size, f"the vtable of {what}")
        buf.need(pos, self._size, what)
        self._vt = vtable

    def _field(self, index: int, size: int) -> int | None:
        slot = 4 + 2 * index
        if slot + 2 > self._vt_size:
            return None
        offset = int(self.buf.unpack(_U16, self._vt + slot, self.what))
        if offset == 0:
            return None
        if offset + size > self._size:
            raise Malformed(f"field {index} of {self.what} lies outside its table")
        return self.pos + offset

    def scalar(self, index: int, fmt: str, default: int | float) -> int | float:
        packer = struct.Struct("<" + fmt)
        at = self._field(index, packer.size)
        return default if at is None else self.buf.unpack(packer, at, self.what)

    def _target(self, index: int, what: str) -> int | None:
        at = self._field(index, 4)
        if at is None:
            return None
        target = at + int(self.buf.unpack(_U32, at, what))
        self.buf.need(target, 4, what)
        return target

    def table(self, index: int, what: str) -> Table | None:
        target = self._target(index, what)
        return None if target is None else Table(self.buf, target, what)

    def vector(self, index: int, itemsize: int, what: str) -> tuple[int, int] | None:
        """(start, count) of a vector field, with all its elements inside the file."""
        target = self._target(index, what)
        if target is None:
            return None
        count = int(self.buf.unpack(_U32, target, what))
        self.buf.need(target + 4, count * itemsize, f"{what} ({count} elements)")
        return target + 4, count

    def array(self, index: int, dtype: str, what: str) -> np.ndarray | None:
        """A vector of scalars as a read-only numpy view ('<i4', '<f4', '<i8', 'u1', ...)."""
        dt = np.dtype(dtype)
        span = self.vector(index, dt.itemsize, what)
        if span is None:
            return None
        start, count = span
        return np.frombuffer(self.buf.data, dtype=dt, count=count, offset=start)

    def tables(self, index: int, what: str) -> list[Table]:
        span = self.vector(index, 4, what)
        if span is None:
            return []
        start, count = span
        out = []
        for i in range(count):
            at = start + 4 * i
            target = at + int(self.buf.unpack(_U32, at, what))
            out.append(Table(self.buf, target, f"{what}[{i}]"))
        return out

    def table_at(self, span: tuple[int, int], i: int, what: str) -> Table:
        """Element ``i`` of a vector of tables found by ``vector(index, 4, ...)``."""
        start, count = span
        if not 0 <= i < count:
            raise Malformed(f"{what} refers to entry {i}, but there are {count}")
        at = start + 4 * i
        return Table(self.buf, at + int(self.buf.unpack(_U32, at, what)), f"{what}[{i}]")

    def string(self, index: int, what: str) -> str:
        span = self.vector(index, 1, what)
        if span is None:
            return ""
        start, count = span
        try:
            return bytes(self.buf.data[start : start + count]).decode("utf-8")
        except UnicodeDecodeError as exc:
            # Converters write UTF-8; anything else is a damaged or hand-made file.
            raise Malformed(
                f"{what} is not valid UTF-8 ({exc.reason} at byte {exc.start})"
            ) from None
