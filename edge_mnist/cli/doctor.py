"""edge-mnist doctor: what this device can run a model with (device side: numpy and the
standard library, never host modules)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import app, check_output, err, write_json_out
from .consoles import escape
from .options import Backend, JsonOut


@app.command()
def doctor(
    model: Annotated[
        Path | None,
        typer.Argument(
            help="A .tflite or .onnx model: load it on each backend that runs its format.",
            show_default=False,
        ),
    ] = None,
    backend: Backend = None,
    json_file: JsonOut = None,
) -> None:
    """Check this machine: OS, architecture, Python, numpy, board and CPU features; which
    backends import and at which versions, which could be installed here (the pip line) and
    the one to use; with MODEL, whether each backend loads and runs it. -b NAME imports and
    checks that backend only (the others are listed from their package metadata).

    Exit 0 whatever it finds (a finding is not a failure); 2 when MODEL is not a model file.
    """
    from edge_mnist.runtime.cliopts import is_stdout
    from edge_mnist.runtime.doctor import diagnose, render

    check_output(json_file)
    if backend is not None:
        from edge_mnist.runtime.backends import spec_for

        spec_for(backend)  # an unknown name is bad usage
    if model is not None:
        from edge_mnist.runtime.backends import detect_format

        detect_format(model)  # a missing or foreign file is bad input, before any work
    report = diagnose(model, None if backend is None else (backend,))
    if not is_stdout(json_file):
        from .plain import emit

        emit(render(report))
    if write_json_out(json_file, report):
        err.print(f"Wrote {escape(str(json_file))}.", highlight=False)
