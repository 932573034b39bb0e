"""edge-mnist verify: does this device compute what was exported? (device side: numpy, Pillow
and the installed interpreters; no host modules). Its options are declared once, in
runtime/cliopts.py (VERIFY_OPTIONS), with ``python -m edge_mnist.runtime.verify``."""

# No "from __future__ import annotations": spec_options re-signs the command, and Typer must
# see the parameters' real Annotated types (a string one would make MODEL an option).

from typing import Any

from edge_mnist.runtime.cliopts import VERIFY_OPTIONS

from .app import app, check_output, err, write_json_out
from .consoles import escape
from .options import ModelArg
from .specs import spec_options


@app.command()
@spec_options(VERIFY_OPTIONS)
def verify(values: dict[str, Any], model: ModelArg) -> None:
    """Check that this device computes what was exported: run the golden vectors inside the
    model through each installed backend (or the one named) and compare them exactly with the
    outputs recorded for the arithmetic that backend reproduces.

    Exit 0 when every backend matches, 1 when one does not (naming the backend, the vector and
    the largest difference), 2 for a file without golden vectors. The NumPy engine is checked
    in every rounding variant unless --rounding names one.
    """
    from edge_mnist.runtime.cliopts import is_stdout
    from edge_mnist.runtime.verify import report_lines
    from edge_mnist.runtime.verify import verify as run_verify

    json_file = values["json"]
    check_output(json_file)
    report = run_verify(model, values["backend"], values["rounding"])
    if not is_stdout(json_file):
        from .plain import emit

        for line in report_lines(report):
            emit(line)
    if write_json_out(json_file, report.to_dict()):
        err.print(f"Wrote {escape(str(json_file))}.", highlight=False)
    failure = report.failure()
    if failure is not None:
        raise failure
