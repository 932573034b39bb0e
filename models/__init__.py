"""The reference MLP architectures (mlp-300x2 by default, mlp-800x2, mlp-300x3)."""

from .registry import (
    ARCHITECTURES,
    DEFAULT_ARCH,
    INPUT_NAME,
    OUTPUT_NAME,
    Architecture,
    UnknownArchitectureError,
    build_model,
    get_architecture,
)

__all__ = [
    "ARCHITECTURES",
    "DEFAULT_ARCH",
    "INPUT_NAME",
    "OUTPUT_NAME",
    "Architecture",
    "UnknownArchitectureError",
    "build_model",
    "get_architecture",
]
