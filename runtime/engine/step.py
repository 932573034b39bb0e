"""What every prepared operator is, and the two ways a model can be refused."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .flatbuffer import Malformed

# Integers below 2^24 in magnitude are exact in float32, and so are sums that stay below it.
EXACT_F32 = 1 << 24


class Unsupported(Malformed):
    """A well-formed model that uses something this engine does not implement."""


@dataclass
class Step:
    """One prepared operator: reads tensor ``source``, writes tensor ``target``."""

    op: str
    index: int
    source: int
    target: int

    def __call__(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError
