"""quant-report: where the int8 model loses precision, layer by layer.

With a float .tflite reference it needs only numpy and the runtime (it runs on a board); a .keras
reference loads TensorFlow, inside the command only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .app import app, check_output, console, err, write_json_out
from .options import DataDir, JsonOut

if TYPE_CHECKING:
    from rich.table import Table


def layer_labels(layers: Sequence[dict[str, Any]]) -> list[str]:
    """A readable label per layer row of a report. A Keras Dense layer with a softmax becomes
    two ops in TFLite: the fully connected one outputs logits, not the layer's probabilities,
    so it is labelled "logits" (its Keras name would say "probabilities")."""
    labels = []
    for i, r in enumerate(layers):
        following = layers[i + 1]["op"] if i + 1 < len(layers) else ""
        if following.upper() == "SOFTMAX" and r["op"].upper() != "SOFTMAX":
            labels.append("logits")
        else:
            labels.append(short_name(r["name"], r["op"]))
    return labels


def short_name(name: str, op: str = "") -> str:
    """A readable layer name. Converter tensor names run long ('model_1/hidden1_1/MatMul;…'):
    keep the layer's own part; a name without one (the softmax's) becomes the operator."""
    parts = name.split(";")[0].split("/")
    if len(parts) >= 2:
        return re.sub(r"_\d+$", "", parts[1])
    if op and (":" in name or len(name) > 24):
        return op.lower()
    return name


def layer_table(doc: dict[str, Any], labels: list[str]) -> Table:
    """One row per layer; the worst layer (lowest own SNR) is starred. Fits 80 columns."""
    from rich import box
    from rich.table import Table

    table = Table(
        title=f"int8 vs {doc['reference_kind']}, {doc['images']} test images (SNR, own: dB)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
    )
    cols = ("layer", "SNR", "own", "cosine", "max err", "clip", "range", "scale", "zp")
    for col in cols:
        table.add_column(col, justify="left" if col == "layer" else "right", no_wrap=True)
    for r, label in zip(doc["layers"], labels, strict=True):
        table.add_row(
            label + (" *" if r["index"] == doc["worst_index"] else ""),
            f"{r['snr_db']:.1f}",
            f"{r['layer_snr_db']:.1f}",
            f"{r['cosine']:.5f}",
            f"{r['max_abs_error']:.3f}",
            f"{r['saturated']:.1%}",
            f"{r['range_used']:.0%}",
            f"{r['scale']:.4g}",
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
    limit: Annotated[
        int,
        typer.Option(
            "--limit", min=1, metavar="N", help="Use only the first N test images (1..10000)."
        ),
    ] = 1000,
    data_dir: DataDir = None,
    json_file: JsonOut = None,
) -> None:
    """Per-layer int8 error against the float model (SNR, cosine, clipping); names the worst."""
    from edge_mnist.quant_report_run import run_quant_report
    from edge_mnist.runtime.cliopts import is_stdout

    check_output(json_file)
    doc = run_quant_report(model, reference, limit, data_dir)
    out = err if is_stdout(json_file) else console
    labels = layer_labels(doc["layers"])
    out.print(layer_table(doc, labels))
    position = [r["index"] for r in doc["layers"]].index(doc["worst_index"])
    worst = doc["layers"][position]
    out.print(
        f"Worst layer: {doc['worst_index']} {labels[position]} (own SNR "
        f"{worst['layer_snr_db']:.1f} dB, {worst['saturated']:.2%} clipped).",
        highlight=False,
        markup=False,
    )
    if write_json_out(json_file, doc):
        console.print(f"Wrote {json_file}.", highlight=False, markup=False)
