"""python -m edge_mnist.runtime.serve MODEL (or python -m runtime.serve MODEL from a copied folder)."""

from __future__ import annotations

import argparse
import sys

from ..backends import BACKENDS
from ..errors import EdgeMnistError
from .launch import run
from .server import Limits, parse_size


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m edge_mnist.runtime.serve",
        description="Serve a .tflite or .onnx MNIST model: a draw page at / and a JSON API "
        "(POST /predict, GET /health, /info, /metrics). Stops cleanly on Ctrl+C or SIGTERM.",
    )
    p.add_argument("model", help="the .tflite or .onnx model file")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind; 0.0.0.0 exposes it on the LAN (default: %(default)s)",
    )
    p.add_argument(
        "--port", type=int, default=8000, help="port; 0 picks a free one (default: %(default)s)"
    )
    p.add_argument(
        "--backend", choices=BACKENDS, help="interpreter (default: the first installed that fits)"
    )
    p.add_argument(
        "--threads", type=int, help="interpreter threads (default: the interpreter's choice)"
    )
    p.add_argument(
        "--max-body",
        default="4M",
        help="largest request body, e.g. 4M or 512k (default: %(default)s)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=Limits.timeout,
        help="seconds a connection may stay silent (default: %(default)s)",
    )
    p.add_argument(
        "--max-connections",
        type=int,
        default=Limits.max_connections,
        help="connections served at once (default: %(default)s)",
    )
    p.add_argument("--access-log", action="store_true", help="log one line per request")
    p.add_argument("--debug", action="store_true", help="log connection errors and timeouts too")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        limits = Limits(
            max_body=parse_size(args.max_body),
            timeout=args.timeout,
            max_connections=args.max_connections,
        )
        run(
            args.model,
            args.host,
            args.port,
            backend=args.backend,
            threads=args.threads,
            limits=limits,
            access_log=args.access_log,
            debug=args.debug,
        )
    except EdgeMnistError as exc:
        print(f"error: {exc.problem}", file=sys.stderr)
        if exc.fix:
            print(f"fix: {exc.fix}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
