"""The error hierarchy shared by the runtime and the host tools."""

from __future__ import annotations


class EdgeMnistError(Exception):
    """A problem the user can fix: bad input, a missing file or backend.

    ``exit_code`` is what the CLI exits with: 2 for bad usage or input, 1 for a failed check.
    """

    exit_code = 2

    def __init__(self, problem: str, fix: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix

    def __str__(self) -> str:
        return self.problem if self.fix is None else f"{self.problem} Fix: {self.fix}"


class InvalidInputError(EdgeMnistError, ValueError):
    """An array or image the classifier cannot take (shape, dtype, value range)."""


class ModelLoadError(EdgeMnistError):
    """A model file that is missing, unreadable, corrupt or of an unknown format."""


class BackendUnavailableError(EdgeMnistError):
    """No interpreter package that can run the model is installed (or it cannot load)."""


class ImageError(EdgeMnistError):
    """An image file that cannot be read or holds no digit."""


class DataFileError(EdgeMnistError):
    """An IDX data file that is missing, truncated or malformed."""


class OutputError(EdgeMnistError):
    """An output file or folder that cannot be written."""
