"""The edge-mnist command line: thin commands that parse, call one library function and print."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from edge_mnist.errors import EdgeMnistError
from edge_mnist.train import TrainConfig

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


# A bug, not a user error: distinct from 1 (check failed) and 2 (bad usage or input).
EXIT_INTERNAL = 3


class _Group(TyperGroup):
    """Turns the project's errors into a message and an exit code, never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except EdgeMnistError as exc:
            _fail(exc)
        except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("EDGE_MNIST_DEBUG"):
                raise
            err.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {exc}",
                highlight=False,
                soft_wrap=True,
            )
            err.print(
                "This is a bug in edge-mnist. Run again with EDGE_MNIST_DEBUG=1 for the "
                "traceback, and report it.",
                highlight=False,
            )
            raise typer.Exit(EXIT_INTERNAL) from None


def _fail(exc: EdgeMnistError) -> NoReturn:
    err.print(f"[bold red]error:[/] {exc.problem}", highlight=False, soft_wrap=True)
    if exc.fix:
        err.print(f"[bold]fix:[/] {exc.fix}", highlight=False, soft_wrap=True)
    raise typer.Exit(exc.exit_code)


_D = TrainConfig()

app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from edge_mnist import __version__

        console.print(f"edge-mnist {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Train the classic Keras MNIST MLP, export it to int8 TFLite and ONNX, gate its accuracy,
    and run and benchmark it on edge devices.

    Exit codes: 0 success, 1 a check failed, 2 bad usage or input.
    """


DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder with the four MNIST files (.gz or raw). Default: $EDGE_MNIST_DATA, "
        "else ~/.cache/edge-mnist/mnist (downloaded when missing).",
        show_default=False,
    ),
]
Out = Annotated[Path, typer.Option("--out", "-o", help="Output folder.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def _emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


def _download_progress() -> Any:
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
    )
    tasks: dict[str, Any] = {}

    def update(name: str, done: int, total: int | None) -> None:
        if name not in tasks:
            progress.start()
            tasks[name] = progress.add_task(f"downloading {name}", total=total)
        progress.update(tasks[name], completed=done)
        if total is not None and done >= total:
            progress.stop()

    return update


@app.command()
def data(
    data_dir: DataDir = None,
    download: Annotated[
        bool, typer.Option(help="Download missing files from public mirrors.")
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """Find (or download) and verify MNIST, and print the shapes of the split."""
    from edge_mnist.data import load_mnist

    mnist = load_mnist(data_dir, download=download, progress=_download_progress())
    if as_json:
        _emit_json({"source": mnist.source, "shapes": mnist.shapes(), "md5": mnist.checksums})
        return
    console.print(f"MNIST from {mnist.source}: all four files verified (MD5).", highlight=False)
    for name, shape in mnist.shapes().items():
        console.print(f"{name:8} {shape}", highlight=False)


def _epoch_printer(quiet: bool) -> Any:
    if quiet:
        return None

    def show(epoch: int, logs: dict[str, float], seconds: float) -> None:
        err.print(
            f"epoch {epoch:3d}  loss {logs.get('loss', 0):.4f}  acc {logs.get('accuracy', 0):.4f}  "
            f"val_loss {logs.get('val_loss', 0):.4f}  val_acc {logs.get('val_accuracy', 0):.4f}  "
            f"lr {logs.get('learning_rate', 0):.1e}  {seconds:.1f}s",
            highlight=False,
        )

    return show


Arch = Annotated[
    str, typer.Option("--arch", help="Architecture: mlp-300x2, mlp-800x2 or mlp-300x3.")
]
Epochs = Annotated[int, typer.Option(help="Maximum epochs; early stopping usually ends sooner.")]
Patience = Annotated[
    int, typer.Option(help="Epochs without a better validation loss before stopping.")
]
BatchSize = Annotated[int, typer.Option(help="Mini-batch size.")]
LearningRate = Annotated[float, typer.Option(help="Adam's initial learning rate.")]
Dropout = Annotated[
    float, typer.Option(help="Dropout after each hidden layer (training only; 0 = the notebook).")
]
ReduceLr = Annotated[
    bool, typer.Option(help="Halve the learning rate when validation loss stalls.")
]
Seed = Annotated[
    int, typer.Option(help="Random seed: the same seed gives the same model on one machine.")
]


def _config(
    arch: str,
    epochs: int,
    patience: int,
    batch_size: int,
    learning_rate: float,
    dropout: float,
    reduce_lr: bool,
    seed: int,
) -> Any:
    config = TrainConfig(
        arch, epochs, patience, batch_size, learning_rate, dropout, reduce_lr, seed
    )
    config.check()
    return config


@app.command()
def train(
    arch: Arch = _D.arch,
    epochs: Epochs = _D.epochs,
    patience: Patience = _D.patience,
    batch_size: BatchSize = _D.batch_size,
    learning_rate: LearningRate = _D.learning_rate,
    dropout: Dropout = _D.dropout,
    reduce_lr: ReduceLr = _D.reduce_lr,
    seed: Seed = _D.seed,
    out: Out = Path("artifacts"),
    data_dir: DataDir = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-epoch progress.")] = False,
    force: Annotated[bool, typer.Option(help="Overwrite an existing model in --out.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Train an MLP with early stopping on validation loss; write model.keras and train.json."""
    from edge_mnist.data import load_mnist
    from edge_mnist.train import MODEL_FILE
    from edge_mnist.train import train as run_train

    config = _config(arch, epochs, patience, batch_size, learning_rate, dropout, reduce_lr, seed)
    mnist = load_mnist(data_dir, progress=_download_progress())
    record = run_train(
        config, mnist, out, force=force, on_epoch=_epoch_printer(quiet or as_json)
    ).record
    if as_json:
        _emit_json(record)
        return
    m = record["metrics"]
    console.print(
        f"{record['arch']}: {record['epochs_run']} epochs (best {record['best_epoch']}), "
        f"{record['wall_seconds']:.1f}s. Accuracy: train {m['train']['accuracy']:.2%}, "
        f"validation {m['validation']['accuracy']:.2%}, test {m['test']['accuracy']:.4%}.",
        highlight=False,
    )
    console.print(f"Wrote {out / MODEL_FILE} and {out / 'train.json'}.", highlight=False)


@app.command()
def compare(
    arch: Annotated[
        list[str] | None, typer.Option("--arch", help="An architecture to train; repeat for each.")
    ] = None,
    epochs: Epochs = _D.epochs,
    patience: Patience = _D.patience,
    batch_size: BatchSize = _D.batch_size,
    learning_rate: LearningRate = _D.learning_rate,
    dropout: Dropout = _D.dropout,
    reduce_lr: ReduceLr = _D.reduce_lr,
    seed: Seed = _D.seed,
    data_dir: DataDir = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the table as JSON to this file.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-epoch progress.")] = False,
) -> None:
    """Train several architectures with the same seed and options; print the selection table."""
    from edge_mnist.compare import compare_architectures
    from edge_mnist.data import load_mnist
    from edge_mnist.fileio import check_output_file, write_json

    check_output_file(json_file)
    names = arch or ["mlp-300x2", "mlp-800x2", "mlp-300x3"]
    configs = [
        _config(a, epochs, patience, batch_size, learning_rate, dropout, reduce_lr, seed)
        for a in names
    ]
    mnist = load_mnist(data_dir, progress=_download_progress())
    rows = compare_architectures(
        configs,
        mnist,
        on_start=lambda a: err.print(f"training {a}"),
        on_epoch=_epoch_printer(quiet),
    )
    table = Table(title="Model selection: accuracy per split, best by validation *")
    for col in ("arch", "params", "epochs", "train", "valid", "test", "time"):
        table.add_column(col, justify="left" if col == "arch" else "right", no_wrap=True)
    for r in rows:
        table.add_row(
            f"{r['arch']}{' *' if r['best'] else ''}",
            f"{r['parameters']:,}",
            str(r["epochs_run"]),
            f"{r['train_accuracy']:.2%}",
            f"{r['validation_accuracy']:.2%}",
            f"{r['test_accuracy']:.2%}",
            f"{r['train_seconds']:.1f}s",
        )
    console.print(table)
    if json_file:
        write_json(json_file, {"seed": seed, "rows": rows})


Model = Annotated[Path, typer.Option("--model", "-m", help="The trained Keras model.")]


def _size(n: int) -> str:
    return f"{n / 1024:.1f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.2f} MiB"


def _artifact_table(manifest: dict[str, Any], names: list[str] | None = None) -> Table:
    float_acc = manifest["source_model"]["test_accuracy"]
    entries = manifest["artifacts"]
    table = Table(title=f"Exported models (Keras float model: {float_acc:.2%} test accuracy)")
    table.add_column("artifact", no_wrap=True)
    for col in ("size", "vs float", "test acc", "Δ float", "agree"):
        table.add_column(col, justify="right", no_wrap=True)
    for name in names or list(entries):
        e = entries[name]
        twin = entries.get(f"model_float32.{e['format']}")
        ratio = f"{e['size_bytes'] / twin['size_bytes']:.0%}" if twin else "-"
        table.add_row(
            name,
            _size(e["size_bytes"]),
            ratio,
            f"{e['test_accuracy']:.2%}",
            f"{e['delta_vs_float_pp']:+.2f} pp",
            f"{e['agreement']['top1_agreement']:.1%}",
        )
    return table


@app.command("export")
def export_cmd(
    model: Model = Path("artifacts/model.keras"),
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="tflite, onnx, or all (all four files).")
    ] = "tflite",
    quantize: Annotated[str, typer.Option(help="int8 (full-integer) or none (float32).")] = "int8",
    out: Out = Path("artifacts"),
    calibration_samples: Annotated[
        int, typer.Option(help="Training images used to calibrate int8.")
    ] = 500,
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Convert the Keras model, validate each file against it, and update manifest.json."""
    from edge_mnist.data import load_mnist
    from edge_mnist.export import export, plan

    names = [t.filename for t in plan(fmt, quantize)]
    mnist = load_mnist(data_dir, progress=_download_progress())
    manifest = export(
        model,
        mnist,
        out,
        fmt,
        quantize,
        calibration_samples,
        on_stage=lambda m: err.print(m, highlight=False),
    )
    if as_json:
        _emit_json({name: manifest["artifacts"][name] for name in names})
        return
    console.print(_artifact_table(manifest, names))
    console.print(
        f"Wrote {', '.join(str(out / n) for n in names)} and {out / 'manifest.json'}.",
        highlight=False,
    )


def _gate_table(report: Any) -> Table:
    table = Table(
        title=f"Accuracy gate: float model {report.float_accuracy:.2%}, max drop {report.max_drop_pp} pp"
    )
    table.add_column("artifact", no_wrap=True)
    for col in ("test acc", "drop", "sha256", "verdict"):
        table.add_column(col, justify="left" if col == "verdict" else "right")
    for a in report.artifacts:
        table.add_row(
            a.name,
            "-" if a.accuracy is None else f"{a.accuracy:.2%}",
            "-" if a.drop_pp is None else f"{a.drop_pp:+.2f} pp",
            "ok" if a.sha256_ok else "MISMATCH",
            "[green]pass[/]" if a.passed else "[red]FAIL[/]",
        )
    return table


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
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Write the report as JSON to this file.")
    ] = None,
    junit: Annotated[
        Path | None, typer.Option(help="Write the report as JUnit XML to this file.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """The accuracy gate: exit 1 when an artifact falls more than --max-drop points below float."""
    from edge_mnist.fileio import check_output_file
    from edge_mnist.gate import run_check, write_junit, write_report

    check_output_file(json_file)
    check_output_file(junit)
    report = run_check(artifacts, max_drop, baseline, tolerance, data_dir)
    console.print(_gate_table(report))
    if json_file:
        write_report(report, json_file)
    if junit:
        write_junit(report, junit)
    report.raise_if_failed()
    console.print(
        f"[green]Gate passed[/]: {len(report.artifacts)} artifacts within {max_drop} points of the float model."
    )


@app.command()
def pipeline(
    out: Out = Path("artifacts"),
    data_dir: DataDir = None,
    arch: Arch = _D.arch,
    epochs: Epochs = _D.epochs,
    seed: Seed = _D.seed,
    max_drop: Annotated[
        float, typer.Option(help="The gate's largest allowed drop, in points.")
    ] = 0.5,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-epoch progress.")] = False,
) -> None:
    """Run the whole job: data, train, export all four files, accuracy gate (rebuilds --out)."""
    from edge_mnist.pipeline import run_pipeline

    config = TrainConfig(arch=arch, epochs=epochs, seed=seed)
    config.check()
    result = run_pipeline(
        out,
        config,
        data_dir,
        max_drop=max_drop,
        on_stage=lambda name, detail: err.print(f"[bold]{name}[/]: {detail}", highlight=False),
        on_epoch=_epoch_printer(quiet),
        on_download=_download_progress(),
    )
    console.print(_artifact_table(result.manifest))
    console.print(_gate_table(result.gate))
    times = ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items())
    rec = result.record
    console.print(
        f"Trained {rec['arch']} for {rec['epochs_run']} epochs (best {rec['best_epoch']}). Times: {times}.",
        highlight=False,
    )
    result.gate.raise_if_failed()
    console.print(f"[green]Pipeline passed[/]: artifacts in {out}/.", highlight=False)


ModelArg = Annotated[Path, typer.Argument(help="A .tflite or .onnx model.", show_default=False)]
Backend = Annotated[
    str | None,
    typer.Option(
        help="Interpreter: litert, tflite-runtime, tensorflow (TFLite) or onnxruntime. Default: the first installed."
    ),
]
Threads = Annotated[
    int | None, typer.Option(help="Interpreter threads (default: the backend's choice).")
]


@app.command()
def predict(
    model: ModelArg,
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Image files, folders of images, or an IDX images file.", show_default=False
        ),
    ],
    labels: Annotated[
        Path | None, typer.Option(help="IDX labels for an IDX images input: also print accuracy.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Classify only the first N images of an IDX file.")
    ] = None,
    backend: Backend = None,
    threads: Threads = None,
    as_json: JsonFlag = False,
) -> None:
    """Classify digits in images or an IDX file (device side: no TensorFlow needed)."""
    from edge_mnist.runtime import Classifier
    from edge_mnist.runtime.predict import classify_inputs

    clf = Classifier.load(model, backend=backend, threads=threads)
    report = classify_inputs(clf, inputs, labels, limit)
    if as_json:
        _emit_json({"model": clf.info.to_dict(), **report.to_dict()})
    else:
        table = Table(title=f"{model.name} on {clf.info.backend} {clf.info.backend_version}")
        for col in ("input", "digit", "confidence", "top 3"):
            table.add_column(
                col,
                justify="left" if col in ("input", "top 3") else "right",
                no_wrap=col == "input",
            )
        shown = report.items[:50]
        for item in shown:
            if item.error:
                table.add_row(item.source, "-", "-", "[red]error[/]")
            else:
                top = "  ".join(f"{d}:{p:.2f}" for d, p in item.top3)
                table.add_row(item.source, str(item.digit), f"{item.confidence:.3f}", top)
        console.print(table)
        if len(report.items) > len(shown):
            console.print(f"… and {len(report.items) - len(shown)} more (use --json for all).")
        if report.accuracy is not None:
            console.print(
                f"Accuracy: {report.accuracy:.2%} on {len(report.items)} images.", highlight=False
            )
    for item in report.items:
        if item.error:
            err.print(f"[red]{item.error}[/]", highlight=False)
    if report.errors:
        raise EdgeMnistError(
            f"{report.errors} of {len(report.items)} inputs could not be classified (see above)."
        )


@app.command()
def info(model: ModelArg, backend: Backend = None, as_json: JsonFlag = False) -> None:
    """Show a model's tensors, quantization, backend, size, sha256 and manifest entry."""
    from edge_mnist.runtime.describe import describe

    facts = describe(model, backend)
    if as_json:
        _emit_json(facts)
        return
    table = Table(title=str(model), show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("format", facts["format"])
    table.add_row("backend", f"{facts['backend']} {facts['backend_version']}")
    for side in ("input", "output"):
        t = facts[side]
        quant = (
            f", scale {t['scale']:.6g}, zero point {t['zero_point']}"
            if t["scale"] is not None
            else ""
        )
        table.add_row(side, f"{t['name']}: {t['dtype']} {tuple(t['shape'])}{quant}")
    table.add_row("size", f"{facts['size_bytes']:,} bytes")
    table.add_row("sha256", facts["sha256"])
    entry = facts["manifest"]
    if entry is None:
        table.add_row("manifest", "none beside the model")
    else:
        ok = "matches" if facts.get("matches_manifest") else "[red]DOES NOT MATCH[/]"
        accuracy = entry.get("test_accuracy")
        scored = f", test accuracy {accuracy:.2%}" if isinstance(accuracy, float) else ""
        table.add_row(
            "manifest",
            f"{entry.get('precision', '?')} {entry.get('format', '?')}{scored}, sha256 {ok}",
        )
    console.print(table)


def _register_bench() -> None:
    from edge_mnist.cli_bench import bench_app

    app.add_typer(bench_app, name="bench")


_register_bench()


def main() -> None:
    """Console-script entry point."""
    app()
