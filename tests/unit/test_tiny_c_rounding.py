"""The C export of the tiny int8 models under each rounding, in the fast suite: the host build
gives the engine's variant byte for byte on digits and noise, and its self-test returns 0 (and
-1 once a weight is changed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from tiny_models import int8_input

from edge_mnist.converters.c import ROUNDINGS, STEM, export_c
from edge_mnist.runtime.engine import Engine

C_TESTS = Path(__file__).resolve().parents[1] / "c"
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-pedantic"]


def _build(folder: Path, driver: str, source: Path) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no host C compiler (cc)")
    exe = folder / driver.removesuffix(".c")
    args = [cc, *STRICT, "-I", str(folder), str(C_TESTS / driver), str(source), "-o", str(exe)]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return exe


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_tiny_c_matches_the_engine_variant_and_passes_its_selftest(
    tiny: Path,
    tmp_path: Path,
    rounding: str,
    framed_digits: tuple[np.ndarray, np.ndarray],
    noise: np.ndarray,
) -> None:
    model = tiny / "model_int8.tflite"
    pixels = np.ascontiguousarray(np.concatenate([framed_digits[0], noise]), dtype=np.uint8)
    export_c(model, tmp_path, rounding=rounding, golden_inputs=pixels[::50])
    (tmp_path / "images.u8").write_bytes(pixels.tobytes())
    driver = _build(tmp_path, "driver.c", tmp_path / f"{STEM}.c")
    subprocess.run(
        [str(driver), str(tmp_path / "images.u8"), str(tmp_path / "out.bin")], check=True
    )
    scores = np.fromfile(tmp_path / "out.bin", dtype=np.uint8).reshape(-1, 11)[:, 1:].view(np.int8)
    expected = Engine.load(model, rounding=rounding).run(int8_input(pixels))
    assert scores.shape == expected.shape == (500, 10)
    assert int(np.sum(np.any(scores != expected, axis=1))) == 0
    selftest = _build(tmp_path, "selftest.c", tmp_path / f"{STEM}.c")
    assert subprocess.run([str(selftest)], capture_output=True, text=True).stdout.strip() == "0"
    # One weight of the first layer moved by 128: the hash of the constants tells.
    text = (tmp_path / f"{STEM}.c").read_text()
    match = re.search(r"static const uint8_t k_w0\[\d+\] = \{\n    (\d+)", text)
    assert match is not None
    damaged = tmp_path / "damaged.c"
    flipped = str(int(match.group(1)) ^ 0x80)
    damaged.write_text(text[: match.start(1)] + flipped + text[match.end(1) :])
    selftest = _build(tmp_path, "selftest.c", damaged)
    assert subprocess.run([str(selftest)], capture_output=True, text=True).stdout.strip() == "-1"
