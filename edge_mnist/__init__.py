"""edge-mnist: the classic Keras MNIST MLP, trained, exported to int8 TFLite and ONNX, and run on devices.

The host API lives in the submodules (``edge_mnist.data``, ``.train``, ``.export``, ``.gate``,
``.pipeline``) and the device API in ``edge_mnist.runtime``; importing this package loads
neither TensorFlow nor an interpreter.
"""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # importlib.metadata costs tens of milliseconds to import: only pay for it when asked.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("edge-mnist")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"
