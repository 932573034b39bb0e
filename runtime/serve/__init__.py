"""Serve a model over HTTP: a draw-and-classify page and a small JSON API (standard library only).

Use it from Python::

    from edge_mnist.runtime.serve import make_server, serve_forever
    serve_forever(make_server("model_int8.tflite", "127.0.0.1", 8000))
"""

from .launch import run
from .server import DigitServer, Limits, make_server, parse_size, serve_forever
from .service import DigitService

__all__ = [
    "DigitServer",
    "DigitService",
    "Limits",
    "make_server",
    "parse_size",
    "run",
    "serve_forever",
]
