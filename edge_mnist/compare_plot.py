"""The Pareto plot of 'compare --plot': int8 accuracy against batch-1 latency, one point per
architecture, marker area proportional to the int8 file size, the front connected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge_mnist.errors import UsageError
from edge_mnist.runtime.atomic import atomic_path
from edge_mnist.runtime.cliopts import require_plotting


def check_plot_available() -> None:
    """Fail before training if --plot cannot work."""
    require_plotting()


def plot_pareto(rows: list[dict[str, Any]], target: Path, title: str = "") -> None:
    """Write a small PNG (matplotlib, Agg backend). Needs rows from 'compare --export --bench'."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    points = []
    for r in rows:
        bench = r.get("bench") or []
        if r.get("int8_accuracy") is None or not bench:
            raise UsageError(
                "--plot needs int8 accuracies and latencies.", "pass --export --bench with --plot."
            )
        best = min(bench, key=lambda b: b["p50_us_batch1"])
        points.append((best["p50_us_batch1"], r["int8_accuracy"] * 100, r, best["backend"]))
    fig = Figure(figsize=(6.4, 4.0), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    biggest = max(r["int8_size_bytes"] for _x, _y, r, _b in points)
    for x, y, r, _backend in points:
        ax.scatter(
            x,
            y,
            s=30 + 900 * r["int8_size_bytes"] / biggest,
            alpha=0.55,
            color="tab:red" if r.get("pareto") else "tab:gray",
            edgecolors="black",
            linewidths=0.5,
        )
        ax.annotate(
            f"{r['arch']}\n{r['int8_size_bytes'] / 1024:.0f} KiB",
            (x, y),
            textcoords="offset points",
            xytext=(8, -4),
            fontsize=7,
        )
    front = sorted((x, y) for x, y, r, _b in points if r.get("pareto"))
    if len(front) > 1:
        ax.plot([p[0] for p in front], [p[1] for p in front], color="tab:red", lw=1, ls="--")
    backends = sorted({b for _x, _y, _r, b in points})
    ax.set_xscale("log")
    ax.set_xlabel(f"batch-1 p50 latency, µs (fastest backend: {', '.join(backends)})")
    ax.set_ylabel("int8 test accuracy, %")
    ax.set_title(
        title or "int8 accuracy vs latency (marker area: file size; red: Pareto front)", fontsize=9
    )
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    with atomic_path(Path(target), suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
