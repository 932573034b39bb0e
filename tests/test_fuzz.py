"""Seeded byte mutations of every exported model through Classifier.load, 'info' and 'predict'.

Each model format and backend runs its whole loop in one child process (this file run as a
script), so that a native crash inside an interpreter fails the test instead of killing pytest.
Every outcome must be a model that loads and runs, or a clear refusal: an EdgeMnistError from
the library, exit 2 with an "error:" line from the CLI. Never exit 3, never a traceback.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# (model file, backend): the numpy engine runs both TFLite files besides ai-edge-litert.
CASES = [
    ("model_int8.tflite", "litert"),
    ("model_float32.tflite", "litert"),
    ("model_int8.tflite", "numpy"),
    ("model_float32.tflite", "numpy"),
    ("model_int8.onnx", "onnxruntime"),
    ("model_float32.onnx", "onnxruntime"),
]
MUTATIONS = 90
SEED = 20261125
# The six cases take about 60 s of CPU in all; the timeout allows for a loaded machine.
CHILD_TIMEOUT = 600


def mutate(original: bytes, i: int, rng: np.random.Generator) -> bytes:
    """Mutation ``i``: flips, truncation, insertion, or overwrites of the header and offsets."""
    data = bytearray(original)
    kind = i % 5
    if kind == 0:  # truncated anywhere
        return bytes(data[: int(rng.integers(0, len(data)))])
    if kind == 1:  # a few bytes flipped, mostly in the structure before the weights
        for _ in range(int(rng.integers(1, 9))):
            limit = len(data) if rng.random() < 0.3 else min(len(data), 4096)
            data[int(rng.integers(0, limit))] ^= int(rng.integers(1, 256))
    elif kind == 2:  # random bytes inserted (shifts every offset after them)
        at = int(rng.integers(0, len(data)))
        data[at:at] = rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
    elif kind == 3:  # the header: root offsets, identifiers, the first fields
        for _ in range(int(rng.integers(1, 4))):
            at = int(rng.integers(0, 64))
            data[at] = int(rng.integers(0, 256))
    else:  # a 32-bit word (an offset, a length, a dimension) set to a hostile value
        for _ in range(int(rng.integers(1, 4))):
            at = int(rng.integers(0, len(data) - 4))
            value = int(
                rng.choice([0, 0xFFFFFFFF, 0x7FFFFFFF, 1 << 24, int(rng.integers(0, 1 << 32))])
            )
            struct.pack_into("<I", data, at, value)
    return bytes(data)


# --- the child process ---------------------------------------------------------------------------


def _child(model: Path, backend: str, images: Path, mutations: int) -> dict[str, Any]:
    from typer.testing import CliRunner

    from edge_mnist.cli import app
    from edge_mnist.runtime import Classifier, EdgeMnistError
    from edge_mnist.runtime.backends import SPECS
    from edge_mnist.runtime.backends.base import validate_signature

    wired = backend in SPECS  # the numpy engine may not be in the backend table yet
    runner = CliRunner()
    counts: dict[str, dict[str, int]] = {
        c: {"ok": 0, "refused": 0} for c in ("load", "info", "predict")
    }
    failures: list[str] = []
    original = model.read_bytes()
    rng = np.random.default_rng(SEED)
    zeros = np.zeros((2, 784), np.uint8)

    def load(path: Path) -> Any:
        if wired:
            return Classifier.load(path, backend=backend)
        from edge_mnist.runtime.engine import NumpyBackend

        impl = NumpyBackend(path)
        validate_signature(path, impl.input, impl.output)
        return Classifier(path, "tflite", impl, None)  # type: ignore[arg-type]

    with tempfile.TemporaryDirectory() as tmp:
        for i in range(mutations):
            path = Path(tmp) / f"mutant{i}{model.suffix}"
            path.write_bytes(mutate(original, i, rng))
            try:
                clf = load(path)
                digits = clf.predict(zeros).digits
                assert digits.shape == (2,) and 0 <= int(digits.min()) <= int(digits.max()) <= 9
                counts["load"]["ok"] += 1
            except EdgeMnistError as exc:
                counts["load"]["refused"] += 1
                if path.name not in str(exc) and "mutant" not in str(exc):
                    # A refusal must name the file (or at least say what was wrong with it).
                    failures.append(f"{i} load: error does not name the file: {exc}")
            except Exception as exc:
                failures.append(f"{i} load: {type(exc).__name__}: {exc}")
            if not wired:
                continue
            for command, args in (
                ("info", ["info", str(path), "--backend", backend]),
                ("predict", ["predict", str(path), str(images), "--backend", backend]),
            ):
                result = runner.invoke(app, args)
                text = result.output
                if result.exit_code == 0:
                    counts[command]["ok"] += 1
                elif result.exit_code == 2 and "error:" in text and len(text.splitlines()) <= 6:
                    counts[command]["refused"] += 1
                else:
                    failures.append(f"{i} {command}: exit {result.exit_code}: {text[-500:]}")
                if "Traceback" in text or "internal error" in text:
                    failures.append(f"{i} {command}: traceback or internal error: {text[-500:]}")
            path.unlink()
    return {"counts": counts, "failures": failures[:20], "cli": wired}


# --- the test ------------------------------------------------------------------------------------


def _idx_images(images: np.ndarray, path: Path) -> Path:
    header = struct.pack(">IIII", 0x00000803, len(images), 28, 28)
    path.write_bytes(header + images.astype(np.uint8).tobytes())
    return path


@pytest.mark.device
@pytest.mark.parametrize(("name", "backend"), CASES)
def test_mutated_models_are_loaded_or_refused_cleanly(
    artifacts: Path,
    test_images: tuple[np.ndarray, np.ndarray],
    tmp_path: Path,
    name: str,
    backend: str,
) -> None:
    from edge_mnist.runtime.backends import SPECS, installed

    if backend in SPECS and not installed(SPECS[backend]):
        pytest.skip(f"{backend} is not installed here")
    images = _idx_images(test_images[0][:4], tmp_path / "digits-idx3-ubyte")
    proc = subprocess.run(
        [sys.executable, __file__, str(artifacts / name), backend, str(images), str(MUTATIONS)],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
        check=False,
    )
    # A negative code is a signal (a native crash); the fault handler shows where.
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-3000:])
    # Nothing but the child's JSON line: no interpreter banner on stdout.
    assert len(proc.stdout.splitlines()) == 1, proc.stdout[-2000:]
    result = json.loads(proc.stdout)
    print(f"{name} on {backend}: {result['counts']}")
    assert result["failures"] == []
    counts = result["counts"]
    assert sum(counts["load"].values()) == MUTATIONS
    # Both outcomes happen: the mutations reach past the header, and many are refused.
    assert counts["load"]["refused"] >= MUTATIONS // 5, counts
    assert counts["load"]["ok"] >= 1, counts
    if result["cli"]:
        for command in ("info", "predict"):
            assert sum(counts[command].values()) == MUTATIONS
            assert counts[command]["refused"] >= counts["load"]["refused"] // 2, counts


if __name__ == "__main__":
    model, backend, images, mutations = sys.argv[1:5]
    print(json.dumps(_child(Path(model), backend, Path(images), int(mutations))))
