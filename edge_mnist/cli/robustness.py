"""The robustness command: a model's accuracy on MNIST test digits under named variations.

It runs the deployed model (TFLite or ONNX, any backend) through the same image path as
``edge-mnist predict``; the libraries are imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .app import app, console, err, write_json_out
from .options import Backend, DataDir, JsonOut, Limit, ModelArg, Plot


def _progress() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    progress = Progress(
        "[progress.description]{task.description:>14}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err.rich(),
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(name: str, done: int, total: int) -> None:
        if not tasks:
            progress.start()
        if name not in tasks:
            tasks[name] = progress.add_task(name, total=total)
        progress.update(tasks[name], completed=done)

    update.stop = progress.stop  # type: ignore[attr-defined]
    return update


def _table(report: Any) -> Any:
    from rich.table import Table

    table = Table(
        title=f"{Path(report.model).name} on {report.backend}: {report.images} MNIST test digits, "
        f"seed {report.seed}"
    )
    for name, justify in (
        ("variation", "left"),
        ("what", "left"),
        ("accuracy", "right"),
        ("vs clean", "right"),
        ("rejected", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    base = report.baseline.accuracy
    table.add_row(report.baseline.name, report.baseline.description, f"{base:.2%}", "", "")
    for row in [*report.variations, *report.folders]:
        table.add_row(
            row.name,
            row.description if row in report.variations else f"{row.total} labelled images",
            f"{row.accuracy:.2%}",
            f"{100 * (row.accuracy - base):+.2f} pp",
            str(row.rejected),
        )
    return table


@app.command()
def robustness(
    model: ModelArg,
    backend: Backend = None,
    limit: Limit = None,
    images: Annotated[
        list[Path] | None,
        typer.Option(
            help="Also score a folder of labelled images: files named '*_<digit>.png' or "
            "subfolders named 0-9. Repeat for more folders.",
            show_default=False,
        ),
    ] = None,
    json_file: JsonOut = None,
    plot: Plot = None,
    seed: Annotated[int, typer.Option(help="Seed for the sample and every variation.")] = 0,
    data_dir: DataDir = None,
) -> None:
    """Accuracy under rotation, scale, stroke width, elastic distortion, noise, blur, low
    contrast, uneven light, JPEG, inversion and tight crops, against the clean digits.

    --limit N scores a seeded sample of N test digits (default: all 10,000); --plot draws a bar
    chart of accuracy per variation."""
    from edge_mnist.fileio import check_output_file
    from edge_mnist.robustness.report import plot_report, robustness_report
    from edge_mnist.runtime.cliopts import is_stdout, require_plotting
    from edge_mnist.runtime.jsonfile import write_json

    check_output_file(None if is_stdout(json_file) else json_file, "--json")
    check_output_file(plot, "--plot")
    if plot is not None:
        require_plotting()
    progress = _progress()
    try:
        report = robustness_report(
            model,
            backend=backend,
            limit=limit,
            images_dirs=images or (),
            seed=seed,
            data_dir=data_dir,
            progress=progress,
        )
    finally:
        progress.stop()
    out = err if is_stdout(json_file) else console
    out.print(_table(report))
    out.print(f"{report.seconds:.1f}s", highlight=False)
    if is_stdout(json_file):
        write_json_out(json_file, report.to_dict())
    elif json_file:
        write_json(json_file, report.to_dict())
        console.print(f"Wrote {json_file}.", highlight=False, markup=False)
    if plot:
        plot_report(report, plot)
        console.print(f"Wrote {plot}.", highlight=False, markup=False)
