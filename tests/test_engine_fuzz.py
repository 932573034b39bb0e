"""The numpy engine on damaged files: clear ModelLoadErrors, never a crash, hang or huge alloc."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import numpy as np
import pytest

from edge_mnist.runtime.backends import SPECS, Backend, load_backend
from edge_mnist.runtime.engine import Engine
from edge_mnist.runtime.engine.flatbuffer import FlatBuffer, Table
from edge_mnist.runtime.errors import InvalidInputError, ModelLoadError


def numpy_backend(path: str | Path) -> Backend:
    """The engine through the backend table, as ``--backend numpy`` loads it."""
    return load_backend(SPECS["numpy"], Path(path))


MODELS = ["model_int8.tflite", "model_float32.tflite"]


def _field(table: Table, index: int, size: int) -> int:
    at = table._field(index, size)
    assert at is not None, f"field {index} of {table.what} is absent"
    return at


def _graph(data: bytes) -> Table:
    return FlatBuffer(data).root("model").tables(2, "subgraphs")[0]


def _tensor(data: bytes, name_part: str) -> Table:
    for t in _graph(data).tables(0, "tensors"):
        if name_part in t.string(3, "name"):
            return t
    raise AssertionError(f"no tensor named like {name_part!r}")


def _patch(data: bytes, at: int, fmt: str, value: int | float) -> bytes:
    out = bytearray(data)
    struct.pack_into("<" + fmt, out, at, value)
    return bytes(out)


def _vector_start(table: Table, index: int) -> int:
    """The position of a vector field's first element."""
    at = _field(table, index, 4)
    target = at + struct.unpack_from("<I", table.buf.data, at)[0]
    return target + 4


@pytest.mark.device
@pytest.mark.parametrize("name", MODELS)
def test_seeded_mutations_give_only_clear_errors(artifacts: Path, name: str) -> None:
    original = (artifacts / name).read_bytes()
    engine = Engine.from_bytes(original)
    x = np.zeros((2, 784), engine.input.dtype)
    rng = np.random.default_rng(20261125)
    outcomes = {"loaded": 0, "refused": 0}
    start = time.monotonic()
    for i in range(300):
        data = bytearray(original)
        kind = i % 4
        if kind == 0:  # truncation
            data = data[: int(rng.integers(0, len(data)))]
        elif kind == 1:  # random bytes flipped, mostly in the structure before the weights
            for _ in range(int(rng.integers(1, 9))):
                limit = len(data) if rng.random() < 0.3 else min(len(data), 2048)
                data[int(rng.integers(0, limit))] ^= int(rng.integers(1, 256))
        elif kind == 2:  # a huge or negative 32-bit value somewhere in the tail (tables)
            at = int(rng.integers(max(0, len(data) - 4096), len(data) - 4))
            struct.pack_into("<I", data, at, int(rng.choice([0xFFFFFFFF, 0x7FFFFFFF, 1 << 24])))
        else:  # a 32-bit word anywhere set to a random value
            at = int(rng.integers(0, len(data) - 4)) & ~3
            struct.pack_into("<I", data, at, int(rng.integers(0, 1 << 32)))
        try:
            mutated = Engine.from_bytes(bytes(data), f"mutation {i}")
        except ModelLoadError as exc:
            assert str(exc).startswith(f"mutation {i}: ")
            outcomes["refused"] += 1
            continue
        outcomes["loaded"] += 1
        try:
            y = mutated.run(x)
        except InvalidInputError:
            continue
        assert y.shape[0] == 2
    assert outcomes["refused"] > 100 and outcomes["loaded"] > 0, outcomes
    assert time.monotonic() - start < 60


@pytest.mark.device
def test_truncated_and_foreign_files_are_refused(artifacts: Path, tmp_path: Path) -> None:
    data = (artifacts / "model_int8.tflite").read_bytes()
    with pytest.raises(ModelLoadError, match=r"outside the file"):
        Engine.from_bytes(data[:-300_000])
    with pytest.raises(ModelLoadError, match="no 'TFL3' identifier"):
        Engine.from_bytes(b"\x08\x01" + data[2:4] + b"ONNX" + data[8:])
    with pytest.raises(ModelLoadError, match="not a TFLite"):
        Engine.from_bytes(b"")
    with pytest.raises(ModelLoadError, match="no such model file"):
        numpy_backend(tmp_path / "missing.tflite")


@pytest.mark.device
def test_invalid_fields_are_named(artifacts: Path) -> None:
    data = (artifacts / "model_int8.tflite").read_bytes()
    weights = _tensor(data, "hidden1_1/MatMul")  # (300, 784) int8 weights
    activations = _tensor(data, "hidden2_1/MatMul;")  # (1, 300) int8 activations
    scales = activations.table(4, "q")
    assert scales is not None
    first_scale = _vector_start(scales, 2)

    zero_scale = _patch(data, first_scale, "f", 0.0)
    with pytest.raises(ModelLoadError, match="scale that is not a positive number"):
        Engine.from_bytes(zero_scale)
    with pytest.raises(ModelLoadError, match="scale that is not a positive number"):
        Engine.from_bytes(_patch(data, first_scale, "f", float("nan")))
    with pytest.raises(ModelLoadError, match="scale that is not a positive number"):
        Engine.from_bytes(_patch(data, first_scale, "f", -0.5))

    dims = _vector_start(weights, 0)
    huge = _patch(data, dims, "i", 1 << 30)
    with pytest.raises(ModelLoadError, match=r"dimension outside 1\.\.16777216"):
        Engine.from_bytes(huge)
    wrong = _patch(data, dims, "i", 299)
    with pytest.raises(ModelLoadError, match=r"shape \[299, 784\].*buffer holds 235200 bytes"):
        Engine.from_bytes(wrong)

    buffer_index = _field(weights, 2, 4)
    with pytest.raises(ModelLoadError, match=r"buffers refers to entry 99999"):
        Engine.from_bytes(_patch(data, buffer_index, "I", 99999))

    inputs = _vector_start(_graph(data), 1)
    with pytest.raises(ModelLoadError, match=r"refers to tensor 5000"):
        Engine.from_bytes(_patch(data, inputs, "i", 5000))


@pytest.mark.device
def test_unsupported_operator_is_refused_by_name(artifacts: Path) -> None:
    data = (artifacts / "model_int8.tflite").read_bytes()
    codes = FlatBuffer(data).root("model").tables(1, "operator_codes")
    fc = next(c for c in codes if max(c.scalar(0, "b", 0), c.scalar(3, "i", 0)) == 9)
    # CONV_2D is code 3; both the deprecated byte and the int32 code are set by the converter.
    conv = _patch(_patch(data, _field(fc, 0, 1), "b", 3), _field(fc, 3, 4), "i", 3)
    with pytest.raises(ModelLoadError, match=r"operator 0 is CONV_2D, which this engine does not"):
        Engine.from_bytes(conv)
    # A code past 127 only lives in the int32 field (the byte saturates at 127).
    gelu = _patch(_patch(data, _field(fc, 0, 1), "b", 127), _field(fc, 3, 4), "i", 150)
    with pytest.raises(ModelLoadError, match=r"is GELU") as info:
        Engine.from_bytes(gelu)
    assert "pip install ai-edge-litert" in str(info.value)
    # Old files set only the deprecated byte.
    old = _patch(_patch(data, _field(fc, 0, 1), "b", 17), _field(fc, 3, 4), "i", 0)
    with pytest.raises(ModelLoadError, match=r"is MAX_POOL_2D"):
        Engine.from_bytes(old)
    unknown = _patch(_patch(data, _field(fc, 0, 1), "b", 127), _field(fc, 3, 4), "i", 4000)
    with pytest.raises(ModelLoadError, match=r"is BUILTIN_4000"):
        Engine.from_bytes(unknown)
