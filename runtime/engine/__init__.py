"""A pure-numpy engine that executes .tflite files itself: numpy is all it needs.

It runs the operators the exported MLPs use (FULLY_CONNECTED, SOFTMAX, QUANTIZE, DEQUANTIZE,
RESHAPE; int8 with per-tensor or per-channel weights, and float32), refuses anything else at
load by naming the operator, and checks every offset, size and scale in the file before it
allocates (``model.py``). Its int8 arithmetic reproduces one interpreter's output bytes,
chosen by ``rounding``: ai-edge-litert with XNNPACK (``litert``, the default; ``kernels.py``),
TFLite's built-in kernels (``reference``) or TensorFlow Lite Micro (``tflm``)
(``rounding.py``); ``Engine.layers`` returns every layer's output tensor.

Modules: ``flatbuffer`` (bounds-checked reader), ``bounds`` (the memory a file declares, checked
before any interpreter loads it), ``opcodes`` (operator names), ``model``
(validated tensors and operators), ``step`` (the operator interface), ``fully_connected`` and
``kernels`` (prepared operators; ``kernels`` documents the arithmetic), ``rounding``,
``fixedpoint`` and ``softmax_fixed`` (the integer variants), ``fused`` (the int8 MLP in fewer
numpy calls), ``engine`` (load, run, layers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..lazy import load, where

if TYPE_CHECKING:
    from .engine import Engine, LayerTensor
    from .rounding import DEFAULT_ROUNDING, ROUNDINGS

# Loaded on first use: every .tflite load reads ``bounds`` (the size check before any
# interpreter), which must not cost the whole engine's import (some 25 ms) on the other backends.
_WHERE = where({"engine": ("Engine", "LayerTensor"), "rounding": ("DEFAULT_ROUNDING", "ROUNDINGS")})
__all__ = ["DEFAULT_ROUNDING", "ROUNDINGS", "Engine", "LayerTensor"]


def __getattr__(name: str) -> Any:
    return load(__name__, _WHERE, name)
