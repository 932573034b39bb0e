"""The 'edge-mnist bench' commands: time models on this device, and diff two bench reports.

Device side: the runtime's benchmark is imported when a command runs; only --keras reaches for
TensorFlow and the host's Keras loader, and only when it is given.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from edge_mnist.runtime.bench.options import DIFF_OPTIONS, GATE_OPTIONS, RUN_OPTIONS, TABLE_OPTIONS

from .app import Group, app, console, err
from .specs import spec_options

if TYPE_CHECKING:
    import numpy as np

    from edge_mnist.runtime.bench import ExternalModel

HELP = (
    "Time models on this device: our runtime against the raw interpreter loop.\n\n"
    "Two forms:\n\n"
    "edge-mnist bench MODEL... [OPTIONS] (short for 'bench run'): for each "
    "model × backend × batch size, the load time, first inference, latency percentiles, "
    "throughput, file size, memory and our runtime's overhead over the bare interpreter; "
    "see 'bench run --help'.\n\n"
    "edge-mnist bench diff OLD.json NEW.json [--max-regression 10%]: a table of "
    "p50 changes between two 'bench --json' reports; exits 1 when any p50 regressed beyond "
    "the threshold.\n\n"
    "edge-mnist bench table REPORTS... [--json FILE] [--plot FILE]: a fleet's reports side by "
    "side, one row per board × model × backend × batch, the fastest board marked.\n\n"
    "edge-mnist bench gate --baselines DIR REPORTS... [--max-regression 10%]: each report "
    "against DIR/BOARD_ID.json (bench --board NAME); exits 1 on a regression, 2 when a board "
    "has no baseline."
)


class _DefaultRun(Group):
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
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _keras_model(path: Path) -> ExternalModel:
    """The float Keras model, timed through model.predict and model(x, training=False)."""
    import numpy as np

    from edge_mnist.runtime.bench import BenchError, ExternalModel, ExternalRunner

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


@bench_app.command("run")
@spec_options(RUN_OPTIONS)
def run(
    options: dict[str, Any],
    models: Annotated[
        list[Path], typer.Argument(help=".tflite and .onnx files to time.", show_default=False)
    ],
    keras: Annotated[
        Path | None,
        typer.Option(
            "--keras",
            help="Also time this float Keras model's predict() and model(x) (needs TensorFlow).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Time each model × backend × batch: runtime vs raw interpreter, load, memory, accuracy."""
    from edge_mnist.runtime.bench import load_test_images, run_bench
    from edge_mnist.runtime.bench.options import bench_config, json_to_stdout, write_outputs

    config = bench_config(options)
    external = [_keras_model(keras)] if keras is not None else []
    data = load_test_images(
        options["images"],
        options["labels"],
        options["data_dir"],
        need_labels=bool(options["accuracy"]),
    )
    report = run_bench(
        models,
        config,
        data,
        external,
        progress=None
        if options["quiet"]
        else lambda msg: err.print(msg, highlight=False, markup=False),
        board=options["board"],
    )
    if not json_to_stdout(options):
        _print_report(report.data)
    for written in write_outputs(report, options):
        console.print(f"Wrote {written}.", highlight=False, markup=False)


def _print_report(data: dict[str, Any]) -> None:
    from .render import bench_model_table, environment_line

    settings = data["settings"]
    how = f"{settings['runs']} calls" if settings["runs"] else f"~{settings['seconds']:g} s"
    source = "MNIST test" if data["input"]["source"] != "random" else "random"
    console.print(environment_line(data["environment"]), highlight=False, markup=False)
    console.print(
        f"Latency per call in µs: {how} per series after {settings['warmup']} warm-up calls, "
        f"{source} images as {' and '.join(settings.get('pixels') or ['uint8'])}. µs/img: p50 / batch; img/s: batch / mean; vs raw: runtime "
        "p50 / raw interpreter p50.",
        highlight=False,
        markup=False,
    )
    for m in data["models"]:
        console.print(bench_model_table(m))


OldReport = Annotated[
    Path, typer.Argument(help="The earlier 'bench --json' report.", show_default=False)
]
NewReport = Annotated[Path, typer.Argument(help="The later report.", show_default=False)]


@bench_app.command("diff")
@spec_options(DIFF_OPTIONS)
def diff(options: dict[str, Any], old: OldReport, new: NewReport) -> None:
    """Diff two bench reports; exit 1 when a matching p50 latency regressed too much."""
    from edge_mnist.runtime.bench import diff_reports, read_report
    from edge_mnist.runtime.bench.options import threshold as max_regression

    from .render import bench_diff_tables

    threshold = max_regression(options)
    comparison = diff_reports(read_report(old), read_report(new), threshold)
    console.print(
        f"p50 latency per call: {old} → {new}; a regression is a slow-down of more than "
        f"{threshold:g}%.",
        highlight=False,
        markup=False,
    )
    for table in bench_diff_tables(comparison):
        console.print(table)
    for note in comparison.notes:
        err.print(f"note: {note}", highlight=False, soft_wrap=True, markup=False)
    matched = [c for c in comparison.changes if c.change_pct is not None]
    if not matched:
        err.print("note: the two reports have no series in common.", highlight=False)
    comparison.raise_on_regression()
    console.print(
        f"[green]No regression[/]: {len(matched)} matching series within {threshold:g}%.",
        highlight=False,
    )


Reports = Annotated[
    list[Path], typer.Argument(help="'bench --json' reports, one per board.", show_default=False)
]


def _say(text: str) -> None:
    console.print(text, highlight=False, markup=False, soft_wrap=True)


@bench_app.command("table")
@spec_options(TABLE_OPTIONS)
def table(options: dict[str, Any], reports: Reports) -> None:
    """A fleet's reports side by side: p50, p99, img/s, peak RSS per board; the fastest marked."""
    from edge_mnist.runtime.bench.fleet_cli import table_command

    table_command(reports, options, _say)


@bench_app.command("gate")
@spec_options(GATE_OPTIONS)
def gate(options: dict[str, Any], reports: Reports) -> None:
    """Each report against its board's baseline: exit 1 naming what regressed, 2 naming a board
    without a baseline (and the command that records one)."""
    from edge_mnist.runtime.bench.fleet_cli import gate_command

    gate_command(reports, options, _say)


app.add_typer(bench_app, name="bench")
