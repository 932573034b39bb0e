"""Train several architectures with one recipe and tabulate them, as the notebook's model selection did."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edge_mnist.data import Mnist
from edge_mnist.train import EpochFn, TrainConfig, fit


def compare_architectures(
    configs: list[TrainConfig],
    data: Mnist,
    on_start: Callable[[str], None] | None = None,
    on_epoch: EpochFn | None = None,
) -> list[dict[str, Any]]:
    """Train each configuration and return one row each; the best by validation accuracy is marked."""
    rows = []
    for config in configs:
        if on_start:
            on_start(config.arch)
        record = fit(config, data, on_epoch).record
        m = record["metrics"]
        rows.append(
            {
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
        )
    if rows:
        max(rows, key=lambda r: r["validation_accuracy"])["best"] = True
    return rows
