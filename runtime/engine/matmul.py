"""The fully connected layers' matrix products, run the fastest way the machine offers.

Which way is fastest differs by an order of magnitude between machines and numpy builds, so the
engine measures instead of guessing (figures from this project's runs):

- OpenBLAS's many-row float32 call depends on its kernel and thread count. 2-core x86-64, numpy
  2.4's OpenBLAS 0.3.31, 64 × 784 @ 784 × 300: one thread 2.6 ms in one call but 1.2 ms as eight
  8-row calls; two threads 0.58 ms in one call, 0.82 ms in blocks.
- Without a floating-point unit, float32 is emulated in software. Debian armel (ARMv5 ABI, the
  Pi Zero / Pi 1 class) under qemu, 64 × 784 @ 784 × 300: float32 3.9 s, numpy's integer matmul
  (no BLAS) 0.15 s, 25 times faster. Under qemu the integer loop also wins on armhf and arm64
  (about 1.7×); on real NEON hardware float32 BLAS is expected to win.

For an int8 model every partial sum is an exact integer (see ``fully_connected.py``), so all
these ways give identical bits and the choice never shows in the results; it is made once per
weight matrix and batch size class, on the first input of that size. Float models keep one fixed
way: their rounding may depend on the BLAS kernel, and one input must give one output.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

ROW_BLOCK = 8
"""Many-row products may run as calls of this many rows (see the OpenBLAS figures above)."""
# The integer-or-float probe uses at most this many rows: software float32 takes ~0.4 s for
# 8 rows of the first layer under emulation, so the probe must stay small.
_PROBE_ROWS = ROW_BLOCK
# Blocked-or-whole is timed on at most this many rows of the batch.
_MEASURE_ROWS = 256

Product = Callable[[np.ndarray], np.ndarray]


def matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x @ w with many rows in ROW_BLOCK-row calls: the fixed way, for float models."""
    n = x.shape[0]
    if n <= ROW_BLOCK:
        return np.matmul(x, w)
    out = np.empty((n, w.shape[1]), np.result_type(x, w))
    for i in range(0, n, ROW_BLOCK):
        np.matmul(x[i : i + ROW_BLOCK], w, out=out[i : i + ROW_BLOCK])
    return out


def _seconds(run: Product, x: np.ndarray, tries: int = 2) -> float:
    best = float("inf")
    for _ in range(tries):
        t0 = time.perf_counter()
        run(x)
        best = min(best, time.perf_counter() - t0)
    return best


class ExactMatmul:
    """x @ w for integer-valued float matrices whose every partial sum is exact in their dtype
    (float32 below 2^24, float64 below 2^53), by float BLAS in one call or in row blocks, or by
    numpy's integer matmul, whichever measured fastest here. Returns w's dtype."""

    def __init__(self, w: np.ndarray) -> None:
        self.w = w
        # int32 holds every partial sum that float32 holds exactly; float64's need int64.
        self._int_type = np.int32 if w.dtype == np.float32 else np.int64
        self._w_int: np.ndarray | None = None
        self._integer: bool | None = None
        self._chosen: dict[int, Product] = {}

    @property
    def choice(self) -> dict[int, str]:
        """What was chosen so far, by batch size class (rows up to 2**k - 1): for reports."""
        return {k: getattr(run, "__name__", "?") for k, run in sorted(self._chosen.items())}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        key = min(x.shape[0], _MEASURE_ROWS).bit_length()
        run = self._chosen.get(key)
        if run is None:
            # Threads racing here only measure twice; every choice gives the same bits.
            run = self._chosen[key] = self._fastest(x)
        return run(x)

    def _fastest(self, x: np.ndarray) -> Product:
        if self._integer is None:
            probe = x[:_PROBE_ROWS]
            self.whole(probe)  # first calls pay one-time costs (BLAS threads, int weights)
            self.integer(probe)
            # Two tries only for a close race: a software float32 try can take a second.
            t_float, t_int = _seconds(self.whole, probe, 1), _seconds(self.integer, probe, 1)
            if max(t_float, t_int) < 3 * min(t_float, t_int):
                t_float, t_int = _seconds(self.whole, probe), _seconds(self.integer, probe)
            self._integer = t_int < t_float
            if not self._integer:
                self._w_int = None  # not needed: free the copy
        if self._integer:
            return self.integer
        if x.shape[0] <= ROW_BLOCK:
            return self.whole
        sample = x[:_MEASURE_ROWS]
        blocks_faster = _seconds(self.blocks, sample) < _seconds(self.whole, sample)
        return self.blocks if blocks_faster else self.whole

    def whole(self, x: np.ndarray) -> np.ndarray:
        return np.matmul(x, self.w)

    def blocks(self, x: np.ndarray) -> np.ndarray:
        return matmul(x, self.w)

    def integer(self, x: np.ndarray) -> np.ndarray:
        if self._w_int is None:
            self._w_int = self.w.astype(self._int_type)
        return np.matmul(x.astype(self._int_type), self._w_int).astype(self.w.dtype)
