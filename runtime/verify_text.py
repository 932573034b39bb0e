"""verify's report as text of at most 80 columns (the checks themselves: verify.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .verify import VerifyReport

WIDTH = 80


def report_lines(report: VerifyReport) -> list[str]:
    """The report as text that fits 80 columns."""
    import textwrap

    from .textfmt import align

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
