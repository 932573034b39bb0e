"""python -m edge_mnist.runtime.serve MODEL (or python -m runtime.serve MODEL from a copied
folder). Its options are declared once, in options.py, with 'edge-mnist serve'."""

from __future__ import annotations

import argparse
import sys

from ..cliopts import add_arguments, values
from ..errors import EdgeMnistError
from .options import OPTIONS, launch


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m edge_mnist.runtime.serve",
        description="Serve a .tflite or .onnx MNIST model: a draw page at / and a JSON API "
        "(POST /predict, GET /health, /info, /metrics). Stops cleanly on Ctrl+C or SIGTERM.",
    )
    p.add_argument("model", help="the .tflite or .onnx model file")
    add_arguments(p, OPTIONS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        launch(args.model, values(args, OPTIONS))
    except EdgeMnistError as exc:
        print(f"error: {exc.problem}", file=sys.stderr)
        if exc.fix:
            print(f"fix: {exc.fix}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
