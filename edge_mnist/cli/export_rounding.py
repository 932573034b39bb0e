"""export's --rounding: whose int8 arithmetic the C export reproduces.

The option is declared once (options.py, shared with the device commands: same flag and
metavar); export gives it its own help, with the engine's choices, when export is looked up,
and checks it before any work. Imported only then, so the device commands never load it.
"""

from __future__ import annotations

from typing import Any

from edge_mnist.errors import UsageError
from edge_mnist.runtime.engine.rounding import DEFAULT_ROUNDING, ROUNDINGS, check_rounding


def complete(command: Any) -> None:
    """Set export's --rounding help (choices from runtime/engine/rounding.py)."""
    for param in command.params:
        if param.name == "rounding":
            param.help = (
                "With --format c or all: whose int8 arithmetic the C reproduces byte for byte: "
                f"{', '.join(ROUNDINGS)} (default {DEFAULT_ROUNDING}; tflm = TensorFlow Lite "
                "Micro, reference = TFLite's built-in kernels)."
            )


def check(rounding: str | None, writes_c: bool) -> str:
    """The rounding to export with; a usage error for an unknown name or without the C."""
    if rounding is not None and not writes_c:
        raise UsageError(
            "--rounding chooses the C export's arithmetic.", "add --format c (or --format all)."
        )
    return check_rounding(rounding or DEFAULT_ROUNDING)
