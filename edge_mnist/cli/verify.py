"""edge-mnist verify: does this device compute what was exported? (device side: numpy, Pillow
and the installed interpreters; no host modules)."""

from __future__ import annotations

from typing import Any

from .app import app, check_output, err, write_json_out
from .consoles import escape
from .options import Backend, JsonOut, ModelArg, Rounding

WIDTH = 80


def _lines(report: Any) -> list[str]:
    """The report as text that fits 80 columns."""
    import textwrap

    from edge_mnist.runtime.textfmt import align

    g = report.golden
    head = [
        report.model,
        f"{g['count']} golden vectors ({g['dtype']}), recorded on {g['machine']} for: "
        f"{', '.join(g['variants'])}",
    ]
    rows = [("backend", "version", "expected", "result", "largest diff", "time")]
    for c in report.checks:
        if c.error:
            result, diff = "ERROR", "-"
        else:
            result = "ok" if c.ok else f"FAIL {len(c.mismatched)}/{c.vectors}"
            diff = (
                f"{c.largest_difference:g} {c.unit}"
                if c.unit == "steps"
                else (f"{c.largest_difference:.1e}")
            )
        rows.append(
            (
                c.backend,
                c.version.split(" (")[0][:16],
                c.expected,
                result,
                diff,
                f"{c.seconds * 1000:.0f} ms",
            )
        )
    table = align(rows, right=frozenset({4, 5}))
    notes = []
    for c in report.checks:
        if c.error:
            notes.append(f"{c.backend}: {c.error}")
        elif c.mode == "bound":
            notes.append(
                f"{c.backend}: {report.machine} is not {g['machine']}, where the outputs were "
                f"recorded: allowed {c.allowed:g} steps, equal digits where the margin is wider."
            )
        if not c.ok and not c.error:
            notes.append(
                f"{c.backend}: vector {c.worst_vector} differs most from {c.expected!r} "
                f"({c.largest_difference:g} {c.unit}, allowed {c.allowed:g}); "
                f"failing vectors: {', '.join(map(str, c.mismatched))}"
            )
    for name, why in report.skipped.items():
        notes.append(f"skipped {name}: {why}")
    wrap = [textwrap.fill(n, WIDTH, subsequent_indent="  ") for n in [*head, *notes]]
    return [*wrap[:2], *table, *wrap[2:]]


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
    from edge_mnist.runtime.verify import VerifyFailedError
    from edge_mnist.runtime.verify import verify as run_verify

    check_output(json_file)
    report = run_verify(model, backend, rounding)
    if not is_stdout(json_file):
        from .plain import emit

        for line in _lines(report):
            emit(line)
    if write_json_out(json_file, report.to_dict()):
        err.print(f"Wrote {escape(str(json_file))}.", highlight=False)
    if not report.ok:
        failed = [c for c in report.checks if not c.ok]
        worst = failed[0]
        where = (
            worst.error
            if worst.error
            else f"vector {worst.worst_vector}, largest difference "
            f"{worst.largest_difference:g} {worst.unit}"
        )
        raise VerifyFailedError(
            f"{', '.join(c.backend for c in failed)} did not reproduce the golden vectors "
            f"({worst.backend}: {where}).",
            "this device does not compute what was exported and gated: check the interpreter "
            "version against the conformance table, or copy the model again.",
        )
