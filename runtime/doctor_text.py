"""doctor's report as text of at most 80 columns (the report itself: doctor.py)."""

from __future__ import annotations

from typing import Any

from .textfmt import align

VERIFY_NOTE = "verify: the model carries no golden vectors (export it again to embed them)"
WIDTH = 80


def _status(e: dict[str, Any]) -> str:
    if e["usable"]:
        return "ok"
    if e["installed"]:
        return "cannot run"
    return "not installed" if e["wheel_here"] else "no wheel here"


def _check_text(e: dict[str, Any]) -> str:
    check = e["check"]
    if check is None:
        return "-"
    if not check["ok"]:
        return "failed (below)"
    return f"{check['load_ms']:.0f} ms, digit {check['digit']}"


def _wrap(line: str, width: int = WIDTH) -> list[str]:
    import textwrap

    if len(line) <= width:
        return [line]
    indent = " " * (len(line) - len(line.lstrip()) + 4)
    return textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False)


def render(report: dict[str, Any]) -> str:
    """The report as text of at most 80 columns."""
    m = report["machine"]
    features = m["cpu_features"]
    if features is None:
        feature_text = "not readable here"
    else:
        have = [f for f, ok in features.items() if ok]
        lack = [f for f, ok in features.items() if not ok]
        feature_text = " ".join(have) or "none"
        feature_text += f"; lacks {' '.join(lack)}" if lack else ""
    lines = ["Machine"]
    lines += align(
        [
            [
                "  system",
                f"{m['system']} {m['architecture']}, Python {m['python']}, numpy {m['numpy']}",
            ],
            ["  os", m["os"]],
            ["  board", m["board"] or "-"],
            ["  cpu", f"{m['cpu_model']}, {m['cores']} cores"],
            ["  features", feature_text],
        ]
    )
    rows = [["  backend", "format", "status", "version", "import", "model load"]]
    for e in report["backends"]:
        ms = "-" if not e["import_ms"] else f"{e['import_ms']:.0f} ms"
        rows.append(
            [f"  {e['name']}", e["format"], _status(e), e["version"] or "-", ms, _check_text(e)]
        )
    lines += ["", "Backends", *align(rows)]
    problems = [f"  {e['name']}: {e['problem']}" for e in report["backends"] if e["problem"]]
    for e in report["backends"]:
        if e["check"] is not None and not e["check"]["ok"]:
            problems.append(f"  {e['name']} on the model: {e['check']['error']}")
    checked = [(e["name"], e["verify"]) for e in report["backends"] if e["verify"] is not None]
    if checked:
        lines += ["", "Verify (the golden vectors inside the model)"]
        for name, v in checked:
            if v["error"]:
                lines.append(f"  {name}: FAILED: {v['error']}")
                continue
            diff = f"largest difference {v['largest_difference']:g} {v['unit']}"
            where = f" (vector {v['vector']})" if v["vector"] is not None and not v["ok"] else ""
            took = f"{v['seconds'] * 1e3:.0f} ms"
            lines.append(f"  {name}: {'ok' if v['ok'] else 'FAILED'}, {diff}{where}, {took}")
    if problems:
        lines += ["", "Problems", *problems]
    can = [
        [f"  {e['name']}", e["pip"]]
        for e in report["backends"]
        if e["wheel_here"] and not e["installed"] and e["pip"]
    ]
    if can:
        lines += ["", "Could be installed here", *align(can)]
    rec = report["recommended"]
    if rec is None:
        lines += ["", "Recommended: nothing runs this format here; use the .tflite model."]
    elif rec["installed"]:
        lines += ["", f"Recommended: {rec['backend']} (installed)."]
    else:
        lines += ["", f"Recommended: {rec['backend']} ({rec['why']}): {rec['pip']}"]
    if report["model"] is not None and not report["verify_available"]:
        lines.append(VERIFY_NOTE + ".")
    return "\n".join(w for line in lines for w in _wrap(line))
