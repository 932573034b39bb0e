"""edge-mnist serve: the draw page and the JSON API over HTTP (device side: no host modules)."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import app
from .options import Backend, ModelArg, Threads


@app.command()
def serve(
    model: ModelArg,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on; 0.0.0.0 exposes it to the LAN (no authentication, "
            "no TLS: only on a network you trust)."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port; 0 picks a free one.")] = 8000,
    backend: Backend = None,
    threads: Threads = None,
    max_body: Annotated[
        str, typer.Option(help="Largest request body, e.g. 4M or 512k; larger ones get 413.")
    ] = "4M",
    timeout: Annotated[
        float,
        typer.Option(min=0.1, help="Seconds a connection may stay silent before it is closed."),
    ] = 10.0,
    max_connections: Annotated[
        int, typer.Option(min=1, help="Connections served at once; more get 503.")
    ] = 64,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log one line per request.")
    ] = False,
) -> None:
    """Serve a model over HTTP: a draw-and-classify page at / and a JSON API (POST /predict,
    GET /health, /info, /metrics). Stops cleanly on Ctrl+C or SIGTERM (exit status 0)."""
    from edge_mnist.runtime.serve import Limits, parse_size, run

    limits = Limits(max_body=parse_size(max_body), timeout=timeout, max_connections=max_connections)
    run(
        model,
        host,
        port,
        backend=backend,
        threads=threads,
        limits=limits,
        access_log=access_log,
    )
