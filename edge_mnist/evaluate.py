"""Accuracy of the Keras model and of exported files on MNIST."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edge_mnist.runtime import Classifier
from edge_mnist.runtime.errors import ModelLoadError

BATCH = 1000


def load_keras(path: Path) -> Any:
    """Load a .keras model, with a clear error for a missing, corrupt or non-Keras file."""
    from edge_mnist.tf import import_tf

    if not path.is_file():
        raise ModelLoadError(
            f"{path}: no such model file.", "run 'edge-mnist train' first, or pass --model."
        )
    import_tf()
    import keras

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types (ValueError, OSError, zipfile errors...)
        raise ModelLoadError(
            f"{path}: not a readable Keras model ({type(exc).__name__}: {str(exc).strip()[:200]}).",
            "pass a .keras file written by 'edge-mnist train'.",
        ) from None
    shape_in = tuple(model.inputs[0].shape) if getattr(model, "inputs", None) else None
    shape_out = tuple(model.outputs[0].shape) if getattr(model, "outputs", None) else None
    if shape_in != (None, 784) or shape_out != (None, 10):
        raise ModelLoadError(
            f"{path}: expected a model from (None, 784) to (None, 10), got {shape_in} -> {shape_out}."
        )
    return model


def keras_probabilities(model: Any, x: np.ndarray) -> np.ndarray:
    """Class probabilities from the Keras model, in batches."""
    return np.concatenate(
        [np.asarray(model(x[i : i + BATCH], training=False)) for i in range(0, len(x), BATCH)]
    )


def classifier_probabilities(classifier: Classifier, x: np.ndarray) -> np.ndarray:
    """Class probabilities from an exported model through the runtime, in batches."""
    return np.concatenate(
        [classifier.predict(x[i : i + BATCH]).probabilities for i in range(0, len(x), BATCH)]
    )


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy."""
    return float(np.mean(probabilities.argmax(axis=1) == labels))
