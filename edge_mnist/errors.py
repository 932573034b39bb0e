"""Host-side errors: the ones only the host tools raise, below the runtime's EdgeMnistError."""

from __future__ import annotations

from edge_mnist.runtime.errors import EdgeMnistError

# The runtime's errors (edge_mnist.runtime.errors) are the hierarchy: these are the ones only the
# host tools raise. The CLI maps every EdgeMnistError to its exit code.
__all__ = ["CheckFailedError", "DataError", "ExportError", "UsageError"]


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
