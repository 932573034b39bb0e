"""Build a plan from the NumPy engine's parsed and prepared model.

The engine is the project's one .tflite reader: it validates the file and prepares each
operator with the constants each interpreter uses (the binary32 and the fixed-point
requantization multipliers, the clamp ranges, the float and the fixed-point softmax tables). Taking them from its kernels means the C and
the engine cannot drift apart. The C export accepts what ``export`` writes: int8 input with
scale 1/255 and zero point -128, one or more int8 FULLY_CONNECTED layers, then int8 SOFTMAX.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_mnist.runtime.engine import Engine
from edge_mnist.runtime.engine.kernels import FullyConnectedInt8, SoftmaxInt8, Unsupported
from edge_mnist.runtime.errors import ModelLoadError

from .plan import CLASSES, INPUT_SCALE, INPUT_ZERO, PIXELS, Dense, Plan, Softmax, dense

_FIX = "export the int8 model with 'edge-mnist export --format tflite' and convert that file."


def _refuse(path: Path, problem: str) -> ModelLoadError:
    return ModelLoadError(f"{path}: {problem}; the C export needs the int8 model.", _FIX)


def _dense(engine: Engine, step: FullyConnectedInt8) -> Dense:
    op = engine.model.operators[step.index]
    tensors = engine.model.tensors
    weights = tensors[op.inputs[1]].data
    has_bias = len(op.inputs) == 3 and op.inputs[2] >= 0
    bias = tensors[op.inputs[2]].data if has_bias else None
    quant = tensors[op.inputs[0]].quant
    assert weights is not None and quant is not None  # the engine checked both
    zero = step.out_zero
    # The engine keeps the clamp range relative to the output zero point.
    lo, hi = int(step.lo) + zero, int(step.hi) + zero
    fixed = (step.fixed_q, step.fixed_shift)
    return dense(weights, bias, int(quant.zero_point[0]), step.multiplier, zero, lo, hi, fixed)


def plan_from_tflite(path: Path) -> Plan:
    """Parse an int8 .tflite with the engine and check it has the shape the C kernels run."""
    engine = Engine.load(path)
    steps = engine.steps
    names = " -> ".join(engine.ops)
    if not steps or not isinstance(steps[-1], SoftmaxInt8):
        raise _refuse(path, f"its operators are {names}, not int8 FULLY_CONNECTED then SOFTMAX")
    layers = steps[:-1]
    if not layers or not all(isinstance(s, FullyConnectedInt8) for s in layers):
        raise _refuse(path, f"its operators are {names}, not int8 FULLY_CONNECTED then SOFTMAX")
    chain = [engine.model.inputs[0], *(s.target for s in steps)]
    if [s.source for s in steps] != chain[:-1] or chain[-1] != engine.model.outputs[0]:
        raise _refuse(path, "its operators do not form a single chain from input to output")
    inp = engine.input
    if inp.quant is None or inp.size != PIXELS or inp.dtype != np.int8:
        raise _refuse(path, f"its input is {inp.dtype} {list(inp.shape)}, not int8 [1, 784]")
    if np.float32(inp.quant.scale[0]) != INPUT_SCALE or int(inp.quant.zero_point[0]) != INPUT_ZERO:
        raise _refuse(path, "its input quantization is not scale 1/255, zero point -128")
    plan_layers = tuple(_dense(engine, s) for s in layers)  # type: ignore[arg-type]
    sizes = [plan_layers[0].shape[0], *(d.shape[1] for d in plan_layers)]
    if sizes[0] != PIXELS or sizes[-1] != CLASSES:
        raise _refuse(path, f"its layers are {sizes}, not 784 inputs and 10 classes")
    sm = steps[-1]
    assert isinstance(sm, SoftmaxInt8)
    try:
        fixed_exp: np.ndarray | None = sm.fixed_point().exp.astype(np.int32)
    except Unsupported:
        fixed_exp = None
    softmax = Softmax(
        np.asarray(sm.table, np.float32), np.float32(sm.out_scale), sm.out_zero, fixed_exp
    )
    return Plan(plan_layers, softmax, float(INPUT_SCALE), INPUT_ZERO)
