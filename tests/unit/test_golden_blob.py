"""Golden-vector blobs are bounded before they are inflated: a damaged or hostile blob is
refused (GoldenError, exit 2) without allocating what its zlib stream would inflate to."""

from __future__ import annotations

import json
import struct
import tracemalloc
import zlib

import pytest

from edge_mnist.runtime.golden import MAGIC, MAX_COUNT, GoldenError, GoldenVectors


def blob(count: int, payload: bytes, variants: tuple[str, ...] = ("litert",)) -> bytes:
    """A blob in the export's layout: magic, header length, JSON header, zlib payload."""
    header = {"version": 1, "count": count, "dtype": "int8", "variants": list(variants)}
    text = json.dumps(header).encode()
    return struct.pack("<4sI", MAGIC, len(text)) + text + zlib.compress(payload, 9)


def want(count: int, variants: int = 1) -> int:
    return count * 784 + variants * count * 10


def test_a_zlib_bomb_is_refused_without_inflating_it() -> None:
    bomb = blob(16, bytes(64 << 20))  # 64 MiB of zeros: a ~64 KB blob
    assert len(bomb) < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(GoldenError, match=r"more than 12,704 bytes of data") as caught:
            GoldenVectors.from_bytes(bomb, "bomb.tflite")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"inflated {peak:,} bytes before refusing"
    assert caught.value.exit_code == 2 and "bomb.tflite" in str(caught.value)


def test_the_declared_count_and_variants_are_bounded() -> None:
    with pytest.raises(GoldenError, match=rf"at most {MAX_COUNT}"):
        GoldenVectors.from_bytes(blob(MAX_COUNT + 1, b""))
    with pytest.raises(GoldenError, match="at most"):
        GoldenVectors.from_bytes(blob(0, b""))
    with pytest.raises(GoldenError, match="variants"):
        GoldenVectors.from_bytes(blob(1, bytes(want(1, 9)), tuple(f"v{i}" for i in range(9))))
    with pytest.raises(GoldenError, match="variants"):
        GoldenVectors.from_bytes(blob(1, bytes(want(1, 2)), ("litert", "litert")))


def test_the_payload_must_be_exactly_the_declared_size() -> None:
    assert GoldenVectors.from_bytes(blob(2, bytes(want(2)))).count == 2
    with pytest.raises(
        GoldenError, match=r"1,587 bytes of data for 2 int8 vectors, expected 1,588"
    ):
        GoldenVectors.from_bytes(blob(2, bytes(want(2) - 1)))
    with pytest.raises(GoldenError, match=r"more than 1,588"):
        GoldenVectors.from_bytes(blob(2, bytes(want(2) + 1)))
    truncated = blob(2, bytes(want(2)))[:-6]  # the stream's end (checksum) cut off
    with pytest.raises(GoldenError, match="damaged"):
        GoldenVectors.from_bytes(truncated)
