"""Start a server the way the command line does: logging, a banner with the URL, serve, stop."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path
from typing import TextIO

from ..classifier import Classifier
from .auth import TOKEN_ENV
from .limits import Limits
from .server import make_server, serve_forever

SECURITY = (
    "listening beyond this machine without an access token: anyone who can reach this "
    f"address can use the model. Set {TOKEN_ENV} (or --token); there is no TLS either, so "
    "off a trusted LAN use an SSH tunnel or a reverse proxy."
)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def configure_logging(access_log: bool = False, debug: bool = False) -> None:
    """Quiet by default: startup, shutdown and bugs only; one line per request on request."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    log = logging.getLogger("edge_mnist.serve")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG if debug else logging.INFO)
    access = logging.getLogger("edge_mnist.serve.access")
    access.setLevel(logging.INFO if access_log or debug else logging.WARNING)


def run(
    model: Classifier | str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    backend: str | None = None,
    threads: int | None = None,
    limits: Limits | None = None,
    access_log: bool = False,
    debug: bool = False,
    token: str | None = None,
) -> None:
    """Load, bind, print where to connect, and serve until SIGINT or SIGTERM.

    Raises ``EdgeMnistError`` (exit code 2) when the model cannot be loaded or the address
    cannot be bound; returns normally after a signal.
    """
    configure_logging(access_log, debug)
    server = make_server(
        model, host, port, backend=backend, threads=threads, limits=limits, token=token
    )
    info = server.service.classifier.info
    _say(f"serving {info.path} ({info.format}, {info.backend}) on {server.url}")
    test = server.service.selftest
    if not test["passed"]:
        _say(f"warning: the start-up self-test failed: {test['failures']}", sys.stderr)
    if token:
        _say("/predict, /info and /metrics need 'Authorization: Bearer <token>'")
    elif host not in LOCAL_HOSTS:
        _say(f"warning: {SECURITY}", sys.stderr)
    _say("press Ctrl+C to stop")
    serve_forever(server)
    _say("stopped")


def _say(text: str, stream: TextIO | None = None) -> None:
    # Whoever started the server may have gone (a closed pipe): that must not crash the stop.
    with contextlib.suppress(BrokenPipeError, ValueError):
        print(text, file=stream or sys.stdout, flush=True)
