"""Options that several commands share, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from edge_mnist.runtime.backends import BACKENDS

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
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No per-epoch progress.")]

ModelArg = Annotated[Path, typer.Argument(help="A .tflite or .onnx model.", show_default=False)]
BACKEND_HELP = (
    f"Interpreter: {', '.join(BACKENDS)}. Default: the first installed that fits the model."
)
Backend = Annotated[str | None, typer.Option(help=BACKEND_HELP)]
Threads = Annotated[
    int | None, typer.Option(help="Interpreter threads (default: the backend's choice).")
]
