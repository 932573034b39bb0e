"""The weights and biases in the form the C kernels read them (kernels.c, fully connected).

Weights become uint8 v = w + 128 and activations travel as uint8 u = x + 128, so the kernels
multiply unsigned bytes only: one LDRB with a constant offset per operand on a Cortex-M0+ and
UXTB16 + SMLAD on a Cortex-M4. The difference to the signed products is a per-row constant,
folded into the bias here, and 128 * sum(u), which the kernel subtracts once per layer:

    sum_i (x_i - z) w_i = sum_i (u_i + d)(v_i - 128)
                        = sum u v - 128 sum u + d sum v - 128 n d,   d = -128 - z.

Rows go in blocks of ``BLOCK`` so that each input byte the kernel loads serves four rows.
"""

from __future__ import annotations

import numpy as np

from .plan import Dense

BLOCK = 4  # rows per pass of the kernel
GROUP = 4  # inputs per 32-bit load


def kernel_weights(layer: Dense) -> np.ndarray:
    """uint8 weights + 128 in read order: per block of four rows, for every four inputs four
    bytes of each row in turn, then the block's leftover inputs row by row; then the rows
    after the last full block, row-major."""
    v = (layer.weights.astype(np.int16) + 128).astype(np.uint8)
    n_out, n_in = v.shape
    full = n_in - n_in % GROUP
    blocks = n_out // BLOCK
    parts = []
    for k in range(blocks):
        rows = v[k * BLOCK : (k + 1) * BLOCK]
        grouped = rows[:, :full].reshape(BLOCK, full // GROUP, GROUP).transpose(1, 0, 2)
        parts += [grouped.reshape(-1), rows[:, full:].reshape(-1)]
    parts.append(v[blocks * BLOCK :].reshape(-1))
    return np.concatenate(parts)


def kernel_bias(layer: Dense) -> np.ndarray:
    """The bias for uint8 inputs u = x + 128 and weights v = w + 128, as uint32 modulo 2^32
    (the kernel's arithmetic is modulo 2^32; the true accumulator fits int32)."""
    n_in = layer.shape[0]
    d = -128 - layer.input_zero
    sum_v = layer.weights.astype(np.int64).sum(axis=1) + 128 * n_in
    folded = layer.bias.astype(np.int64) + d * sum_v - 128 * n_in * d
    return (folded % 2**32).astype(np.uint32)
