"""edge-mnist: the classic Keras MNIST MLP, trained, exported to int8 TFLite and ONNX, and run on devices.

The host API lives in the submodules (``edge_mnist.data``, ``.train``, ``.export``, ``.gate``,
``.pipeline``) and the device API in ``edge_mnist.runtime``; importing this package loads
neither TensorFlow nor an interpreter.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("edge-mnist")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
