"""The int8 MLP as one fused function: the same arithmetic as the kernels, fewer numpy calls.

At batch 1 an operator's cost is mostly numpy's per-call overhead (about 1 µs a call), not
arithmetic. Between two int8 FULLY_CONNECTED layers the activations therefore stay float32
holding q − zero_point (an integer in [−255, 255]): the next layer's bias needs no zero-point
correction, and the int8 round trip (add zero point, cast, cast back) disappears. This is exact
as long as every partial sum of the next matmul stays below 2^24 (K·255·128 < 2^24), which is
checked at build time; SOFTMAX only needs max − x, which the zero point does not change.
The result is bit-identical to running the kernels one by one (the tests check both).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np

from .kernels import EXACT_F32, FullyConnectedInt8, SoftmaxInt8, Step
from .matmul import ExactMatmul

Run = Callable[[np.ndarray], np.ndarray]
# A layer's product (see matmul.py), bias, requantization multiplier and clamp bounds.
Layer = tuple[ExactMatmul, np.ndarray, np.ndarray, np.float32, np.float32]


def _layer(fc: FullyConnectedInt8, centered: bool) -> Layer:
    bias = fc.bias_centered if centered else fc.bias
    assert bias is not None  # build() checked it
    return (fc.product, bias, fc.multiplier, np.float32(fc.lo), np.float32(fc.hi))


def build(steps: Sequence[Step], source: int, target: int) -> Run | None:
    """A fused function for a chain of int8 FULLY_CONNECTED layers with an optional int8
    SOFTMAX at the end, or None when the graph is anything else."""
    if not steps or any(b.source != a.target for a, b in pairwise(steps)):
        return None
    if steps[0].source != source or steps[-1].target != target:
        return None
    *fcs, last = steps
    softmax = last if isinstance(last, SoftmaxInt8) else None
    if softmax is None:
        fcs.append(last)
    if not fcs or not all(isinstance(s, FullyConnectedInt8) for s in fcs):
        return None
    layers: list[FullyConnectedInt8] = fcs  # type: ignore[assignment]
    # Only the float32 requantization (the default rounding) is fused.
    if any(s.acc_dtype is not np.float32 or s.keep_dims or s.rounding != "litert" for s in layers):
        return None
    # Centered inputs from the previous layer need K·255·128 < 2^24 to stay exact.
    if any(fc.depth * 255 * 128 >= EXACT_F32 or fc.bias_centered is None for fc in layers[1:]):
        return None
    first = _layer(layers[0], centered=False)
    rest = [_layer(fc, centered=True) for fc in layers[1:]]
    depth, out_zero = layers[0].depth, np.float32(layers[-1].out_zero)
    units = layers[-1].units
    maximum, minimum, rint = np.maximum, np.minimum, np.rint

    def dense(v: np.ndarray, params: Layer) -> np.ndarray:
        product, bias, multiplier, lo, hi = params
        acc = product(v)
        acc += bias
        acc *= multiplier
        rint(acc, out=acc)
        maximum(acc, lo, out=acc)
        return minimum(acc, hi, out=acc)

    if softmax is None:

        def run_logits(x: np.ndarray) -> np.ndarray:
            v = dense(x.reshape(-1, depth).astype(np.float32), first)
            for params in rest:
                v = dense(v, params)
            v += out_zero
            return v.astype(np.int8).reshape(-1, units)

        return run_logits

    table, out_scale = softmax.table, softmax.out_scale
    half_zero = np.float64(softmax.out_zero) + 0.5
    one = np.float32(1.0)

    def run_probabilities(x: np.ndarray) -> np.ndarray:
        v = dense(x.reshape(-1, depth).astype(np.float32), first)
        for params in rest:
            v = dense(v, params)
        k = v.max(axis=-1, keepdims=True) - v
        e = table[k.astype(np.intp)]
        total = np.add.accumulate(e, axis=-1)[:, -1:]
        total *= out_scale
        e *= np.divide(one, total)
        q = e.astype(np.float64)
        q += half_zero
        np.floor(q, out=q)
        np.minimum(q, 127.0, out=q)
        return q.astype(np.int8)

    return run_probabilities
