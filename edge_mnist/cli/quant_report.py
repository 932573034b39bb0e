"""quant-report: where the int8 model loses precision, layer by layer.

With a float .tflite reference it needs only numpy and the runtime (it runs on a board); a .keras
reference loads TensorFlow, inside the command only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .app import app, console
from .options import DataDir

if TYPE_CHECKING:
    from rich.table import Table


def layer_table(doc: dict[str, Any]) -> Table:
    """One row per layer; the worst layer (lowest own SNR) is starred."""
    from rich import box
    from rich.table import Table

    from edge_mnist.runtime.quant_report import short_name

    table = Table(
        title=f"int8 vs {doc['reference_kind']}, {doc['images']} test images (SNR, own SNR: dB)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
    )
    cols = ("layer", "SNR", "own", "cosine", "max err", "clip", "range", "scale", "zp")
    for col in cols:
        table.add_column(col, justify="left" if col == "layer" else "right", no_wrap=True)
    for r in doc["layers"]:
        table.add_row(
            short_name(r["name"], r["op"]) + (" *" if r["index"] == doc["worst_index"] else ""),
            f"{r['snr_db']:.1f}",
            f"{r['layer_snr_db']:.1f}",
            f"{r['cosine']:.5f}",
            f"{r['max_abs_error']:.3f}",
            f"{r['saturated']:.1%}",
            f"{r['range_used']:.0%}",
            f"{r['scale']:.6f}",
            str(r["zero_point"]),
        )
    return table


@app.command("quant-report")
def quant_report(
    model: Annotated[
        Path, typer.Argument(help="The full-integer int8 .tflite file.", show_default=False)
    ],
    reference: Annotated[
        Path | None,
        typer.Option(
            help="The float model: .keras (needs TensorFlow) or float32 .tflite (runs anywhere). "
            "Default: model.keras beside MODEL when TensorFlow is installed, else "
            "model_float32.tflite.",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="Test images to compare on (1..10000).")] = 1000,
    data_dir: DataDir = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON to this file.")
    ] = None,
) -> None:
    """Per-layer int8 error against the float model (SNR, cosine, clipping); names the worst."""
    from edge_mnist.quant_report_run import run_quant_report
    from edge_mnist.runtime.jsonfile import write_json

    if json_file is not None and json_file.is_dir():
        from edge_mnist.runtime.errors import EdgeMnistError

        raise EdgeMnistError(f"{json_file} is a folder; give a file name for the report.")
    doc = run_quant_report(model, reference, limit, data_dir)
    console.print(layer_table(doc))
    from edge_mnist.runtime.quant_report import short_name

    worst = doc["layers"][doc["worst_index"]]
    console.print(
        f"Worst layer: {doc['worst_index']} {short_name(worst['name'], worst['op'])} (own SNR "
        f"{worst['layer_snr_db']:.1f} dB, {worst['saturated']:.2%} clipped).",
        highlight=False,
        markup=False,
    )
    if json_file is not None:
        write_json(json_file, doc)
