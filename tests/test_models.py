"""The architecture registry and the Keras models it builds (real Keras, no training)."""

from __future__ import annotations

import numpy as np
import pytest

from edge_mnist.models import (
    ARCHITECTURES,
    DEFAULT_ARCH,
    INPUT_NAME,
    OUTPUT_NAME,
    UnknownArchitectureError,
    build_model,
    get_architecture,
)
from edge_mnist.runtime.errors import EdgeMnistError

# Weights and biases, counted by hand: 784*300+300 + 300*300+300 + 300*10+10, and so on.
EXPECTED = {
    "mlp-300x2": ((300, 300), 328_810),
    "mlp-800x2": ((800, 800), 784 * 800 + 800 + 800 * 800 + 800 + 800 * 10 + 10),
    "mlp-300x3": ((300, 300, 300), 328_810 + 300 * 300 + 300),
    "mlp-128": ((128,), 784 * 128 + 128 + 128 * 10 + 10),
    "mlp-64x2": ((64, 64), 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10),
    "mlp-32": ((32,), 784 * 32 + 32 + 32 * 10 + 10),
}
SMALL = {"mlp-128", "mlp-64x2", "mlp-32"}


def _keras():  # type: ignore[no-untyped-def]
    pytest.importorskip("tensorflow")
    import keras

    return keras


def test_the_registry_holds_the_reference_three_and_the_small_ones() -> None:
    assert set(ARCHITECTURES) == set(EXPECTED)
    assert DEFAULT_ARCH == "mlp-300x2"
    assert {n for n, a in ARCHITECTURES.items() if a.microcontroller} == SMALL
    assert all(a.description for a in ARCHITECTURES.values())


@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_architectures_fit_a_microcontroller_budget(name: str) -> None:
    # int8 weights are one byte per parameter: the flag promises at most ~128 KB of them.
    assert get_architecture(name).parameters <= 128 * 1024


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parameter_counts(name: str) -> None:
    hidden, parameters = EXPECTED[name]
    arch = get_architecture(name)
    assert arch.name == name
    assert arch.hidden == hidden
    assert arch.parameters == parameters


def test_unknown_architecture_lists_the_known_names() -> None:
    with pytest.raises(UnknownArchitectureError) as info:
        get_architecture("mlp-1000x9")
    assert isinstance(info.value, EdgeMnistError)
    assert info.value.exit_code == 2
    assert "mlp-1000x9" in info.value.problem
    assert info.value.fix is not None
    for name in EXPECTED:
        assert name in info.value.fix


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_build_model_layers_match_the_registry(name: str) -> None:
    keras = _keras()
    hidden, parameters = EXPECTED[name]
    model = build_model(name)
    assert model.name == name
    assert model.count_params() == parameters
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [*hidden, 10]
    assert all(layer.activation.__name__ == "relu" for layer in dense[:-1])
    assert dense[-1].activation.__name__ == "softmax"
    assert dense[-1].name == OUTPUT_NAME
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)
    assert model.input_shape == (None, 784)
    assert model.output_shape == (None, 10)


def test_input_is_named_pixels_and_output_is_a_distribution() -> None:
    _keras()
    model = build_model()
    assert model.inputs[0].name == INPUT_NAME == "pixels"
    assert model.layers[0].name == "pixels"
    x = np.random.default_rng(0).random((16, 784), dtype=np.float32)
    probs = np.asarray(model.predict(x, verbose=0))
    assert probs.shape == (16, 10)
    assert (probs >= 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_dropout_follows_each_hidden_layer_and_is_training_only() -> None:
    keras = _keras()
    model = build_model("mlp-300x3", dropout=0.5)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["InputLayer", *["Dense", "Dropout"] * 3, "Dense"]
    assert all(
        layer.rate == 0.5 for layer in model.layers if isinstance(layer, keras.layers.Dropout)
    )
    assert model.count_params() == EXPECTED["mlp-300x3"][1]  # dropout adds no weights
    x = np.random.default_rng(1).random((8, 784), dtype=np.float32)
    # Inference is deterministic (no dropout); training mode is not.
    np.testing.assert_array_equal(model(x, training=False), model(x, training=False))
    assert not np.allclose(model(x, training=True), model(x, training=False))


@pytest.mark.parametrize("dropout", [1.0, 1.5, -0.1])
def test_bad_dropout_is_rejected(dropout: float) -> None:
    _keras()
    with pytest.raises(EdgeMnistError, match="dropout"):
        build_model(DEFAULT_ARCH, dropout=dropout)


def test_build_model_with_unknown_name_fails() -> None:
    _keras()
    with pytest.raises(UnknownArchitectureError, match="unknown architecture"):
        build_model("resnet50")
