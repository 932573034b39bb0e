"""The server's start-up self-test: classify fixed inputs and compare with their expected digits.

A server whose interpreter computes something else than what was tested (a broken wheel, a
damaged copy of the model) still answers every request; ``/health`` says so instead. Today
the one case is a drawn "1" (a vertical stroke, which every exported model and both tiny test
models read as 1 with over 99% probability); golden vectors carried by a model can be
passed as more cases.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# (name, PNG bytes, expected digit)
Case = tuple[str, bytes, int]


def drawn_one() -> Case:
    """A dark vertical stroke on white: what someone drawing a 1 on the page sends."""
    from PIL import Image

    stroke = np.full((28, 28), 255, dtype=np.uint8)
    stroke[5:23, 12:16] = 0
    buf = io.BytesIO()
    Image.fromarray(stroke).save(buf, format="PNG")
    return ("a drawn 1", buf.getvalue(), 1)


def self_test(classify: Callable[[bytes], int], cases: Sequence[Case] = ()) -> dict[str, Any]:
    """Classify each case (default: :func:`drawn_one`) and report
    ``{"passed", "checked", "failures": [{"case", "expected", "got"}], "ms"}``."""
    start = time.perf_counter()
    failures = []
    for name, png, expected in cases or (drawn_one(),):
        got = classify(png)
        if got != expected:
            failures.append({"case": name, "expected": expected, "got": got})
    return {
        "passed": not failures,
        "checked": len(cases) or 1,
        "failures": failures,
        "ms": round((time.perf_counter() - start) * 1e3, 3),
    }
