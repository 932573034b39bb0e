"""edge-mnist serve: the draw page and the JSON API over HTTP (device side: no host modules).
Its options are declared once, in runtime/serve/options.py, with 'python -m ...serve'."""

from __future__ import annotations

from typing import Any

from edge_mnist.runtime.serve.options import OPTIONS

from .app import app
from .options import ModelArg
from .specs import spec_options


@app.command()
@spec_options(OPTIONS)
def serve(options: dict[str, Any], model: ModelArg) -> None:
    """Serve a model over HTTP: a draw-and-classify page at / and a JSON API (POST /predict,
    GET /health, /info, /metrics). Stops cleanly on Ctrl+C or SIGTERM (exit status 0)."""
    from edge_mnist.runtime.serve.options import launch

    launch(model, options)
