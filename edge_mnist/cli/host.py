"""Host commands: data, train, export, check (the accuracy gate) and pipeline (compare has
its own module, compare.py).

Each command imports its host libraries (data, training, export, gate) when it runs, never at
import time: this module is imported for every command, device ones included.
"""

# No "from __future__ import annotations": training_options() copies these commands'
# signatures, and Typer needs their annotations as live objects.

from pathlib import Path
from typing import Annotated, Any

import typer

from edge_mnist.runtime.artifacts import C_FORMAT, FORMATS, KERAS_FILE, MANIFEST_FILE, TRAIN_FILE
from edge_mnist.runtime.cliopts import is_stdout

from .app import app, check_output, complete_later, console, err, write_json_out
from .consoles import escape
from .options import Backend, DataDir, JsonOut, Out, Quiet, Rounding
from .training import (
    TRAINING_OPTIONS,
    download_progress,
    epoch_printer,
    train_config,
    training_options,
)


@app.command()
def data(
    data_dir: DataDir = None,
    download: Annotated[
        bool, typer.Option(help="Download missing files from public mirrors.")
    ] = True,
    json_file: JsonOut = None,
) -> None:
    """Find (or download) and verify MNIST, and print the shapes of the split."""
    from edge_mnist.data import load_mnist

    check_output(json_file)
    mnist = load_mnist(data_dir, download=download, progress=download_progress())
    doc = {"source": mnist.source, "shapes": mnist.shapes(), "md5": mnist.checksums}
    if is_stdout(json_file):
        write_json_out(json_file, doc)
        return
    console.print(
        f"MNIST from {mnist.source}: all four files verified (MD5).", highlight=False, markup=False
    )
    for name, shape in mnist.shapes().items():
        console.print(f"{name:8} {shape}", highlight=False)
    if write_json_out(json_file, doc):
        console.print(f"Wrote {json_file}.", highlight=False, markup=False)


@app.command()
@training_options(*TRAINING_OPTIONS)
def train(
    training: dict[str, Any],
    out: Out = Path("artifacts"),
    data_dir: DataDir = None,
    quiet: Quiet = False,
    force: Annotated[bool, typer.Option(help="Overwrite an existing model in --out.")] = False,
    json_file: JsonOut = None,
) -> None:
    """Train an MLP with early stopping on validation loss; write model.keras and train.json."""
    from edge_mnist.data import load_mnist
    from edge_mnist.train import train as run_train

    config = train_config(training)
    check_output(json_file)
    to_stdout = is_stdout(json_file)
    mnist = load_mnist(data_dir, progress=download_progress())
    record = run_train(
        config, mnist, out, force=force, on_epoch=epoch_printer(quiet or to_stdout)
    ).record
    if to_stdout:
        write_json_out(json_file, record)
        return
    m = record["metrics"]
    console.print(
        f"{record['arch']}: {record['epochs_run']} epochs (best {record['best_epoch']}), "
        f"{record['wall_seconds']:.1f}s. Accuracy: train {m['train']['accuracy']:.2%}, "
        f"validation {m['validation']['accuracy']:.2%}, test {m['test']['accuracy']:.4%}.",
        highlight=False,
    )
    console.print(
        f"Wrote {out / KERAS_FILE} and {out / TRAIN_FILE}.", highlight=False, markup=False
    )
    if write_json_out(json_file, record):
        console.print(f"Wrote {json_file}.", highlight=False, markup=False)


Model = Annotated[Path, typer.Option("--model", "-m", help="The trained Keras model.")]


def _complete_export(command: Any) -> None:
    from .export_rounding import complete

    complete(command)


complete_later("export", _complete_export)


@app.command("export")
def export_cmd(
    model: Model = Path("artifacts") / KERAS_FILE,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help=f"{', '.join(FORMATS)}, {C_FORMAT} (C99 source from the int8 .tflite, for "
            "microcontrollers), or all (all four files and the C).",
        ),
    ] = "tflite",
    quantize: Annotated[str, typer.Option(help="int8 (full-integer) or none (float32).")] = "int8",
    out: Out = Path("artifacts"),
    calibration_samples: Annotated[
        int, typer.Option(help="Training images used to calibrate int8.")
    ] = 500,
    data_dir: DataDir = None,
    json_file: JsonOut = None,
    rounding: Rounding = None,
) -> None:
    """Convert the Keras model, validate each file against it, and update manifest.json."""
    from edge_mnist.data import load_mnist
    from edge_mnist.export import c_files, export, plan

    from .export_rounding import check
    from .render import artifact_table

    check_output(json_file)
    rounding = check(rounding, bool(c_files(fmt, out)))
    names = [t.filename for t in plan(fmt, quantize)]
    sources = [p.name for p in c_files(fmt, out)]
    mnist = load_mnist(data_dir, progress=download_progress())
    manifest = export(
        model,
        mnist,
        out,
        fmt,
        quantize,
        calibration_samples,
        on_stage=lambda m: err.print(m, highlight=False, markup=False),
        rounding=rounding,
    )
    entries = {name: manifest["artifacts"][name] for name in names}
    if is_stdout(json_file):
        write_json_out(json_file, entries)
        return
    console.print(artifact_table(manifest, names))
    console.print(
        f"Wrote {', '.join(str(out / n) for n in [*names, *sources])} and {out / MANIFEST_FILE}.",
        highlight=False,
        markup=False,
    )
    if write_json_out(json_file, entries):
        console.print(f"Wrote {json_file}.", highlight=False, markup=False)


Strict = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Fail the gate when the folder holds model files (*.tflite, *.onnx) that the "
        "manifest does not list; without it they are only a warning.",
    ),
]


def _print_warnings(report: Any) -> None:
    # Unlisted model files: failures in strict mode (raise_if_failed names them), else a warning.
    if not report.strict:
        for warning in report.warnings:
            err.print(f"warning: {escape(warning)}", highlight=False, soft_wrap=True)


@app.command()
def check(
    artifacts: Annotated[
        Path, typer.Option("--artifacts", "-a", help="Folder with manifest.json and the models.")
    ] = Path("artifacts"),
    max_drop: Annotated[
        float,
        typer.Option(help="Largest allowed drop below the float model, in percentage points."),
    ] = 0.5,
    baseline: Annotated[
        Path | None,
        typer.Option(help="An earlier 'check --json' report; fail below its accuracies."),
    ] = None,
    tolerance: Annotated[
        float, typer.Option(help="With --baseline: points an artifact may fall below it.")
    ] = 0.1,
    json_file: JsonOut = None,
    junit: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Write the report as JUnit XML to FILE."),
    ] = None,
    data_dir: DataDir = None,
    strict: Strict = False,
    backend: Backend = None,
) -> None:
    """The accuracy gate: exit 1 when an artifact falls more than --max-drop points below float.

    With --backend, the artifacts of that backend's format run on it (e.g. numpy for what a
    board without an interpreter computes)."""
    from edge_mnist.fileio import check_output_file
    from edge_mnist.gate import run_gate, write_junit, write_report

    from .render import gate_table

    check_output_file(None if is_stdout(json_file) else json_file, "--json")
    check_output_file(junit, "--junit")
    report = run_gate(
        artifacts, max_drop, baseline, tolerance, data_dir, strict=strict, backend=backend
    )
    to_stdout = is_stdout(json_file)
    (err if to_stdout else console).print(gate_table(report))
    _print_warnings(report)
    if to_stdout:
        write_json_out(json_file, report.to_dict())
    elif json_file:
        write_report(report, json_file)
    if junit:
        write_junit(report, junit)
    report.raise_if_failed()
    (err if to_stdout else console).print(
        f"[green]Gate passed[/]: {len(report.artifacts)} artifacts within {max_drop} points of the float model."
    )


@app.command()
@training_options("arch", "epochs", "seed", "augment", "plain", "extra_images")
def pipeline(
    training: dict[str, Any],
    out: Out = Path("artifacts"),
    data_dir: DataDir = None,
    max_drop: Annotated[
        float, typer.Option(help="The gate's largest allowed drop, in points.")
    ] = 0.5,
    quiet: Quiet = False,
    strict: Strict = False,
) -> None:
    """Run the whole job: data, train, export all four files and C, gate (rebuilds --out)."""
    from edge_mnist.pipeline import run_pipeline

    from .render import artifact_table, gate_table

    config = train_config(training)
    result = run_pipeline(
        out,
        config,
        data_dir,
        max_drop=max_drop,
        on_stage=lambda name, detail: err.print(
            f"[bold]{name}[/]: {escape(detail)}", highlight=False
        ),
        on_epoch=epoch_printer(quiet),
        on_download=download_progress(),
        strict=strict,
    )
    console.print(artifact_table(result.manifest))
    console.print(gate_table(result.gate))
    _print_warnings(result.gate)
    times = ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items())
    rec = result.record
    console.print(
        f"Trained {rec['arch']} for {rec['epochs_run']} epochs (best {rec['best_epoch']}). Times: {times}.",
        highlight=False,
    )
    result.gate.raise_if_failed()
    console.print(f"[green]Pipeline passed[/]: artifacts in {escape(str(out))}/.", highlight=False)
