"""Float reference activations per layer from the Keras model (host side, needs TensorFlow).

The int8 .tflite runs each Dense layer as FULLY_CONNECTED with its activation fused, and the
last layer as FULLY_CONNECTED (logits) followed by SOFTMAX. The reference follows the same
steps: one activation per hidden Dense layer, then the output layer's logits and probabilities.
Dropout layers are the identity at inference and are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from edge_mnist.runtime.errors import ModelLoadError


def keras_steps(model_path: Path) -> list[tuple[str, Callable[[np.ndarray], np.ndarray]]]:
    """(name, float function) per step of the Keras model, each computed by Keras itself."""
    from edge_mnist.evaluate import load_keras

    model = load_keras(model_path)
    import keras

    steps: list[tuple[str, Callable[[np.ndarray], np.ndarray]]] = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer | keras.layers.Dropout):
            continue
        if not isinstance(layer, keras.layers.Dense):
            raise ModelLoadError(
                f"{model_path}: layer {layer.name!r} ({type(layer).__name__}) has no int8 twin "
                "the report knows.",
                "the report covers MLPs of Dense layers (the models 'edge-mnist train' writes).",
            )
        if keras.activations.serialize(layer.activation) == "softmax":

            def logits(x: np.ndarray, layer: Any = layer) -> np.ndarray:
                z = keras.ops.add(keras.ops.matmul(x, layer.kernel), layer.bias)
                return np.asarray(z)

            def softmax(x: np.ndarray) -> np.ndarray:
                return np.asarray(keras.ops.softmax(keras.ops.convert_to_tensor(x), axis=-1))

            steps += [("logits", logits), (layer.name, softmax)]
        else:

            def dense(x: np.ndarray, layer: Any = layer) -> np.ndarray:
                return np.asarray(layer(keras.ops.convert_to_tensor(x), training=False))

            steps.append((layer.name, dense))
    return steps
