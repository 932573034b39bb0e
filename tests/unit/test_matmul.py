"""The engine's exact int8 product: every way to compute it gives the same bits."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.device
def test_every_way_to_compute_the_exact_product_gives_identical_bits() -> None:
    from edge_mnist.runtime.engine.matmul import ExactMatmul

    rng = np.random.default_rng(0)
    # Centered activations times int8 weights: the largest products the fused path computes.
    x = rng.integers(-255, 256, (100, 784)).astype(np.float32)
    w = rng.integers(-128, 128, (784, 300)).astype(np.float32)
    exact = (x.astype(np.int64) @ w.astype(np.int64)).astype(np.float32)
    product = ExactMatmul(w)
    for way in (product.whole, product.blocks, product.integer):
        got = way(x)
        assert got.dtype == np.float32 and np.array_equal(got, exact), way.__name__
    # The measured choice, per batch size class, is remembered and gives the same bits.
    assert np.array_equal(product(x), exact) and np.array_equal(product(x[:3]), exact[:3])
    assert set(product.choice) == {2, 7}  # 3 rows, 100 rows
    assert set(product.choice.values()) <= {"whole", "blocks", "integer"}
    assert np.array_equal(product(x[:90]), exact[:90]) and len(product.choice) == 2
    wide = ExactMatmul(w.astype(np.float64))  # the float64 fallback uses int64
    assert np.array_equal(wide.integer(x.astype(np.float64)), exact.astype(np.float64))
