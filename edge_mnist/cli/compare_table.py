"""compare's tables: the edge Pareto table (one row per architecture), and the output of a run
or a merge of parts (the table, then --json and --plot). Loaded only when compare runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from edge_mnist.runtime.cliopts import is_stdout
from edge_mnist.runtime.textfmt import size

from .app import console, err, write_json_out


def pareto_table(rows: list[dict[str, Any]], basis: str) -> Table:
    """One row per model (architecture, and the recipe values the grid varies); ◆ marks the
    Pareto front."""
    from edge_mnist.compare import run_name, varied_fields

    varied = varied_fields(rows)
    backends = [b["backend"] for b in rows[0].get("bench") or []]
    table = Table(title=f"Edge Pareto table (◆ front: {basis}; best by validation *)")
    cols = ["arch", "params", "float", "int8", "drop", "size", "RSS"]
    for b in backends:
        cols += [f"{b} b1 p50", f"{b} b64"]
    cols.append("train")
    for col in cols:
        table.add_column(col, justify="left" if col == "arch" else "right", no_wrap=True)
    for r in rows:
        bench = {b["backend"]: b for b in r.get("bench") or []}
        rss = [b["rss_at_load_bytes"] for b in bench.values() if b["rss_at_load_bytes"]]
        cells = [
            f"{run_name(r, varied)}{' ◆' if r.get('pareto') else ''}{' *' if r['best'] else ''}",
            f"{r['parameters']:,}",
            f"{r['test_accuracy']:.2%}",
            f"{r['int8_accuracy']:.2%}" if r.get("int8_accuracy") is not None else "-",
            f"{-r['int8_drop_pp']:+.2f} pp" if r.get("int8_drop_pp") is not None else "-",
            size(r["int8_size_bytes"]) if r.get("int8_size_bytes") else "-",
            f"{min(rss) / 2**20:.0f} MiB" if rss else "-",
        ]
        for b in backends:
            figures = bench.get(b)
            cells += (
                [f"{figures['p50_us_batch1']:.1f} µs", f"{figures['images_per_s_batch64']:,.0f}/s"]
                if figures
                else ["-", "-"]
            )
        cells.append(f"{r['train_seconds']:.0f}s")
        table.add_row(*cells)
    return table


def show(doc: dict[str, Any], json_file: Path | None, plot: Path | None) -> None:
    """The table on stdout (stderr with --json -), then --json and --plot."""
    from edge_mnist.runtime.jsonfile import write_json

    from .render import selection_table

    rows = doc["rows"]
    edge = rows and rows[0].get("int8_accuracy") is not None
    table = pareto_table(rows, doc["pareto_basis"]) if edge else selection_table(rows)
    (err if is_stdout(json_file) else console).print(table)
    if is_stdout(json_file):
        write_json_out(json_file, doc)
    elif json_file:
        write_json(json_file, doc)
    if plot is not None:
        from edge_mnist.compare_plot import plot_pareto

        plot_pareto(rows, plot)
        err.print(f"wrote {plot}", highlight=False, markup=False)
