"""The MLP architectures: mlp-300x2 (default), mlp-800x2, mlp-300x3 and the small mlp-128,
mlp-64x2 and mlp-32 for microcontroller-class targets."""

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
