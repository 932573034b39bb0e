"""--rounding and the backend it implies: the NumPy engine's variants belong to it alone."""

from __future__ import annotations

from ..errors import InvalidInputError
from . import NUMPY  # imported lazily by the package (predict never loads this module)


def check_rounding_backend(backend: str | None, rounding: str | None) -> str | None:
    """The backend a rounding variant implies: ``rounding`` is the NumPy engine's choice, so it
    picks that engine when no backend is named and is a usage error with any other."""
    if rounding is None:
        return backend
    from ..engine.rounding import DEFAULT_ROUNDING, check_rounding

    check_rounding(rounding)
    if backend not in (None, NUMPY):
        raise InvalidInputError(
            f"--rounding {rounding} applies to the numpy backend only, not to {backend!r} "
            "(an interpreter's arithmetic is its own).",
            f"use --backend numpy --rounding {rounding}, or leave --rounding out "
            f"(the numpy default is {DEFAULT_ROUNDING}).",
        )
    return NUMPY
