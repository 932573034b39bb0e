"""python -m edge_mnist.runtime.serve MODEL (or python -m runtime.serve MODEL from a copied
folder). Its options are declared once, in options.py, with 'edge-mnist serve'."""

from __future__ import annotations

import argparse
import sys

from ..cliopts import add_arguments, run_main, values
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


def _serve(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    launch(args.model, values(args, OPTIONS))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_main(_serve, argv)


if __name__ == "__main__":
    sys.exit(main())
