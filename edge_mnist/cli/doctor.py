"""edge-mnist doctor: what this device can run a model with (device side: numpy and the
standard library, never host modules). Its options are declared once, in runtime/cliopts.py
(DOCTOR_OPTIONS), with ``python -m edge_mnist.runtime.doctor``."""

# No "from __future__ import annotations": spec_options re-signs the command, and Typer must
# see the parameters' real Annotated types (a string one would make MODEL an option).

from pathlib import Path
from typing import Annotated, Any

import typer

from edge_mnist.runtime.cliopts import DOCTOR_OPTIONS

from .app import app, check_output, err, write_json_out
from .consoles import escape
from .specs import spec_options

OptionalModel = Annotated[
    Path | None,
    typer.Argument(
        help="A .tflite or .onnx model: load it on each backend that runs its format.",
        show_default=False,
    ),
]


@app.command()
@spec_options(DOCTOR_OPTIONS)
def doctor(values: dict[str, Any], model: OptionalModel = None) -> None:
    """Check this machine: OS, architecture, Python, numpy, board and CPU features; which
    backends import and at which versions, which could be installed here (the pip line) and
    the one to use; with MODEL, whether each backend loads and runs it and, when MODEL carries
    golden vectors, whether each reproduces them (as 'verify' does). -b NAME imports and
    checks that backend only (the others are listed from their package metadata).

    Exit 0 whatever it finds (a finding is not a failure); 2 when MODEL is not a model file.
    """
    from edge_mnist.runtime.cliopts import is_stdout
    from edge_mnist.runtime.doctor import render, run_doctor

    json_file = values["json"]
    check_output(json_file)
    report = run_doctor(model, values["backend"])
    if not is_stdout(json_file):
        from .plain import emit

        emit(render(report))
    if write_json_out(json_file, report):
        err.print(f"Wrote {escape(str(json_file))}.", highlight=False)
