"""Serve a model over HTTP: a draw-and-classify page and a small JSON API (standard library only).

Use it from Python::

    from edge_mnist.runtime.serve import make_server, serve_forever
    serve_forever(make_server("model_int8.tflite", "127.0.0.1", 8000))

The names below load their module on first use: the command lines read ``options`` (and the
defaults in ``limits``) to build serve's options and its help, which must not load http.server
and the model.
"""

from __future__ import annotations

from typing import Any

from ..lazy import load, where

_EXPORTS = {
    "launch": ("run",),
    "limits": ("Limits", "parse_size"),
    "server": ("DigitServer", "make_server", "serve_forever"),
    "service": ("DigitService",),
}
_WHERE = where(_EXPORTS)
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    return load(__name__, _WHERE, name)
