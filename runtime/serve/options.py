"""The serve command's options, declared once for both front ends (``python -m ...serve`` and
``edge-mnist serve``); the limits' defaults come from ``Limits`` itself."""

from __future__ import annotations

from typing import Any

from ..cliopts import Opt, backend_opt, threads_opt
from .limits import Limits, parse_size

_LIMITS = Limits()


def _size_text(n: int) -> str:
    """4194304 -> "4M": the form --max-body takes."""
    for unit, factor in (("M", 1 << 20), ("k", 1 << 10)):
        if n % factor == 0:
            return f"{n // factor}{unit}"
    return str(n)


OPTIONS = (
    Opt(
        "host",
        ("--host",),
        default="127.0.0.1",
        help="Address to listen on; 0.0.0.0 exposes it to the LAN (no TLS: only on a network "
        "you trust, and with --token).",
    ),
    Opt("port", ("--port",), int, 8000, "Port; 0 picks a free one.", low=0, high=65535),
    backend_opt(),
    threads_opt(),
    Opt(
        "max_body",
        ("--max-body",),
        default=_size_text(_LIMITS.max_body),
        help="Largest request body, e.g. 4M or 512k; larger ones get 413.",
    ),
    Opt(
        "timeout",
        ("--timeout",),
        float,
        _LIMITS.timeout,
        "Seconds a connection may stay silent before it is closed.",
        low=0.1,
    ),
    Opt(
        "max_connections",
        ("--max-connections",),
        int,
        _LIMITS.max_connections,
        "Connections served at once; more get 503.",
        low=1,
    ),
    Opt("access_log", ("--access-log",), bool, False, "Log one line per request."),
    Opt(
        "token",
        ("--token",),
        help="Require 'Authorization: Bearer TOKEN' on /predict, /info and /metrics (16+ "
        "characters). Prefer the EDGE_MNIST_TOKEN environment variable: other users can read "
        "a command line.",
        metavar="TOKEN",
    ),
    Opt("debug", ("--debug",), bool, False, "Log connection errors and timeouts too."),
)


def limits(values: dict[str, Any]) -> Limits:
    """The server's limits from OPTIONS' values (EdgeMnistError on a bad one)."""
    return Limits(
        max_body=parse_size(values["max_body"]),
        timeout=values["timeout"],
        max_connections=values["max_connections"],
    )


def launch(model: Any, values: dict[str, Any]) -> None:
    """Serve ``model`` as OPTIONS' values ask, until SIGINT or SIGTERM."""
    from .launch import run

    run(
        model,
        values["host"],
        values["port"],
        backend=values["backend"],
        threads=values["threads"],
        limits=limits(values),
        access_log=values["access_log"],
        debug=values["debug"],
        token=access_token(values),
    )


def access_token(values: dict[str, Any]) -> str | None:
    """--token, else the EDGE_MNIST_TOKEN environment variable, else None (no authentication).

    Only an ABSENT token means no authentication: an explicitly empty one (``--token ""`` or
    ``EDGE_MNIST_TOKEN=``) is refused by check_token, because silently serving without a
    token the operator tried to set would expose the model.
    """
    import os

    from .auth import TOKEN_ENV, check_token

    token = values.get("token")
    if token is None:
        token = os.environ.get(TOKEN_ENV)
    return check_token(token)
