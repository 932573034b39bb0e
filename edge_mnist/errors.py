"""Host-side errors: the runtime's hierarchy plus the ones only the host tools raise."""

from __future__ import annotations

from edge_mnist.runtime.bench.errors import BenchError, BenchRegressionError
from edge_mnist.runtime.errors import (
    BackendUnavailableError,
    DataFileError,
    EdgeMnistError,
    ImageError,
    InvalidInputError,
    ModelLoadError,
    OutputError,
)

__all__ = [
    "BackendUnavailableError",
    "BenchError",
    "BenchRegressionError",
    "CheckFailedError",
    "DataError",
    "DataFileError",
    "EdgeMnistError",
    "ExportError",
    "ImageError",
    "InvalidInputError",
    "ModelLoadError",
    "OutputError",
    "UsageError",
]


class UsageError(EdgeMnistError):
    """Options that do not fit together, or an output that exists and may not be overwritten."""


class DataError(EdgeMnistError):
    """MNIST cannot be found, downloaded or verified."""


class ExportError(EdgeMnistError):
    """A conversion failed, or its result disagreed with the reference model."""

    exit_code = 1


class CheckFailedError(EdgeMnistError):
    """The accuracy gate or a regression check did not hold."""

    exit_code = 1
