"""Plain-text formatting shared by every command line and report: aligned columns, byte sizes
and confidences, one way each (standard library only, so a copied runtime/ folder has them)."""

from __future__ import annotations

from collections.abc import Sequence


def align(
    rows: Sequence[Sequence[str]], right: frozenset[int] = frozenset(), sep: str = "  "
) -> list[str]:
    """Rows of cells as aligned lines: columns in ``right`` are right-justified, the others
    left-justified; trailing spaces are dropped (so the last column is never padded)."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        sep.join(
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def size(n: int | None) -> str:
    """A byte count for people: "334.1 KiB" below one MiB, else "1.25 MiB" ("-" if unknown)."""
    if n is None:
        return "-"
    return f"{n / 1024:.1f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.2f} MiB"


def confidence(p: float | None) -> str:
    """A softmax probability as every command prints it: a percentage with one decimal
    ("99.6%"); "-" when there is none."""
    return "-" if p is None else f"{100 * p:.1f}%"
