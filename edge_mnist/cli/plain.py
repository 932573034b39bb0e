"""Plain-text output for the device commands (predict, info): aligned columns, no rich.

A board runs ``edge-mnist predict`` from shell loops; rich's import alone would be a tenth of
each start here. Plain lines also read well in ``grep`` and ``awk``: one input per line, fields
separated by two or more spaces.
"""

from __future__ import annotations

import sys
from typing import Any

from edge_mnist.runtime.textfmt import align, confidence


def emit(text: str) -> None:
    """Print ``text`` on stdout. A character the terminal's encoding lacks (a file name that is
    not valid UTF-8, a C locale) is shown as a backslash escape instead of failing."""
    encoding = sys.stdout.encoding or "utf-8"
    sys.stdout.write(text.encode(encoding, "backslashreplace").decode(encoding) + "\n")


def predictions(title: str, items: list[Any]) -> str:
    """'predict': a title line, then input, digit, confidence and top 3 per input, with a label
    column when the inputs are labelled (digit folders, IDX labels)."""
    labelled = any(item.label is not None for item in items)
    rows = [["input", "digit", *(["label"] if labelled else []), "confidence", "top 3"]]
    for item in items:
        label = ["-" if item.label is None else str(item.label)] if labelled else []
        if item.error:
            rows.append([item.source, "-", *label, "-", "error"])
        else:
            top = "  ".join(f"{d}:{confidence(p)}" for d, p in item.top3)
            # An uncertain answer (the image may not be one digit) shows "?"; top 3 has the guess.
            digit = "?" if getattr(item, "uncertain", False) else str(item.digit)
            rows.append([item.source, digit, *label, confidence(item.confidence), top])
    right = frozenset({1, 2, 3} if labelled else {1, 2})
    doubts = [f"?  {item.source}: {item.reason}" for item in items if getattr(item, "reason", None)]
    return "\n".join([title, *align(rows, right=right), *doubts])


def model_facts(title: str, facts: dict[str, Any]) -> str:
    """'info': format, backend, tensors, size, sha256 and the manifest entry, a field a line."""
    rows = [
        ["format", facts["format"]],
        ["backend", f"{facts['backend']} {facts['backend_version']}"],
    ]
    for side in ("input", "output"):
        t = facts[side]
        quant = (
            f", scale {t['scale']:.6g}, zero point {t['zero_point']}"
            if t["scale"] is not None
            else ""
        )
        rows.append([side, f"{t['name']}: {t['dtype']} {tuple(t['shape'])}{quant}"])
    rows.append(["size", f"{facts['size_bytes']:,} bytes"])
    rows.append(["sha256", facts["sha256"]])
    entry = facts["manifest"]
    if entry is None:
        problem = facts.get("manifest_problem")
        rows.append(["manifest", problem or "none beside the model"])
    else:
        ok = "matches" if facts.get("matches_manifest") else "DOES NOT MATCH"
        accuracy = entry.get("test_accuracy")
        scored = f", test accuracy {accuracy:.2%}" if isinstance(accuracy, float) else ""
        precision, fmt = entry.get("precision", "?"), entry.get("format", "?")
        rows.append(["manifest", f"{precision} {fmt}{scored}, sha256 {ok}"])
    return "\n".join([title, *align(rows)])
