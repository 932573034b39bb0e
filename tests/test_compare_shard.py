"""A sweep split in two and joined gives the table of one run: 'compare --shard 1/2' and
'--shard 2/2' (each in its own process, as CI jobs would run them) and 'compare merge' against
one 'compare' of the same grid and seed, on three tiny architectures for one epoch, exported to
int8 and gated (latencies are not compared: they are measured separately)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.mnist]

ROOT = Path(__file__).resolve().parents[1]
GRID = ["--arch", "mlp-32", "--arch", "mlp-64x2", "--arch", "mlp-128", "--epochs", "1"]
SAME = (
    "arch",
    "grid_index",
    "parameters",
    "epochs_run",
    "best_epoch",
    "train_accuracy",
    "validation_accuracy",
    "test_accuracy",
    "best",
    "pareto",
    "int8_size_bytes",
    "int8_accuracy",
    "int8_drop_pp",
    "gate_passed",
)


def _cli(args: list[str], tmp: Path, mnist_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EDGE_MNIST_DATA": str(mnist_dir)}
    return subprocess.run(
        [sys.executable, "-m", "edge_mnist", *args],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _doc(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_two_shards_merged_equal_one_run(tmp_path: Path, mnist_dir: Path) -> None:
    pytest.importorskip("tensorflow")
    schema = json.loads((ROOT / "edge_mnist" / "compare.schema.json").read_text())
    common = [*GRID, "--seed", "11", "--export", "--quiet"]
    whole = _cli(
        ["compare", *common, "--out", "whole", "--json", "whole.json"], tmp_path, mnist_dir
    )
    assert whole.returncode == 0, whole.stderr
    for k in (1, 2):
        part = _cli(
            ["compare", *common, "--shard", f"{k}/2", "--out", f"s{k}", "--json", f"part{k}.json"],
            tmp_path,
            mnist_dir,
        )
        assert part.returncode == 0, part.stderr
        jsonschema.validate(_doc(tmp_path / f"part{k}.json"), schema)
    assert [r["arch"] for r in _doc(tmp_path / "part1.json")["rows"]] == ["mlp-32", "mlp-128"]
    assert [r["arch"] for r in _doc(tmp_path / "part2.json")["rows"]] == ["mlp-64x2"]
    merged = _cli(
        ["compare", "merge", "part2.json", "part1.json", "--json", "merged.json"],
        tmp_path,
        mnist_dir,
    )
    assert merged.returncode == 0, merged.stderr
    one, joined = _doc(tmp_path / "whole.json"), _doc(tmp_path / "merged.json")
    jsonschema.validate(joined, schema)
    assert [{k: r[k] for k in SAME} for r in joined["rows"]] == [
        {k: r[k] for k in SAME} for r in one["rows"]
    ]
    assert joined["pareto_basis"] == one["pareto_basis"] == "int8 accuracy vs int8 file size"
    assert all(0.85 < r["int8_accuracy"] < 1 for r in joined["rows"])

    # The printed table is the same but for the training times (measured per run).
    def cells(text: str) -> list[list[str]]:
        return [line.split("│")[1:-2] for line in text.splitlines() if line.startswith("│")]

    assert cells(merged.stdout) == cells(whole.stdout) and len(cells(whole.stdout)) == 3
    # A part of another grid (another seed) is refused.
    other = _cli(
        ["compare", *GRID, "--seed", "12", "--shard", "2/2", "--json", "other.json"],
        tmp_path,
        mnist_dir,
    )
    assert other.returncode == 0, other.stderr
    refused = _cli(["compare", "merge", "part1.json", "other.json"], tmp_path, mnist_dir)
    assert refused.returncode == 2
    assert "different grids" in refused.stderr


def test_a_grid_of_seeds_splits_beyond_the_architectures(tmp_path: Path, mnist_dir: Path) -> None:
    """One architecture x two seeds in two shards: each part trains one seed, and the merged
    table names each model by its seed."""
    pytest.importorskip("tensorflow")
    schema = json.loads((ROOT / "edge_mnist" / "compare.schema.json").read_text())
    grid = ["--arch", "mlp-32", "--epochs", "1", "--seed", "3", "--seed", "4", "--quiet"]
    for k in (1, 2):
        part = _cli(
            ["compare", *grid, "--shard", f"{k}/2", "--json", f"part{k}.json"], tmp_path, mnist_dir
        )
        assert part.returncode == 0, part.stderr
        rows = _doc(tmp_path / f"part{k}.json")["rows"]
        assert [(r["arch"], r["seed"], r["grid_index"]) for r in rows] == [("mlp-32", 2 + k, k - 1)]
    merged = _cli(
        ["compare", "merge", "part1.json", "part2.json", "--json", "m.json"], tmp_path, mnist_dir
    )
    assert merged.returncode == 0, merged.stderr
    doc = _doc(tmp_path / "m.json")
    jsonschema.validate(doc, schema)
    assert [r["seed"] for r in doc["rows"]] == [3, 4]
    # Two seeds give two models (different initial weights) of one architecture.
    assert doc["rows"][0]["test_accuracy"] != doc["rows"][1]["test_accuracy"]
    assert "mlp-32-seed3" in merged.stdout and "mlp-32-seed4" in merged.stdout
