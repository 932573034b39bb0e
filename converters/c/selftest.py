"""``edge_mnist_selftest``: golden vectors compiled into the C export, checked on the device.

A golden vector is an input image and the exact int8 scores the chosen rounding gives for it.
The export stores them as const arrays (flash) with a function that runs each through
``edge_mnist_predict`` and compares every byte; ``-DEDGE_MNIST_NO_SELFTEST`` compiles all of
it out. The expected bytes come from the NumPy engine with the same rounding (it equals the
interpreter of that name byte for byte; tests/test_engine_rounding.py), so a board whose
build, compiler flags, weights or flash are wrong reports the first vector that differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_mnist.runtime.errors import ModelLoadError

from .plan import CLASSES, PIXELS

MACRO = "EDGE_MNIST_NO_SELFTEST"
# Without vectors from the exporter: this many fixed pseudo-random images. Dense random ink
# uses every first-layer weight (an MNIST digit leaves most pixels at 0, where a damaged
# weight changes nothing); the exporter passes real test images as well.
DEFAULT_COUNT = 4
_SEED = 20261203
_FIX = "pass images of 784 uint8 pixels, at least one."


@dataclass(frozen=True)
class Golden:
    """Inputs (N, 784) uint8 and the scores (N, 10) int8 they must give."""

    inputs: np.ndarray
    expected: np.ndarray


def default_inputs() -> np.ndarray:
    """Fixed pseudo-random images (PCG64 with a fixed seed: the same on every machine)."""
    rng = np.random.default_rng(_SEED)
    return rng.integers(0, 256, size=(DEFAULT_COUNT, PIXELS), dtype=np.uint8)


def golden_from_engine(tflite_path: Path, rounding: str, inputs: np.ndarray) -> Golden:
    """The engine's scores for ``inputs`` under ``rounding``: the bytes the C must give."""
    from edge_mnist.runtime.engine import Engine

    images = np.asarray(inputs)
    if images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != PIXELS or not len(images):
        raise ModelLoadError(
            f"golden inputs must be (N, {PIXELS}) uint8, got {images.dtype} {images.shape}.", _FIX
        )
    engine = Engine.load(tflite_path, rounding=rounding)
    # The model's int8 input is pixel - 128.
    scores = engine.run((images ^ np.uint8(0x80)).view(np.int8))
    return Golden(np.ascontiguousarray(images), np.asarray(scores, np.int8).reshape(-1, CLASSES))


def declaration() -> str:
    """The header's part."""
    return f"""
#ifndef {MACRO}
/* Run every golden vector stored in the .c (inputs and the exact scores this rounding gives)
   through edge_mnist_predict. Returns 0 when all give their recorded bytes, else the index + 1
   of the first vector that differs: the build (compiler, flags), the weights in flash or the
   kernels do not compute what the export computed. Uses edge_mnist_predict's scratch: not
   reentrant with it. Define {MACRO} to compile it and its vectors out. */
int edge_mnist_selftest(void);
#endif
"""


def function(count: int) -> str:
    """The .c's function over k_golden_in (count x 784) and k_golden_out (count x 10)."""
    return (
        "\nint edge_mnist_selftest(void)\n{\n"
        f"    int8_t scores[{CLASSES}];\n    int i, j;\n"
        f"    for (i = 0; i < {count}; ++i) {{\n"
        f"        (void)edge_mnist_predict(&k_golden_in[i * {PIXELS}], scores);\n"
        f"        for (j = 0; j < {CLASSES}; ++j) {{\n"
        f"            if (scores[j] != k_golden_out[i * {CLASSES} + j]) {{\n"
        "                return i + 1;\n            }\n        }\n    }\n    return 0;\n}\n"
    )
