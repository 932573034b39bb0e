"""The main job in one call: data -> train -> export all -> accuracy gate."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_mnist.data import ProgressFn, load_mnist
from edge_mnist.export import export
from edge_mnist.gate import GateReport, run_gate, validate_limits
from edge_mnist.runtime.artifacts import KERAS_FILE
from edge_mnist.runtime.atomic import remove_stale_temporaries
from edge_mnist.train import EpochFn, TrainConfig, train

# Called with (stage name, detail) as each stage starts.
StageFn = Callable[[str, str], None]


@dataclass
class PipelineResult:
    """What each stage produced and how long it took."""

    record: dict[str, Any]
    manifest: dict[str, Any]
    gate: GateReport
    seconds: dict[str, float] = field(default_factory=dict)


def run_pipeline(
    out: Path,
    config: TrainConfig,
    data_dir: Path | None = None,
    calibration_samples: int = 500,
    max_drop: float = 0.5,
    on_stage: StageFn | None = None,
    on_epoch: EpochFn | None = None,
    on_download: ProgressFn | None = None,
    strict: bool = False,
) -> PipelineResult:
    """Run every stage into ``out`` (overwriting its model) and return the gate's verdict.

    ``strict`` makes model files in ``out`` that the manifest does not list fail the gate.
    """
    config.validate()
    validate_limits(max_drop)
    remove_stale_temporaries(out)
    stage = on_stage or (lambda _name, _detail: None)
    seconds: dict[str, float] = {}
    start = time.perf_counter()

    stage("data", "loading and verifying MNIST")
    data = load_mnist(data_dir, progress=on_download)
    seconds["data"] = time.perf_counter() - start

    stage("train", f"{config.arch}, up to {config.epochs} epochs")
    t = time.perf_counter()
    record = train(config, data, out, force=True, on_epoch=on_epoch).record
    seconds["train"] = time.perf_counter() - t

    t = time.perf_counter()
    manifest = export(
        out / KERAS_FILE,
        data,
        out,
        fmt="all",
        calibration_samples=calibration_samples,
        on_stage=lambda msg: stage("export", msg),
    )
    seconds["export"] = time.perf_counter() - t

    stage("check", f"evaluating every artifact on {len(data.y_test)} test images")
    t = time.perf_counter()
    gate = run_gate(out, max_drop=max_drop, data_dir=data_dir, strict=strict)
    seconds["check"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - start
    return PipelineResult(record=record, manifest=manifest, gate=gate, seconds=seconds)
