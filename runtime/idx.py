"""Read IDX files (the MNIST container format), gzip-compressed or raw, with strict checks."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from .errors import DataFileError

# IDX type codes (third byte of the magic number) to numpy dtypes (big-endian on disk).
_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx_bytes(path: str | Path) -> bytes:
    """Return the decompressed bytes of an IDX file (gzip is detected by its magic bytes)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file.") from None
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read it ({exc.strerror}).") from None
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFileError(
            f"{path}: the gzip stream is truncated or corrupt ({exc}).",
            "delete the file and download it again.",
        ) from None


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes into an array, checking the magic number, dimensions and length."""
    if len(data) < 4:
        raise DataFileError(f"{name}: too short to be an IDX file ({len(data)} bytes).")
    if data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise DataFileError(
            f"{name}: wrong magic number {data[:4].hex()} (an IDX file starts with 0000, "
            "a type code and the number of dimensions).",
            "check that this is an MNIST IDX file, not an HTML page or another format.",
        )
    dtype = _DTYPES[data[2]]
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise DataFileError(f"{name}: the header is truncated or declares {ndim} dimensions.")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than its header says"
        raise DataFileError(
            f"{name}: the file is {what}: {len(data)} bytes, the header {shape} "
            f"implies {expected}.",
            "delete the file and download it again.",
        )
    return (
        np.frombuffer(data, dtype=dtype, offset=header)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )


def find_idx(folder: Path, name: str) -> Path | None:
    """The file ``name`` in ``folder``, gzip-compressed (``name.gz``) or raw; None if neither."""
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzip or raw) into a numpy array."""
    return parse_idx(read_idx_bytes(path), str(path))
