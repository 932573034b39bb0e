"""Train a grid of architectures x recipe values (dropouts, seeds) and tabulate them: the
notebook's model selection, and with ``export``/``bench`` the edge Pareto table (int8 accuracy,
file size, latency, memory).

Per configuration: train, save, export the int8 .tflite, gate it on the
10,000 test images, then time it on the best installed backend and on the NumPy engine in a child
process. The Pareto front marks the points that no other architecture beats on accuracy, size
and latency at once.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from edge_mnist.data import Mnist
from edge_mnist.pareto import pareto_front
from edge_mnist.runtime.artifacts import INT8_TFLITE, KERAS_FILE, TRAIN_FILE
from edge_mnist.train import EpochFn, TrainConfig, fit, save

SCHEMA_VERSION = 1
ENGINE_BACKEND = "numpy"
# The recipe fields a grid may vary besides the architecture, in the grid's order: architectures
# outermost, the last field fastest ('compare --dropout 0 --dropout 0.2 --seed 1 --seed 2').
GRID_FIELDS = ("dropout", "seed")

# Called with a short description of each step as it starts.
StageFn = Callable[[str], None]


@dataclass(frozen=True)
class EdgeOptions:
    """What to do beyond training: where to keep each model, export, gate, bench."""

    out: Path
    export: bool = True
    bench: bool = False
    calibration_samples: int = 500
    max_drop: float = 0.5
    bench_runs: int | None = None
    data_dir: Path | None = None
    # Keep a model already in out/<arch>/ when its train.json records the same recipe, so that
    # an interrupted run, or one that only adds --bench, does not train again.
    reuse: bool = False


def grid_configs(
    base: TrainConfig, archs: Sequence[str], values: dict[str, Sequence[Any]]
) -> list[TrainConfig]:
    """Every architecture x each value of each GRID_FIELDS field in ``values`` (a field not
    given, or given no values, keeps ``base``'s), in a deterministic order; each validated."""
    axes = [list(values.get(f) or [getattr(base, f)]) for f in GRID_FIELDS]
    configs = []
    for arch, *combo in itertools.product(archs, *axes):
        config = replace(base, arch=arch, **dict(zip(GRID_FIELDS, combo, strict=True)))
        config.validate()
        configs.append(config)
    return configs


def varied_fields(items: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """The GRID_FIELDS that take more than one value among ``items`` (rows or configurations)."""
    return tuple(f for f in GRID_FIELDS if len({repr(i.get(f)) for i in items}) > 1)


def run_name(item: dict[str, Any], varied: Sequence[str] = ()) -> str:
    """A row's or configuration's name: its architecture, and the ``varied`` fields' values
    ("mlp-128-seed2"); its folder under --out and its label in the tables."""
    return item["arch"] + "".join(f"-{f}{item[f]}" for f in varied)


def _train_row(record: dict[str, Any]) -> dict[str, Any]:
    m = record["metrics"]
    return {
        "arch": record["arch"],
        "parameters": record["parameters"],
        "epochs_run": record["epochs_run"],
        "best_epoch": record["best_epoch"],
        "train_accuracy": m["train"]["accuracy"],
        "validation_accuracy": m["validation"]["accuracy"],
        "test_accuracy": m["test"]["accuracy"],
        "train_seconds": record["train_seconds"],
        "best": False,
    }


def _reusable(folder: Path | None, config: TrainConfig) -> dict[str, Any] | None:
    """The train.json record in ``folder`` if its model was trained with ``config``."""
    if folder is None or not (folder / KERAS_FILE).is_file():
        return None
    try:
        record: dict[str, Any] = json.loads((folder / TRAIN_FILE).read_text())
    except (OSError, ValueError):
        return None
    if record.get("config") != asdict(config):
        return None
    if config.extra_images is not None:
        # The same folder name may hold other digits now: compare what was trained on.
        from edge_mnist.extra_images import load_extra_images

        digest = load_extra_images(Path(config.extra_images)).digest
        if record.get("extra_images", {}).get("sha256") != digest:
            return None
    return record


def bench_backends() -> list[str]:
    """The best installed TFLite backend, then the NumPy engine when the runtime has it."""
    from edge_mnist.compare_bench import available_backends, best_tflite_backend

    chosen = [best_tflite_backend()]
    if ENGINE_BACKEND in available_backends() and ENGINE_BACKEND not in chosen:
        chosen.append(ENGINE_BACKEND)
    return chosen


def _edge_row(
    row: dict[str, Any], folder: Path, data: Mnist, edge: EdgeOptions, stage: StageFn
) -> None:
    """Export, gate and (optionally) bench the saved model in ``folder``; add to ``row``."""
    from edge_mnist.export import export
    from edge_mnist.gate import run_gate

    manifest = export(
        folder / KERAS_FILE,
        data,
        folder,
        fmt="tflite",
        quantize="int8",
        calibration_samples=edge.calibration_samples,
        on_stage=stage,
    )
    entry = manifest["artifacts"][INT8_TFLITE]
    stage(f"gating {folder.name}")
    gate = run_gate(folder, max_drop=edge.max_drop, data_dir=edge.data_dir)
    verdict = next(a for a in gate.artifacts if a.name == INT8_TFLITE)
    row.update(
        int8_file=str(folder / INT8_TFLITE),
        int8_size_bytes=entry["size_bytes"],
        int8_accuracy=verdict.accuracy,
        int8_drop_pp=verdict.drop_pp,
        gate_passed=verdict.passed,
        gate_reasons=verdict.reasons,
        bench=[],
    )
    if edge.bench:
        from edge_mnist.compare_bench import bench_in_child

        for backend in bench_backends():
            stage(f"benchmarking {folder.name} on {backend}")
            figures = bench_in_child(folder / INT8_TFLITE, backend, edge.data_dir, edge.bench_runs)
            row["bench"].append(figures.to_dict())


def _fastest_p50(row: dict[str, Any]) -> float | None:
    times = [b["p50_us_batch1"] for b in row.get("bench") or []]
    return min(times) if times else None


def mark_pareto(rows: list[dict[str, Any]]) -> str:
    """Set each row's ``pareto`` flag and return what the front trades off.

    With int8 files: int8 accuracy against file size (and batch-1 latency when benched);
    otherwise float test accuracy against parameters.
    """
    if rows and all(r.get("int8_accuracy") is not None for r in rows):
        objectives: list[Callable[[dict[str, Any]], float | None]] = [
            lambda r: -r["int8_accuracy"],
            lambda r: r["int8_size_bytes"],
        ]
        basis = "int8 accuracy vs int8 file size"
        if all(_fastest_p50(r) is not None for r in rows):
            objectives.append(_fastest_p50)
            basis += " and batch-1 p50 latency"
    else:
        objectives = [lambda r: -r["test_accuracy"], lambda r: r["parameters"]]
        basis = "float test accuracy vs parameters"
    for row, on_front in zip(rows, pareto_front(rows, objectives), strict=True):
        row["pareto"] = on_front
    return basis


def compare_architectures(
    configs: list[TrainConfig],
    data: Mnist,
    on_start: Callable[[str], None] | None = None,
    on_epoch: EpochFn | None = None,
    edge: EdgeOptions | None = None,
    on_stage: StageFn | None = None,
    grid_index: list[int] | None = None,
    varied: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Train each configuration and return one row each (with its GRID_FIELDS values); the best
    by validation accuracy is marked ``best`` and the Pareto front ``pareto``. With ``edge``
    each model is also saved under ``edge.out/<run_name>/``, exported to int8, gated and
    optionally benchmarked. ``grid_index`` gives each configuration's place in the whole grid
    (a shard's rows keep it so that 'compare merge' can put them back in order); ``varied``,
    the fields that vary over the whole grid (default: over ``configs``), name the folders."""
    stage = on_stage or (lambda _msg: None)
    rows = []
    places = grid_index if grid_index is not None else list(range(len(configs)))
    if varied is None:
        varied = varied_fields([asdict(c) for c in configs])
    for config, place in zip(configs, places, strict=True):
        name = run_name(asdict(config), varied)
        if on_start:
            on_start(name)
        folder = edge.out / name if edge is not None and edge.export else None
        record = _reusable(folder, config) if edge is not None and edge.reuse else None
        if record is not None:
            stage(f"reusing {folder}: trained with the same recipe")
        else:
            result = fit(config, data, on_epoch)
            record = result.record
            if folder is not None:
                save(result, folder, force=True)
        row = _train_row(record)
        row["grid_index"] = place
        row.update({f: getattr(config, f) for f in GRID_FIELDS})
        if folder is not None and edge is not None:
            _edge_row(row, folder, data, edge, stage)
        rows.append(row)
    if rows:
        max(rows, key=lambda r: r["validation_accuracy"])["best"] = True
    mark_pareto(rows)
    return rows


def compare_document(
    rows: list[dict[str, Any]], config: TrainConfig, edge: EdgeOptions | None
) -> dict[str, Any]:
    """The JSON document (see compare.schema.json): rows, recipe, machine."""
    from edge_mnist.runtime.sysinfo import environment

    env = environment()
    machine = {k: env.get(k) for k in ("cpu_model", "machine", "cores", "os", "python")}
    # The machine may be shared: the load average says how far to trust the timings.
    machine["load_average"] = (
        [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "seed": config.seed,
        "recipe": {k: v for k, v in vars(config).items() if k != "arch"},
        "calibration_samples": edge.calibration_samples if edge else None,
        "pareto_basis": mark_pareto(rows),
        "machine": machine,
        "rows": rows,
    }
