"""The fleet table and gate for people: plain text (logs, boards without rich) and a bar chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..atomic import atomic_path
from ..textfmt import align
from .fleet import BoardVerdict


def _board_cell(row: dict[str, Any]) -> str:
    b = row["board"]
    what = b["model"] or f"{b['cpu']} {b['machine']}"
    return f"{row['board_id']} ({what}; Python {b['python']})"


def format_fleet(doc: dict[str, Any]) -> str:
    """One block per model × batch × mode; the fastest board and backend first, marked ★."""
    head = ("", "board", "backend", "p50 µs", "p99 µs", "img/s", "peak RSS", "flags")
    lines: list[str] = []
    group: tuple[Any, ...] | None = None
    rows: list[tuple[str, ...]] = []

    def flush() -> None:
        if rows:
            lines.extend(align([head, *rows], right=frozenset({3, 4, 5, 6})))
            rows.clear()

    for r in doc["rows"]:
        key = (r["model"], r["batch"], r["mode"])
        if key != group:
            flush()
            lines.append(
                f"{'' if group is None else chr(10)}{r['model']}, batch {r['batch']} ({r['mode']}):"
            )
            group = key
        rss = r["peak_rss_bytes"]
        rows.append(
            (
                "★" if r["fastest"] else "",
                _board_cell(r),
                f"{r['backend']} {r['backend_version']}",
                f"{r['p50_us']:.1f}",
                f"{r['p99_us']:.1f}",
                f"{r['images_per_s']:,.0f}" if r["images_per_s"] else "-",
                f"{rss / 2**20:.0f} MiB" if rss else "-",
                ", ".join(r["flags"]) or "",
            )
        )
    flush()
    boards = doc["boards"]
    lines.append(
        f"\n{len(boards)} board{'s' if len(boards) != 1 else ''} ({', '.join(boards)}), "
        f"{len(doc['reports'])} reports; ★ fastest board (and backend) for that model and batch."
    )
    return "\n".join(lines)


def format_gate(verdicts: list[BoardVerdict], max_regression_pct: float) -> str:
    """One line per board: how many series matched, regressed, improved."""
    lines = [f"p50 per board against its baseline; a regression is over {max_regression_pct:g}%:"]
    for v in verdicts:
        changes = v.diff.changes
        matched = [c for c in changes if c.change_pct is not None]
        bad = v.diff.regressions
        worst = max((c.change_pct for c in matched if c.change_pct is not None), default=0.0)
        verdict = "REGRESSED" if bad else "ok"
        lines.append(
            f"  {v.board_id}: {verdict}: {len(matched)} series, {len(bad)} regressed, "
            f"worst {worst:+.1f}% ({v.report} vs {v.baseline})"
        )
        lines.extend(f"    note: {n}" for n in v.diff.notes)
    return "\n".join(lines)


def plot_fleet(doc: dict[str, Any], target: Path) -> None:
    """A PNG: p50 latency per board and backend, one panel per model × batch × mode."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in doc["rows"]:
        groups.setdefault((r["model"], r["batch"], r["mode"]), []).append(r)
    fig = Figure(figsize=(7.0, 0.6 + 1.6 * max(1, len(groups))))
    FigureCanvasAgg(fig)
    axes = fig.subplots(max(1, len(groups)), 1, squeeze=False)[:, 0]
    for ax, ((model, batch, mode), rows) in zip(axes, groups.items(), strict=False):
        ax.barh(
            [f"{r['board_id']} ({r['backend']})" for r in rows],
            [r["p50_us"] for r in rows],
            color=["tab:green" if r["fastest"] else "tab:gray" for r in rows],
        )
        ax.invert_yaxis()
        ax.set_xlabel("p50 µs per call")
        ax.set_title(f"{model}, batch {batch}, {mode}", fontsize=9)
        ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    with atomic_path(Path(target), suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
