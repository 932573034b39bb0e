"""Bench reports for people: a plain-text table (logs, boards without rich) and a latency plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path
from ..cliopts import require_plotting  # noqa: F401  (the bench package exports it)
from ..textfmt import align
from .errors import BenchError
from .report import BenchReport


def plot_latencies(report: BenchReport, target: Path) -> None:
    """Write a PNG with one box plot of call latencies per model (matplotlib, Agg backend)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise BenchError(
            "--plot needs matplotlib, which is not installed.", "pip install matplotlib"
        ) from None
    groups: dict[tuple[str, str], list[tuple[str, np.ndarray]]] = {}
    for (name, backend, batch, mode), samples in report.samples.items():
        groups.setdefault((name, backend), []).append((f"b{batch}\n{mode}", samples))
    if not groups:
        raise BenchError("there are no timings to plot.")
    fig = Figure(figsize=(max(6.0, 1.1 * max(len(g) for g in groups.values())), 3.2 * len(groups)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(groups), 1, squeeze=False)[:, 0]
    for ax, ((name, backend), series) in zip(axes, groups.items(), strict=True):
        ax.boxplot([s for _l, s in series], showfliers=True, whis=(1, 99))
        ax.set_xticks(range(1, len(series) + 1), [label for label, _s in series], fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("µs per call")
        ax.set_title(f"{name} ({backend}): whiskers p1–p99", fontsize=10)
        ax.grid(True, axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    with atomic_path(Path(target), suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=110)


def format_table(report: BenchReport | dict[str, Any]) -> str:
    """A plain-text latency table (for logs and devices without rich)."""
    data = report.data if isinstance(report, BenchReport) else report
    head = (
        "model",
        "backend",
        "batch",
        "mode",
        "p50 µs",
        "p90 µs",
        "p99 µs",
        "µs/img",
        "img/s",
        "vs raw",
    )
    rows = [head]
    for m in data["models"]:
        for r in m["results"]:
            s = r["latency_us"]
            rows.append(
                (
                    m["name"],
                    m["backend"],
                    str(r["batch"]),
                    r["mode"],
                    f"{s['p50']:.1f}",
                    f"{s['p90']:.1f}",
                    f"{s['p99']:.1f}",
                    f"{r['per_image_us']:.2f}",
                    f"{r['throughput_ips']:,.0f}" if r["throughput_ips"] else "-",
                    f"{r['overhead_vs_raw']:.2f}×" if r["overhead_vs_raw"] else "",
                )
            )
    return "\n".join(align(rows, right=frozenset(range(4, len(head)))))
