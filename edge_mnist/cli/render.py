"""Rich tables for the commands' results: one function per table, no logic beyond layout."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.markup import escape
from rich.table import Table

from edge_mnist.runtime.artifacts import FLOAT32, model_file
from edge_mnist.runtime.textfmt import size

# Our runtime's p50 within this factor of the raw interpreter loop is shown green.
OVERHEAD_TARGET = 1.3


def selection_table(rows: list[dict[str, Any]]) -> Table:
    """'compare': accuracy per split and model, the best by validation starred (a model is
    named by its architecture and the recipe values the grid varies, e.g. "mlp-32-seed2")."""
    from edge_mnist.compare import run_name, varied_fields

    varied = varied_fields(rows)
    table = Table(title="Model selection: accuracy per split, best by validation *")
    for col in ("arch", "params", "epochs", "train", "valid", "test", "time"):
        table.add_column(col, justify="left" if col == "arch" else "right", no_wrap=True)
    for r in rows:
        table.add_row(
            f"{run_name(r, varied)}{' *' if r['best'] else ''}",
            f"{r['parameters']:,}",
            str(r["epochs_run"]),
            f"{r['train_accuracy']:.2%}",
            f"{r['validation_accuracy']:.2%}",
            f"{r['test_accuracy']:.2%}",
            f"{r['train_seconds']:.1f}s",
        )
    return table


def artifact_table(manifest: dict[str, Any], names: list[str] | None = None) -> Table:
    """'export': each exported file's size, accuracy and agreement with the Keras model."""
    float_acc = manifest["source_model"]["test_accuracy"]
    entries = manifest["artifacts"]
    table = Table(title=f"Exported models (Keras float model: {float_acc:.2%} test accuracy)")
    table.add_column("artifact", no_wrap=True)
    for col in ("size", "vs float", "test acc", "Δ float", "agree"):
        table.add_column(col, justify="right", no_wrap=True)
    for name in names or list(entries):
        e = entries[name]
        twin = entries.get(model_file(e["format"], FLOAT32))
        ratio = f"{e['size_bytes'] / twin['size_bytes']:.0%}" if twin else "-"
        table.add_row(
            escape(name),
            size(e["size_bytes"]),
            ratio,
            f"{e['test_accuracy']:.2%}",
            f"{e['delta_vs_float_pp']:+.2f} pp",
            f"{e['agreement']['top1_agreement']:.1%}",
        )
    return table


def gate_table(report: Any) -> Table:
    """'check': each artifact's accuracy, drop, sha256 verdict and pass or fail."""
    table = Table(
        title=f"Accuracy gate: float model {report.float_accuracy:.2%}, max drop {report.max_drop_pp} pp"
    )
    table.add_column("artifact", no_wrap=True)
    for col in ("test acc", "drop", "sha256", "verdict"):
        table.add_column(col, justify="left" if col == "verdict" else "right")
    for a in report.artifacts:
        table.add_row(
            escape(a.name),
            "-" if a.accuracy is None else f"{a.accuracy:.2%}",
            "-" if a.drop_pp is None else f"{a.drop_pp:+.2f} pp",
            "ok" if a.sha256_ok else "MISMATCH",
            "[green]pass[/]" if a.passed else "[red]FAIL[/]",
        )
    notes = [f"{a.name}: {a.note}." for a in report.artifacts if a.note]
    if notes:
        machine = report.artifacts[0].machine
        table.caption = escape(f"Measured on {machine}. " + " ".join(notes))
    return table


def _us(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:.1f}"


def environment_line(env: dict[str, Any]) -> str:
    """'bench': the machine in one line (CPU, governor, temperature, versions, threads)."""
    parts = [env["cpu_model"], env["machine"], f"{env['cores']} cores"]
    if env.get("board"):
        parts.insert(0, env["board"])
    if env.get("governor"):
        parts.append(f"governor {env['governor']}")
    if env.get("temperature_c") is not None:
        parts.append(f"{env['temperature_c']:.0f}→{env.get('temperature_end_c') or 0:.0f} °C")
    if env.get("throttled"):
        parts.append(f"throttled {env['throttled']}")
    versions = ", ".join(f"{k} {v}" for k, v in env["packages"].items())
    threads = env["threads"]["requested"]
    parts.append(f"Python {env['python']}, {versions}, threads {threads or 'default'}")
    return "; ".join(str(p) for p in parts)


def _model_line(m: dict[str, Any]) -> str:
    load = f"load {m['load_ms']:.1f} ms"
    if m["setup_ms"] >= 1:
        load += f" (+{m['setup_ms']:,.0f} ms import)"
    parts = [
        f"{m['backend']} {m['backend_version']}",
        size(m["size_bytes"]),
        load,
        f"first call {_us(m['first_inference_us'])} µs (batch {m['first_inference_batch']})",
        f"RSS +{size(m['rss_increase_bytes'])} on load, peak {size(m['peak_rss_bytes'])}",
    ]
    acc = m["accuracy"]
    if acc is not None:
        parts.append(f"accuracy {acc['accuracy']:.2%} on {acc['images']:,} images")
    return ", ".join(parts)


def bench_model_table(m: dict[str, Any]) -> Table:
    """'bench': one model's latencies per call in µs, one row per batch size and mode."""
    table = Table(
        title=f"[bold]{escape(m['name'])}[/]: {escape(_model_line(m))}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    with_raw = any(r["overhead_vs_raw"] is not None for r in m["results"])
    columns = ["batch", "mode", "p50", "p90", "p99", "max", "µs/img", "img/s"]
    for col in [*columns, "vs raw"] if with_raw else columns:
        table.add_column(col, justify="left" if col == "mode" else "right", no_wrap=True)
    for r in m["results"]:
        s = r["latency_us"]
        ratio = r["overhead_vs_raw"]
        cells = [
            str(r["batch"]),
            escape(r["mode"]),
            _us(s["p50"]),
            _us(s["p90"]),
            _us(s["p99"]),
            _us(s["max"]),
            f"{r['per_image_us']:.2f}" if r["per_image_us"] < 100 else _us(r["per_image_us"]),
            f"{r['throughput_ips']:,.0f}" if r["throughput_ips"] else "-",
        ]
        if with_raw:
            color = "green" if ratio is not None and ratio <= OVERHEAD_TARGET else "yellow"
            cells.append("" if ratio is None else f"[{color}]{ratio:.2f}×[/]")
        table.add_row(*cells)
    return table


def bench_diff_tables(comparison: Any) -> list[Table]:
    """'bench diff': one table per model and backend with p50 in both reports and the verdict."""
    style = {"regressed": "[red]regressed[/]", "improved": "[green]improved[/]", "same": "same"}
    tables: dict[tuple[str, str], Table] = {}
    for c in comparison.changes:
        table = tables.get((c.model, c.backend))
        if table is None:
            table = Table(
                title=f"[bold]{escape(c.model)}[/] ({escape(c.backend)})",
                title_justify="left",
                box=box.SIMPLE_HEAD,
                pad_edge=False,
            )
            for col in ("batch", "mode", "old p50 µs", "new p50 µs", "change", "verdict"):
                table.add_column(col, justify="left" if col in ("mode", "verdict") else "right")
            tables[(c.model, c.backend)] = table
        table.add_row(
            str(c.batch),
            escape(c.mode),
            "-" if c.old_p50_us is None else _us(c.old_p50_us),
            "-" if c.new_p50_us is None else _us(c.new_p50_us),
            "-" if c.change_pct is None else f"{c.change_pct:+.1f}%",
            style.get(c.status, f"[dim]{c.status}[/]"),
        )
    return list(tables.values())
