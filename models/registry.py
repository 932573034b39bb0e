"""The MLP variants by name: the reference notebook's three and small ones for microcontrollers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edge_mnist.runtime.errors import EdgeMnistError

if TYPE_CHECKING:
    import keras

INPUT_NAME = "pixels"
OUTPUT_NAME = "probabilities"
DEFAULT_ARCH = "mlp-300x2"


@dataclass(frozen=True)
class Architecture:
    """A stack of ReLU Dense layers on a 784-float input, ending in Dense(10, softmax)."""

    name: str
    hidden: tuple[int, ...]
    description: str = ""
    # Small enough for a microcontroller-class target: int8 weights within about 128 KB.
    microcontroller: bool = False

    @property
    def parameters(self) -> int:
        """Trainable parameters (weights and biases)."""
        sizes = (784, *self.hidden, 10)
        return sum(a * b + b for a, b in itertools.pairwise(sizes))


ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture("mlp-300x2", (300, 300), "the reference MLP (default)"),
        Architecture("mlp-800x2", (800, 800), "wider: the notebook's largest"),
        Architecture("mlp-300x3", (300, 300, 300), "deeper: a third hidden layer"),
        Architecture("mlp-128", (128,), "one hidden layer, ~100 KB int8", microcontroller=True),
        Architecture("mlp-64x2", (64, 64), "two narrow layers, ~55 KB int8", microcontroller=True),
        Architecture("mlp-32", (32,), "one narrow layer, ~26 KB int8", microcontroller=True),
    )
}


class UnknownArchitectureError(EdgeMnistError):
    """A name that is not in the registry."""


def get_architecture(name: str) -> Architecture:
    """Look an architecture up by name, or say which names exist."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise UnknownArchitectureError(
            f"unknown architecture {name!r}.", f"choose one of: {', '.join(ARCHITECTURES)}."
        ) from None


def build_model(name: str = DEFAULT_ARCH, dropout: float = 0.0) -> keras.Model:
    """Build the named MLP; dropout (training only) follows each hidden layer when > 0."""
    import keras

    arch = get_architecture(name)
    if not 0.0 <= dropout < 1.0:
        raise EdgeMnistError(f"dropout must be in [0, 1), got {dropout}.")
    inputs = keras.Input(shape=(784,), name=INPUT_NAME)
    x = inputs
    for i, units in enumerate(arch.hidden, start=1):
        x = keras.layers.Dense(units, activation="relu", name=f"hidden{i}")(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name=f"dropout{i}")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name=OUTPUT_NAME)(x)
    return keras.Model(inputs, outputs, name=arch.name)
