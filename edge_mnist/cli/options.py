"""Options that several commands share, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from edge_mnist.runtime.cliopts import (
    BACKEND_HELP,
    JSON_HELP,
    PLOT_HELP,
    ROUNDING_HELP,
    THREADS_HELP,
)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder with the four MNIST files (.gz or raw). Default: $EDGE_MNIST_DATA, "
        "else ~/.cache/edge-mnist/mnist (downloaded when missing).",
        show_default=False,
    ),
]
Out = Annotated[Path, typer.Option("--out", "-o", help="Output folder.")]
# The one --json: a FILE to write JSON to, '-' for stdout (instead of the table).
JsonOut = Annotated[
    Path | None, typer.Option("--json", metavar="FILE", help=JSON_HELP, show_default=False)
]
Plot = Annotated[
    Path | None, typer.Option("--plot", metavar="FILE", help=PLOT_HELP, show_default=False)
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No per-epoch progress.")]

ModelArg = Annotated[Path, typer.Argument(help="A .tflite or .onnx model.", show_default=False)]
Backend = Annotated[
    str | None,
    typer.Option("--backend", "-b", metavar="NAME", help=BACKEND_HELP, show_default=False),
]
Rounding = Annotated[
    str | None,
    typer.Option("--rounding", metavar="R", help=ROUNDING_HELP, show_default=False),
]
Threads = Annotated[
    int | None,
    typer.Option(help=THREADS_HELP, min=1),
]
Limit = Annotated[
    int | None,
    typer.Option(
        "--limit",
        min=1,
        metavar="N",
        help="Use only N images (default: all); the description above says which N.",
        show_default=False,
    ),
]
