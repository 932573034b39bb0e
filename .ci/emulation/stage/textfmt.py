"""Plain-text tables for the terminal: the stage's one column alignment."""

from __future__ import annotations

from collections.abc import Sequence


def align(head: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns two spaces apart, a dashed rule under the head, no trailing blanks."""
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    rule = ["-" * w for w in widths]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in [head, rule, *body]
    ]
