"""Device commands: predict and info. They need numpy, Pillow and one interpreter only, and
import nothing of the host side (no training, data, export, gate, converters or models)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from edge_mnist.runtime.errors import EdgeMnistError

from .app import app, check_output, err, write_json_out
from .consoles import escape
from .options import Backend, JsonOut, Limit, ModelArg, Rounding, Threads

# Rows shown in the table; --json FILE (or -) has them all.
SHOWN = 50


@app.command()
def predict(
    model: ModelArg,
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Image files, folders of images (or of subfolders 0 to 9 holding each digit's "
            "images: then accuracy is printed too), or an IDX images file.",
            show_default=False,
        ),
    ],
    labels: Annotated[
        Path | None, typer.Option(help="IDX labels for an IDX images input: also print accuracy.")
    ] = None,
    limit: Limit = None,
    backend: Backend = None,
    rounding: Rounding = None,
    threads: Threads = None,
    json_file: JsonOut = None,
) -> None:
    """Classify digits in images or an IDX file (device side: no TensorFlow needed).

    The table shows the first 50 inputs; --json FILE (or --json - for stdout) has every one.
    --limit N classifies the first N images of all the inputs, in order.
    """
    from edge_mnist.runtime import Classifier
    from edge_mnist.runtime.artifacts import manifest_mismatch
    from edge_mnist.runtime.cliopts import is_stdout
    from edge_mnist.runtime.predict import classify_inputs

    check_output(json_file)
    clf = Classifier.load(model, backend=backend, threads=threads, rounding=rounding)
    mismatch = manifest_mismatch(model)
    if mismatch:
        err.print(f"warning: {escape(mismatch)}", highlight=False, soft_wrap=True)
    report = classify_inputs(clf, inputs, labels, limit)
    if not is_stdout(json_file):
        from .plain import emit, predictions

        title = f"{model.name} on {clf.info.backend} {clf.info.backend_version}"
        emit(predictions(title, report.items[:SHOWN]))
        if len(report.items) > SHOWN:
            more = len(report.items) - SHOWN
            emit(f"... and {more} more: --json FILE (or --json - for stdout) lists every row.")
        if report.accuracy is not None:
            emit(f"Accuracy: {report.accuracy:.2%} on {len(report.items)} images.")
    if write_json_out(json_file, {"model": clf.info.to_dict(), **report.to_dict()}):
        err.print(f"Wrote {escape(str(json_file))}.", highlight=False)
    for item in report.items:
        if item.error:
            err.print(f"[red]{escape(item.error)}[/]", highlight=False)
    if report.errors:
        raise EdgeMnistError(
            f"{report.errors} of {len(report.items)} inputs could not be classified (see above)."
        )


@app.command()
def info(
    model: ModelArg, backend: Backend = None, rounding: Rounding = None, json_file: JsonOut = None
) -> None:
    """Show a model's tensors, quantization, backend, size, sha256 and manifest entry."""
    from edge_mnist.runtime.cliopts import is_stdout
    from edge_mnist.runtime.describe import describe

    check_output(json_file)
    facts = describe(model, backend, rounding)
    if not is_stdout(json_file):
        from .plain import emit, model_facts

        emit(model_facts(str(model), facts))
    if write_json_out(json_file, facts):
        err.print(f"Wrote {escape(str(json_file))}.", highlight=False)
