"""Package attributes that load their module on first use (PEP 562), so that importing one
light module of a package (bench's timing, serve's options) does not load the whole package."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any


def where(exports: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """{attribute: module} from {module: attributes}."""
    return {name: module for module, names in exports.items() for name in names}


def load(package: str, modules: Mapping[str, str], name: str) -> Any:
    """The attribute ``name`` of ``package``, importing the module that defines it."""
    module = modules.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", package), name)
