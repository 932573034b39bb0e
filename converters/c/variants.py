"""Which interpreter's int8 arithmetic the generated C reproduces, chosen at export.

The accumulation (kernels.c: the SMLAD and portable dot products) is the same for every
rounding; what differs is how an accumulator is rescaled to int8 (``em_rescale``) and, for
``tflm``, the softmax. Each rounding takes only its own C parts, so the generated file holds
exactly one variant. The names and meanings are the engine's (runtime/engine/rounding.py;
docs/2026-12-03-rounding-variants.md); docs/2026-12-03-c-rounding-and-selftest.md has the C.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from edge_mnist.runtime.engine.rounding import DEFAULT_ROUNDING, ROUNDINGS, check_rounding
from edge_mnist.runtime.errors import ModelLoadError

from .plan import Dense, Plan, float_bits, split_float

__all__ = [
    "DEFAULT_ROUNDING",
    "ROUNDINGS",
    "check_rounding",
    "kernel_source",
    "multipliers",
    "softmax_parts",
]

# The C files after kernels.c, in order (each uses only what comes before it).
_PARTS = {
    "litert": ("binary32.c", "requant_litert.c", "softmax_float.c"),
    "reference": ("floor_shift.c", "requant_reference.c", "binary32.c", "softmax_float.c"),
    "tflm": ("floor_shift.c", "gemmlowp.c", "requant_tflm.c", "softmax_tflm.c"),
}

# What the header's contract says each rounding reproduces.
DESCRIPTION = {
    "litert": "ai-edge-litert (its default XNNPACK delegate): the fully connected layers "
    "rescale in binary32 (ties to even), the softmax is TFLite's binary32 table kernel; both "
    "are reproduced with integer arithmetic",
    "reference": "TFLite's built-in kernels (tflite-runtime 2.14, ai-edge-litert without its "
    "delegate, x86-64): the fully connected layers rescale with a fixed-point multiplier, "
    "two roundings with halves up; the softmax is TFLite's binary32 table kernel, reproduced "
    "with integer arithmetic",
    "tflm": "TensorFlow Lite Micro's reference kernels: the fully connected layers rescale "
    "with gemmlowp's fixed-point multiply and rounding shift (halves away from zero), the "
    "softmax is gemmlowp fixed point throughout",
}


def _read(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def kernel_source(rounding: str) -> str:
    """The fixed C of the generated .c for a rounding: kernels.c, then its own parts."""
    check_rounding(rounding)
    return "\n".join(_read(name) for name in ("kernels.c", *_PARTS[rounding]))


def multipliers(layer: Dense, rounding: str) -> tuple[np.ndarray, np.ndarray]:
    """A layer's multipliers as the C's (m, e) pairs: the binary32 significand and exponent
    for litert, TFLite's fixed-point q and shift for the others."""
    if rounding == "litert":
        ms, es = zip(*(split_float(np.float32(v)) for v in layer.multiplier), strict=True)
        return np.array(ms, np.int64), np.array(es, np.int64)
    if layer.fixed_q is None or layer.fixed_shift is None:
        raise ModelLoadError(
            f"the plan has no fixed-point multipliers for the {rounding} rounding.",
            "build the plan with load_plan from the int8 .tflite.",
        )
    return layer.fixed_q, layer.fixed_shift


def softmax_parts(plan: Plan, rounding: str) -> tuple[str, np.ndarray, str]:
    """(the table's C type, its values, the softmax call's arguments after the table)."""
    sm = plan.softmax
    if rounding != "tflm":
        scale_bits = int(float_bits(np.array([sm.output_scale]))[0])
        return "uint32_t", float_bits(sm.table), f", 0x{scale_bits:08X}u, {sm.zero_point}"
    if sm.fixed_exp is None or sm.zero_point != -128:
        raise ModelLoadError(
            "TensorFlow Lite Micro's fixed-point softmax cannot run this model's SOFTMAX.",
            "export with --rounding litert or reference.",
        )
    return "int32_t", sm.fixed_exp, ""
