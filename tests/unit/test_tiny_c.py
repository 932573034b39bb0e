"""The C export of the tiny int8 models: the host compiler builds it warning-free and it gives
the NumPy engine's scores byte for byte (one and two hidden layers, digits and noise)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from tiny_models import int8_input

from edge_mnist.converters.c import STEM, export_c
from edge_mnist.runtime.engine import Engine

DRIVER = Path(__file__).resolve().parents[1] / "c" / "driver.c"
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2"]


def _cc() -> str:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no host C compiler (cc)")
    return cc


def _run(*args: str | Path) -> None:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_compiled_c_matches_the_engine_byte_for_byte(
    tiny_any: Path,
    tmp_path: Path,
    framed_digits: tuple[np.ndarray, np.ndarray],
    noise: np.ndarray,
) -> None:
    model = tiny_any / "model_int8.tflite"
    paths = export_c(model, tmp_path)
    assert [p.name for p in paths] == [f"{STEM}.h", f"{STEM}.c"]
    head = (tmp_path / f"{STEM}.h").read_text()
    # The manifest beside the model records 100% (synthetic test set): the header says so.
    assert '#define EDGE_MNIST_TEST_ACCURACY "100.00%"' in head
    # Two activation buffers in turn: 16 + 10 bytes, or 8 + 8 (then 8 + 10) bytes.
    scratch = 26 if tiny_any.name == "tiny-16" else 18
    assert f"#define EDGE_MNIST_SCRATCH_BYTES {scratch}" in head
    images, labels = framed_digits
    pixels = np.ascontiguousarray(np.concatenate([images, noise]), dtype=np.uint8)
    (tmp_path / "images.u8").write_bytes(pixels.tobytes())
    exe = tmp_path / "driver"
    _run(_cc(), *STRICT, "-I", tmp_path, DRIVER, tmp_path / f"{STEM}.c", "-o", exe)
    _run(exe, tmp_path / "images.u8", tmp_path / "out.bin")
    records = np.fromfile(tmp_path / "out.bin", dtype=np.uint8).reshape(-1, 11)
    digits, scores = records[:, 0].astype(np.int64), records[:, 1:].view(np.int8)
    reference = Engine.load(model).run(int8_input(pixels))
    assert scores.shape == reference.shape == (500, 10)
    differ = int(np.sum(np.any(scores != reference, axis=1)))
    assert differ == 0, f"scores differ on {differ} of 500 images"
    assert np.array_equal(digits, reference.argmax(axis=1))
    assert np.array_equal(digits[:200], labels)
