"""The file names the stage reads and writes: the one place for them in the stage.

The stage runs on the system Python, apart from the project's venv, so it cannot import the
project's own list of artifact names; these must match what 'edge-mnist pipeline' writes.
"""

from __future__ import annotations

# The exported models every row runs, as 'edge-mnist pipeline' names them.
INT8_TFLITE = "model_int8.tflite"  # the one the bench smoke run times
MODELS = (INT8_TFLITE, "model_float32.tflite", "model_int8.onnx", "model_float32.onnx")
# The stage's summary, beside the models unless --json says otherwise.
SUMMARY = "emulation.json"
# The MNIST test set, gzipped or not ('<stem>' or '<stem>.gz').
MNIST_IMAGES = "t10k-images-idx3-ubyte"
MNIST_LABELS = "t10k-labels-idx1-ubyte"
