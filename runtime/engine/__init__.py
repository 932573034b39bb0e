"""A pure-numpy engine that executes .tflite files itself: numpy is all it needs.

It runs the operators the exported MLPs use (FULLY_CONNECTED, SOFTMAX, QUANTIZE, DEQUANTIZE,
RESHAPE; int8 with per-tensor or per-channel weights, and float32), refuses anything else at
load by naming the operator, and checks every offset, size and scale in the file before it
allocates (``model.py``). Its int8 arithmetic reproduces ai-edge-litert's output bytes
(``kernels.py`` says exactly how); ``Engine.layers`` returns every layer's output tensor.

Modules: ``flatbuffer`` (bounds-checked reader), ``opcodes`` (operator names), ``model``
(validated tensors and operators), ``step`` (the operator interface), ``fully_connected`` and
``kernels`` (prepared operators; ``kernels`` documents the arithmetic), ``fused`` (the int8
MLP in fewer numpy calls), ``engine`` (load, run, layers), ``backend`` (the runtime's backend
interface).
"""

from .engine import Engine, LayerTensor

__all__ = ["Engine", "LayerTensor"]
