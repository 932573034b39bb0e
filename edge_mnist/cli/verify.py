"""edge-mnist verify: does this device compute what was exported? (device side: numpy, Pillow
and the installed interpreters; no host modules)."""

from __future__ import annotations

from .app import app, check_output, err, write_json_out
from .consoles import escape
from .options import Backend, JsonOut, ModelArg, Rounding


@app.command()
def verify(
    model: ModelArg,
    backend: Backend = None,
    rounding: Rounding = None,
    json_file: JsonOut = None,
) -> None:
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

    check_output(json_file)
    report = run_verify(model, backend, rounding)
    if not is_stdout(json_file):
        from .plain import emit

        for line in report_lines(report):
            emit(line)
    if write_json_out(json_file, report.to_dict()):
        err.print(f"Wrote {escape(str(json_file))}.", highlight=False)
    failure = report.failure()
    if failure is not None:
        raise failure
