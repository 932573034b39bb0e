"""'compare' sweeps a grid: architectures x dropouts x seeds, in one deterministic order that
--shard splits round robin (no training here: the grid, its shards, names and tables)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from edge_mnist.cli import app
from edge_mnist.cli.compare import GRID_OPTIONS
from edge_mnist.cli.render import selection_table
from edge_mnist.compare import GRID_FIELDS, grid_configs, run_name, varied_fields
from edge_mnist.compare_shard import shard_positions
from edge_mnist.errors import UsageError
from edge_mnist.train import TrainConfig

BASE = TrainConfig(epochs=1)


def _points(values: dict[str, Any], archs: tuple[str, ...] = ("mlp-32", "mlp-128")) -> list[Any]:
    return [(c.arch, c.dropout, c.seed) for c in grid_configs(BASE, archs, values)]


def test_the_grid_is_the_product_in_a_fixed_order() -> None:
    assert GRID_OPTIONS == GRID_FIELDS
    # No values: one configuration per architecture with the recipe's dropout and seed.
    configs = grid_configs(BASE, ["mlp-32", "mlp-128"], {})
    assert configs == [replace(BASE, arch="mlp-32"), replace(BASE, arch="mlp-128")]
    assert _points({"seed": [1, 2]}) == [
        ("mlp-32", 0.2, 1),
        ("mlp-32", 0.2, 2),
        ("mlp-128", 0.2, 1),
        ("mlp-128", 0.2, 2),
    ]
    grid = _points({"dropout": [0.0, 0.3], "seed": [7, 8]})
    assert len(grid) == 8 and grid[:4] == [
        ("mlp-32", 0.0, 7),
        ("mlp-32", 0.0, 8),
        ("mlp-32", 0.3, 7),
        ("mlp-32", 0.3, 8),
    ]
    assert grid == _points({"seed": [7, 8], "dropout": [0.0, 0.3]})  # the order is the grid's
    # Three shards of the 8: round robin over the product, every point once.
    shards = [[grid[i] for i in shard_positions(len(grid), k, 3)] for k in (1, 2, 3)]
    assert shards[1] == [("mlp-32", 0.0, 8), ("mlp-128", 0.0, 7), ("mlp-128", 0.3, 8)]
    assert sorted(p for s in shards for p in s) == sorted(grid)
    with pytest.raises(UsageError, match=r"--dropout must be in \[0, 1\), got 1.5"):
        grid_configs(BASE, ["mlp-32"], {"dropout": [0.1, 1.5]})


def test_models_are_named_by_what_the_grid_varies() -> None:
    rows = [
        {"arch": "mlp-32", "dropout": 0.2, "seed": s, "best": s == 2, "parameters": 25_450}
        for s in (1, 2)
    ]
    for r in rows:
        r.update(epochs_run=1, train_accuracy=0.9, validation_accuracy=0.9, test_accuracy=0.9)
        r.update(train_seconds=1.0)
    assert varied_fields(rows) == ("seed",)
    assert [run_name(r, varied_fields(rows)) for r in rows] == ["mlp-32-seed1", "mlp-32-seed2"]

    def text(rows: list[dict[str, Any]]) -> str:
        console = Console(record=True, width=120)
        console.print(selection_table(rows))
        return console.export_text()

    shown = text(rows)
    assert "mlp-32-seed1 " in shown and "mlp-32-seed2 *" in shown
    # One seed: the table of a plain 'compare', named by architecture alone.
    assert "mlp-32 *" in text(rows[1:]) and "seed" not in text(rows[1:])


def test_a_grid_of_seeds_can_have_more_shards_than_architectures() -> None:
    runner = CliRunner()
    args = ["compare", "--arch", "mlp-32", "--seed", "1", "--seed", "2", "--seed", "3"]
    # Checks come before training: 3 shards of the 3 seeds pass the grid check (and stop at
    # the missing --json); a 4th does not exist.
    result = runner.invoke(app, [*args, "--shard", "3/3"])
    assert result.exit_code == 2 and "add --json FILE" in result.output, result.output
    result = runner.invoke(app, [*args, "--shard", "4/4"])
    assert result.exit_code == 2 and "the grid has only 3 configurations" in result.output
    result = runner.invoke(app, [*args, "--dropout", "2", "--shard", "1/2", "--json", "x.json"])
    assert result.exit_code == 2 and "--dropout must be in [0, 1)" in result.output
