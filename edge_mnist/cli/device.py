"""Device commands: predict and info. They need numpy, Pillow and one interpreter only, and
import nothing of the host side (no training, data, export, gate, converters or models)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from edge_mnist.runtime.errors import EdgeMnistError

from .app import app, emit_json, err
from .consoles import escape
from .options import Backend, JsonFlag, ModelArg, Threads

# Rows shown in the table; --json has them all.
SHOWN = 50


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
    from edge_mnist.runtime.artifacts import manifest_mismatch
    from edge_mnist.runtime.predict import classify_inputs

    clf = Classifier.load(model, backend=backend, threads=threads)
    mismatch = manifest_mismatch(model)
    if mismatch:
        err.print(f"warning: {escape(mismatch)}", highlight=False, soft_wrap=True)
    report = classify_inputs(clf, inputs, labels, limit)
    if as_json:
        emit_json({"model": clf.info.to_dict(), **report.to_dict()})
    else:
        from .plain import emit, predictions

        title = f"{model.name} on {clf.info.backend} {clf.info.backend_version}"
        emit(predictions(title, report.items[:SHOWN]))
        if len(report.items) > SHOWN:
            emit(f"... and {len(report.items) - SHOWN} more (use --json for all).")
        if report.accuracy is not None:
            emit(f"Accuracy: {report.accuracy:.2%} on {len(report.items)} images.")
    for item in report.items:
        if item.error:
            err.print(f"[red]{escape(item.error)}[/]", highlight=False)
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
        emit_json(facts)
        return
    from .plain import emit, model_facts

    emit(model_facts(str(model), facts))
