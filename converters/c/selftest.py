"""``edge_mnist_selftest``: golden vectors compiled into the C export, checked on the device.

A golden vector is an input image and the exact int8 scores the chosen rounding gives for it.
The export stores them as const arrays (flash) with a function that first hashes the model's
constants (FNV-1a, against the value computed here: a single damaged weight rarely changes a
vector's scores) and then runs each vector through ``edge_mnist_predict`` and compares every
byte; ``-DEDGE_MNIST_NO_SELFTEST`` compiles all of it out. The vectors are the ones the .tflite
file carries (runtime/golden.py; export records them for every rounding), checked once more
against the NumPy engine with the chosen rounding (it equals the interpreter of that name byte
for byte; tests/test_engine_rounding.py); a file without them gets a few fixed pseudo-random
images. Return codes and flash cost: docs/2026-12-03-c-rounding-and-selftest.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_mnist.runtime.errors import ModelLoadError
from edge_mnist.runtime.golden import read_golden

from .plan import CLASSES, PIXELS

MACRO = "EDGE_MNIST_NO_SELFTEST"
# Without vectors in the file or from the caller: this many fixed pseudo-random images (ink
# on every pixel, so that every first-layer weight takes part).
DEFAULT_COUNT = 4
_SEED = 20261203
_FIX = "pass images of 784 uint8 pixels, at least one."


# What edge_mnist_selftest returns when the model's constants no longer hash to the value
# recorded at export (damaged flash or a hand-edited array); vector k failing returns k + 1.
CORRUPT = -1
_FNV_OFFSET, _FNV_PRIME = 0x811C9DC5, 0x01000193


@dataclass(frozen=True)
class Const:
    """One const array of the .c: its C type, name, values and number format."""

    ctype: str
    name: str
    values: np.ndarray
    fmt: str = "{}"


def checksum(consts: list[Const]) -> int:
    """FNV-1a (32 bits) over every value's bytes, least significant first, as the C's
    em_fnv1a reads them (so the hash does not depend on the target's byte order)."""
    h = _FNV_OFFSET
    for c in consts:
        width = 4 if c.ctype.endswith("32_t") else 1
        values = np.asarray(c.values, np.int64).reshape(-1) % (1 << (8 * width))
        data = values.astype("<u4" if width == 4 else np.uint8).tobytes()
        for byte in data:
            h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return h


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


def golden_for(tflite_path: Path, rounding: str, inputs: np.ndarray | None = None) -> Golden:
    """The self-test's vectors: the engine's scores under ``rounding`` for ``inputs``; without
    inputs, the vectors the file carries (refused when the file's weights no longer give
    them), else ``default_inputs()``."""
    if inputs is not None:
        return golden_from_engine(tflite_path, rounding, inputs)
    carried = read_golden(tflite_path)
    if carried is None or rounding not in carried.expected:
        return golden_from_engine(tflite_path, rounding, default_inputs())
    golden = golden_from_engine(tflite_path, rounding, carried.inputs)
    differ = np.flatnonzero(np.any(golden.expected != carried.expected[rounding], axis=1))
    if len(differ):
        raise ModelLoadError(
            f"{tflite_path}: its weights do not give the golden vectors it carries (vector "
            f"{int(differ[0])}, rounding {rounding}): the file changed after export.",
            "export the model again.",
        )
    return golden


def declaration() -> str:
    """The header's part."""
    return f"""
#ifndef {MACRO}
/* Check the model on this device: first a hash (FNV-1a) of every weight, bias, multiplier
   and table against the value recorded at export, then every golden vector stored in the .c
   (inputs and the exact scores this rounding gives) through edge_mnist_predict.
   Returns 0 when all agree; {CORRUPT} when the constants changed (damaged flash, an edited
   array); k >= 1 when vector k - 1 gives other bytes: the build (compiler, flags) or the
   kernels do not compute what the export computed. Uses edge_mnist_predict's scratch: not
   reentrant with it. Define {MACRO} to compile it and its vectors out. */
int edge_mnist_selftest(void);
#define EDGE_MNIST_SELFTEST_CORRUPT ({CORRUPT})
#endif
"""


def function(count: int, consts: list[Const]) -> str:
    """The .c's self-test over the constants (one hash) and the golden vectors k_golden_in
    (count x 784) and k_golden_out (count x 10)."""
    hashes = "".join(
        f"    h = em_fnv1a{32 if c.ctype.endswith('32_t') else 8}(h, "
        f"{'(const uint8_t *)' if c.ctype == 'int8_t' else ''}{c.name}, "
        f"sizeof {c.name} / sizeof {c.name}[0]);\n"
        for c in consts
    )
    return (
        _FNV_C + "\nint edge_mnist_selftest(void)\n{\n"
        f"    int8_t scores[{CLASSES}];\n    int i, j;\n    uint32_t h = 0x{_FNV_OFFSET:08X}u;\n"
        + hashes
        + f"    if (h != 0x{checksum(consts):08X}u) {{\n        return {CORRUPT};\n    }}\n"
        f"    for (i = 0; i < {count}; ++i) {{\n"
        f"        (void)edge_mnist_predict(&k_golden_in[i * {PIXELS}], scores);\n"
        f"        for (j = 0; j < {CLASSES}; ++j) {{\n"
        f"            if (scores[j] != k_golden_out[i * {CLASSES} + j]) {{\n"
        "                return i + 1;\n            }\n        }\n    }\n    return 0;\n}\n"
    )


# FNV-1a over bytes, and over 32-bit values taken least significant byte first.
_FNV_C = f"""
static uint32_t em_fnv1a8(uint32_t h, const uint8_t *p, size_t n)
{{
    size_t i;
    for (i = 0; i < n; ++i) {{
        h = (h ^ p[i]) * 0x{_FNV_PRIME:08X}u;
    }}
    return h;
}}

static uint32_t em_fnv1a32(uint32_t h, const void *values, size_t n)
{{
    const uint32_t *p = (const uint32_t *)values;
    size_t i;
    uint32_t k;
    for (i = 0; i < n; ++i) {{
        for (k = 0; k < 32u; k += 8u) {{
            h = (h ^ ((p[i] >> k) & 0xFFu)) * 0x{_FNV_PRIME:08X}u;
        }}
    }}
    return h;
}}
"""
