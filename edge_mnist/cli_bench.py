"""The 'edge-mnist bench' commands: time models on this device, and compare two bench reports."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich import box
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from edge_mnist.runtime.bench import (
    DEFAULT_WARMUP,
    BenchConfig,
    ExternalModel,
    ExternalRunner,
    load_test_images,
    parse_batches,
    parse_percent,
    run_bench,
)
from edge_mnist.runtime.bench_report import (
    BenchReport,
    Comparison,
    check_plot_available,
    compare_reports,
    plot_latencies,
    read_report,
    write_report,
)
from edge_mnist.runtime.errors import BenchError

console = Console()
err = Console(stderr=True)
# The goal: our runtime's p50 within this factor of the raw interpreter loop.
TARGET = 1.3

HELP = (
    "Time models on this device: our runtime against the raw interpreter loop.\n\n"
    "Two forms:\n\n"
    "[bold]edge-mnist bench MODEL... \\[OPTIONS][/] (short for [bold]bench run[/]): for each "
    "model × backend × batch size, the load time, first inference, latency percentiles, "
    "throughput, file size, memory and our runtime's overhead over the bare interpreter; "
    "see 'bench run --help'.\n\n"
    "[bold]edge-mnist bench compare OLD.json NEW.json \\[--max-regression 10%][/]: a table of "
    "p50 changes between two 'bench --json' reports; exits 1 when any p50 regressed beyond "
    "the threshold."
)


class _DefaultRun(TyperGroup):
    """Routes 'bench MODEL...' to 'bench run MODEL...' when the first word is no subcommand."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["run", *args]
        return super().parse_args(ctx, args)


bench_app = typer.Typer(
    cls=_DefaultRun,
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _keras_model(path: Path) -> ExternalModel:
    """The float Keras model, timed through model.predict and model(x, training=False)."""
    if importlib.util.find_spec("tensorflow") is None:
        raise BenchError(
            "--keras needs TensorFlow, which is not installed here.",
            "run it on the host (pip install 'edge-mnist[train]'), or drop --keras.",
        )
    if not path.is_file():
        raise BenchError(
            f"{path}: no such Keras model.", "pass a .keras file written by 'edge-mnist train'."
        )

    def setup() -> str:
        from edge_mnist.tf import import_tf

        return str(import_tf().__version__)

    def load(model_path: Path) -> ExternalRunner:
        from edge_mnist.evaluate import load_keras
        from edge_mnist.tf import import_tf

        tf = import_tf()
        model = load_keras(model_path)

        def predict(x: Any) -> Any:
            return model.predict(x, batch_size=len(x), verbose=0)

        def call(x: Any) -> Any:
            return model(x, training=False).numpy()

        def prepare(images: np.ndarray) -> Any:
            # The float model's own input: pixels / 255 as float32, already a tensor for calls.
            return tf.constant(images.astype(np.float32) / np.float32(255.0))

        return ExternalRunner(prepare, {"keras.predict": predict, "keras.call": call})

    return ExternalModel(path=path, format="keras", backend="tensorflow", setup=setup, load=load)


def _us(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:.1f}"


def _bytes(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n / 1024:.0f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.1f} MiB"


def _env_line(env: dict[str, Any]) -> str:
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
        _bytes(m["size_bytes"]),
        load,
        f"first call {_us(m['first_inference_us'])} µs (batch {m['first_inference_batch']})",
        f"RSS +{_bytes(m['rss_increase_bytes'])} on load, peak {_bytes(m['peak_rss_bytes'])}",
    ]
    acc = m["accuracy"]
    if acc is not None:
        parts.append(f"accuracy {acc['accuracy']:.2%} on {acc['images']:,} images")
    return ", ".join(parts)


def _model_table(m: dict[str, Any]) -> Table:
    """One model's latencies per call in µs, one row per batch size and mode."""
    table = Table(
        title=f"[bold]{m['name']}[/]: {_model_line(m)}",
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
            r["mode"],
            _us(s["p50"]),
            _us(s["p90"]),
            _us(s["p99"]),
            _us(s["max"]),
            f"{r['per_image_us']:.2f}" if r["per_image_us"] < 100 else _us(r["per_image_us"]),
            f"{r['throughput_ips']:,.0f}" if r["throughput_ips"] else "-",
        ]
        if with_raw:
            color = "green" if ratio is not None and ratio <= TARGET else "yellow"
            cells.append("" if ratio is None else f"[{color}]{ratio:.2f}×[/]")
        table.add_row(*cells)
    return table


def _print_report(report: BenchReport) -> None:
    data = report.data
    settings = data["settings"]
    how = f"{settings['runs']} calls" if settings["runs"] else f"~{settings['seconds']:g} s"
    source = "MNIST test" if data["input"]["source"] != "random" else "random"
    console.print(_env_line(data["environment"]), highlight=False)
    console.print(
        f"Latency per call in µs: {how} per series after {settings['warmup']} warm-up calls, "
        f"{source} uint8 images. µs/img: p50 / batch; img/s: batch / mean; vs raw: runtime "
        "p50 / raw interpreter p50.",
        highlight=False,
    )
    for m in data["models"]:
        console.print(_model_table(m))


def _compare_tables(comparison: Comparison) -> list[Table]:
    """One table per model and backend: p50 in both reports, the change and the verdict."""
    style = {"regressed": "[red]regressed[/]", "improved": "[green]improved[/]", "same": "same"}
    tables: dict[tuple[str, str], Table] = {}
    for c in comparison.changes:
        table = tables.get((c.model, c.backend))
        if table is None:
            table = Table(
                title=f"[bold]{c.model}[/] ({c.backend})",
                title_justify="left",
                box=box.SIMPLE_HEAD,
                pad_edge=False,
            )
            for col in ("batch", "mode", "old p50 µs", "new p50 µs", "change", "verdict"):
                table.add_column(col, justify="left" if col in ("mode", "verdict") else "right")
            tables[(c.model, c.backend)] = table
        table.add_row(
            str(c.batch),
            c.mode,
            "-" if c.old_p50_us is None else _us(c.old_p50_us),
            "-" if c.new_p50_us is None else _us(c.new_p50_us),
            "-" if c.change_pct is None else f"{c.change_pct:+.1f}%",
            style.get(c.status, f"[dim]{c.status}[/]"),
        )
    return list(tables.values())


@bench_app.command("run")
def run(
    models: Annotated[
        list[Path], typer.Argument(help=".tflite and .onnx files to time.", show_default=False)
    ],
    backend: Annotated[
        list[str] | None,
        typer.Option(
            "--backend",
            "-b",
            help="Interpreter: litert, tflite-runtime, tensorflow or onnxruntime; repeat to time "
            "several on each model. Default: the runtime's choice per model.",
            show_default=False,
        ),
    ] = None,
    batch: Annotated[str, typer.Option("--batch", help="Batch sizes, comma-separated.")] = "1,8,64",
    threads: Annotated[
        int | None, typer.Option(help="Interpreter threads (default: its own).", show_default=False)
    ] = None,
    warmup: Annotated[
        int, typer.Option(help="Untimed calls before each timed series.")
    ] = DEFAULT_WARMUP,
    runs: Annotated[
        int | None, typer.Option(help="Timed calls per series (default 200).", show_default=False)
    ] = None,
    seconds: Annotated[
        float | None,
        typer.Option(
            help="Time each series for about this long instead of --runs.", show_default=False
        ),
    ] = None,
    accuracy: Annotated[
        int | None,
        typer.Option(
            help="Also measure accuracy on this many MNIST test images.", show_default=False
        ),
    ] = None,
    images: Annotated[
        Path | None,
        typer.Option(help="MNIST test images (t10k-images-idx3-ubyte[.gz]).", show_default=False),
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(help="MNIST test labels (t10k-labels-idx1-ubyte[.gz]).", show_default=False),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Folder with the MNIST test files. Default: $EDGE_MNIST_DATA. Without any, "
            "timing uses random uint8 images.",
            show_default=False,
        ),
    ] = None,
    keras: Annotated[
        Path | None,
        typer.Option(
            "--keras",
            help="Also time this float Keras model's predict() and model(x) (needs TensorFlow).",
            show_default=False,
        ),
    ] = None,
    json_file: Annotated[
        Path | None,
        typer.Option("--json", help="Write the full report as JSON here.", show_default=False),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="Write a PNG of the latency distributions (matplotlib).",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress lines on stderr.")
    ] = False,
) -> None:
    """Time each model × backend × batch: runtime vs raw interpreter, load, memory, accuracy."""
    config = BenchConfig(
        batches=parse_batches(batch),
        backends=tuple(backend or ()),
        threads=threads,
        warmup=warmup,
        runs=runs,
        seconds=seconds,
        accuracy=accuracy,
    )
    config.check()
    if plot is not None:
        check_plot_available()
    external = [_keras_model(keras)] if keras is not None else []
    data = load_test_images(images, labels, data_dir, need_labels=bool(accuracy))
    report = run_bench(
        models,
        config,
        data,
        external,
        progress=None if quiet else lambda msg: err.print(msg, highlight=False),
    )
    _print_report(report)
    if json_file is not None:
        write_report(report, json_file)
        console.print(f"Wrote {json_file}.", highlight=False)
    if plot is not None:
        plot_latencies(report, plot)
        console.print(f"Wrote {plot}.", highlight=False)


@bench_app.command("compare")
def compare(
    old: Annotated[
        Path, typer.Argument(help="The earlier 'bench --json' report.", show_default=False)
    ],
    new: Annotated[Path, typer.Argument(help="The later report.", show_default=False)],
    max_regression: Annotated[
        str, typer.Option("--max-regression", help="Allowed p50 slow-down, e.g. 10% or 10.")
    ] = "10%",
) -> None:
    """Compare two bench reports; exit 1 when a matching p50 latency regressed too much."""
    threshold = parse_percent(max_regression)
    comparison = compare_reports(read_report(old), read_report(new), threshold)
    console.print(
        f"p50 latency per call: {old} → {new}; a regression is a slow-down of more than "
        f"{threshold:g}%.",
        highlight=False,
    )
    for table in _compare_tables(comparison):
        console.print(table)
    for note in comparison.notes:
        err.print(f"note: {note}", highlight=False, soft_wrap=True)
    matched = [c for c in comparison.changes if c.change_pct is not None]
    if not matched:
        err.print("note: the two reports have no series in common.", highlight=False)
    comparison.check()
    console.print(
        f"[green]No regression[/]: {len(matched)} matching series within {threshold:g}%.",
        highlight=False,
    )
