"""compare: train a grid of architectures x dropouts x seeds with one recipe; with --export and
--bench, the edge Pareto table (int8 accuracy, file size, memory and latency per model)."""

# No "from __future__ import annotations": training_options adds live objects to the signature.

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from edge_mnist.runtime.cliopts import is_stdout

from .app import app, err
from .options import DataDir, JsonOut, Plot, Quiet
from .training import (
    TRAINING_OPTIONS,
    download_progress,
    epoch_printer,
    train_config,
    training_options,
)

if TYPE_CHECKING:
    pass

# Recipe options that take several values here: the grid is architectures x dropouts x seeds
# (edge_mnist.compare.GRID_FIELDS).
GRID_OPTIONS = ("dropout", "seed")


@app.command()
@training_options(*(n for n in TRAINING_OPTIONS if n not in GRID_OPTIONS), many_archs=True)
def compare(
    training: dict[str, Any],
    merge: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[merge PARTS...]",
            help="'compare merge PARTS...': join the --json files of 'compare --shard' into "
            "the table and document of one run (training options are then not used).",
            show_default=False,
        ),
    ] = None,
    dropouts: Annotated[
        list[float] | None,
        typer.Option(
            "--dropout",
            help=f"{TRAINING_OPTIONS['dropout'][1]} Repeat for a grid of dropouts (default: "
            "train's).",
            show_default=False,
        ),
    ] = None,
    seeds: Annotated[
        list[int] | None,
        typer.Option(
            "--seed",
            help=f"{TRAINING_OPTIONS['seed'][1]} Repeat for a grid of seeds (default: train's).",
            show_default=False,
        ),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            metavar="K/N",
            help="Train only the K-th of N parts of the grid (positions K, K+N, ...); join the "
            "parts' --json files with 'compare merge'.",
            show_default=False,
        ),
    ] = None,
    export: Annotated[
        bool, typer.Option("--export", help="Also export each model to int8 .tflite and gate it.")
    ] = False,
    bench: Annotated[
        bool,
        typer.Option(
            "--bench",
            help="Also time each int8 file at batch 1 and 64 on the best installed backend and "
            "the NumPy engine (implies --export).",
        ),
    ] = False,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Folder for each model's files (default: artifacts/compare).",
            show_default=False,
        ),
    ] = Path("artifacts/compare"),
    calibration_samples: Annotated[
        int, typer.Option(help="Training images used to calibrate int8.")
    ] = 500,
    max_drop: Annotated[
        float, typer.Option(help="The gate: most points int8 may lose against float.")
    ] = 0.5,
    runs: Annotated[
        int | None, typer.Option(help="Timed calls per bench series (default: bench's).")
    ] = None,
    reuse: Annotated[
        bool,
        typer.Option(
            help="Keep a model in --out trained with the same recipe instead of training."
        ),
    ] = False,
    data_dir: DataDir = None,
    json_file: JsonOut = None,
    plot: Plot = None,
    quiet: Quiet = False,
) -> None:
    """Train a grid of architectures x dropouts x seeds with one recipe: the selection table, or
    the edge Pareto table (--plot draws accuracy against latency and needs --bench)."""
    from edge_mnist.compare import (
        EdgeOptions,
        compare_architectures,
        compare_document,
        grid_configs,
        varied_fields,
    )
    from edge_mnist.data import load_mnist
    from edge_mnist.errors import UsageError
    from edge_mnist.fileio import check_output_file
    from edge_mnist.gate import validate_limits
    from edge_mnist.models import ARCHITECTURES

    check_output_file(None if is_stdout(json_file) else json_file)
    check_output_file(plot)
    if merge:
        if merge[0] != "merge" or len(merge) < 2:
            raise UsageError(
                f"unexpected argument {merge[0]!r}.", "use 'compare merge PART.json...'."
            )
        if plot is not None:
            from edge_mnist.compare_plot import check_plot_available

            check_plot_available()
        from edge_mnist.compare_shard import merge_parts

        from .compare_table import show

        show(merge_parts([Path(p) for p in merge[1:]]), json_file, plot)
        return
    export = export or bench
    if plot is not None:
        from edge_mnist.compare_plot import check_plot_available

        if not bench:
            raise UsageError("--plot draws latencies.", "add --bench (and --export).")
        check_plot_available()
    if not 1 <= calibration_samples <= 55_000:
        raise UsageError(f"--calibration-samples must be in 1..55000, got {calibration_samples}.")
    if runs is not None and runs < 1:  # as 'bench --runs' says it, before any training
        raise UsageError(f"--runs must be at least 1, got {runs}.")
    validate_limits(max_drop)
    archs = training.pop("arch") or list(ARCHITECTURES)
    configs = grid_configs(
        train_config(training), archs, {"dropout": dropouts or (), "seed": seeds or ()}
    )
    edge = (
        EdgeOptions(out, True, bench, calibration_samples, max_drop, runs, data_dir, reuse)
        if export
        else None
    )
    places = list(range(len(configs)))
    if shard is not None:
        from edge_mnist.compare_shard import parse_shard, shard_positions

        k, n = parse_shard(shard)
        if n > len(configs):
            raise UsageError(
                f"--shard {shard}: the grid has only {len(configs)} configurations.",
                f"split it into at most {len(configs)} shards.",
            )
        places = shard_positions(len(configs), k, n)
        if json_file is None:
            raise UsageError(
                "--shard writes a part for 'compare merge'.", "add --json FILE (a part file)."
            )
    mnist = load_mnist(data_dir, progress=download_progress())
    rows = compare_architectures(
        [configs[i] for i in places],
        mnist,
        on_start=lambda a: err.print(f"training {a}"),
        on_epoch=epoch_printer(quiet),
        edge=edge,
        on_stage=lambda m: err.print(m, highlight=False, markup=False),
        grid_index=places,
        varied=varied_fields([asdict(c) for c in configs]),
    )
    doc = compare_document(rows, configs[0], edge)
    if shard is not None:
        from edge_mnist.compare_shard import shard_block

        doc["shard"] = shard_block(shard, configs, edge, mnist.checksums)
    from .compare_table import show

    show(doc, json_file, plot)
