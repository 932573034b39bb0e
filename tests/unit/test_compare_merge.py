"""'compare merge' on hand-made parts (no training): the rows of N shards back in grid order with
the best model and Pareto front marked across all of them, and each kind of mismatched, missing
or duplicate part refused with exit 2 and a message naming it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from edge_mnist.cli import app
from edge_mnist.compare_shard import merge_parts, parse_shard, shard_positions
from edge_mnist.errors import UsageError

ACC = {"a": 0.91, "b": 0.95, "c": 0.93}  # validation accuracy per architecture


def _row(arch: str, index: int) -> dict[str, Any]:
    acc = ACC[arch]
    return {
        "arch": arch,
        "grid_index": index,
        "parameters": 1000 * (index + 1),
        "epochs_run": 1,
        "best_epoch": 1,
        "train_accuracy": acc,
        "validation_accuracy": acc,
        "test_accuracy": acc,
        "train_seconds": 1.0,
        "best": True,  # each part marks its own best; merge must mark one across parts
        "pareto": True,
    }


def _part(k: int, n: int = 2, **shard: Any) -> dict[str, Any]:
    archs = list(ACC)
    return {
        "schema_version": 1,
        "created": "2026-12-03T00:00:00+00:00",
        "seed": 1,
        "recipe": {},
        "calibration_samples": None,
        "pareto_basis": "",
        "machine": {"cpu_model": f"job {k}", "machine": "x86_64", "cores": 2, "load_average": None},
        "rows": [_row(archs[i], i) for i in shard_positions(len(archs), k, n)],
        "shard": {
            "index": k,
            "count": n,
            "grid_size": 3,
            "grid_fingerprint": "g1",
            "data_checksum": "d1",
            "code_versions": {"edge-mnist": "1"},
            "grid": {},
            **shard,
        },
    }


def _write(tmp: Path, *parts: dict[str, Any]) -> list[Path]:
    paths = []
    for i, p in enumerate(parts):
        path = tmp / f"part{i}.json"
        path.write_text(json.dumps(p))
        paths.append(path)
    return paths


def test_shards_split_the_grid_round_robin() -> None:
    assert parse_shard("2/3") == (2, 3)
    assert [shard_positions(7, k, 3) for k in (1, 2, 3)] == [[0, 3, 6], [1, 4], [2, 5]]
    for bad in ("0/2", "3/2", "1", "a/b", "1/0"):
        with pytest.raises(UsageError, match="is not K/N"):
            parse_shard(bad)


def test_merge_restores_grid_order_and_marks_across_parts(tmp_path: Path) -> None:
    doc = merge_parts(_write(tmp_path, _part(2), _part(1)))
    assert [r["arch"] for r in doc["rows"]] == ["a", "b", "c"]
    assert [r["best"] for r in doc["rows"]] == [False, True, False]
    # Float accuracy against parameters: a (smallest) and b (best) trade off; c has more
    # parameters than b and less accuracy, so it is off the front (each part alone had it on).
    assert [r["pareto"] for r in doc["rows"]] == [True, True, False]
    assert "shard" not in doc and len(doc["merged_from"]["parts"]) == 2
    assert [m["cpu_model"] for m in doc["merged_from"]["machines"]] == ["job 1", "job 2"]


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (_part(2, data_checksum="d2"), "different MNIST data"),
        (_part(2, code_versions={"edge-mnist": "2"}), "different code versions"),
        (_part(2, grid_fingerprint="g2"), "different grids"),
        (_part(2, n=3), "different shard counts"),
        (_part(1), "are both shard 1/2"),
    ],
)
def test_merge_refuses_parts_that_do_not_belong(
    tmp_path: Path, second: dict[str, Any], message: str
) -> None:
    result = CliRunner().invoke(
        app, ["compare", "merge", *map(str, _write(tmp_path, _part(1), second))]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_merge_names_the_missing_shard(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["compare", "merge", *map(str, _write(tmp_path, _part(1, n=3), _part(3, n=3)))]
    )
    assert result.exit_code == 2
    assert "shard 2/3 missing (got 2 of 3)" in result.output


def test_merge_refuses_a_whole_run_document(tmp_path: Path) -> None:
    whole = _part(1)
    del whole["shard"]
    result = CliRunner().invoke(app, ["compare", "merge", *map(str, _write(tmp_path, whole))])
    assert result.exit_code == 2
    assert "not a part of a sharded compare" in result.output


def _damaged(change: str) -> dict[str, Any]:
    part = _part(1)
    if change == "no rows":
        del part["rows"]
    elif change == "rows not a list":
        part["rows"] = {"a": 1}
    elif change == "row of another shard":
        part["rows"].append(_row("b", 1))
    elif change == "row missing":
        part["rows"].pop()
    elif change == "row twice":
        part["rows"].append(part["rows"][0])
    elif change == "index over count":
        part["shard"]["index"] = 3
    elif change == "index zero":
        part["shard"]["index"] = 0
    elif change == "index not a number":
        part["shard"]["index"] = "one"
    return part


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no rows", "no 'rows' list"),
        ("rows not a list", "no 'rows' list"),
        ("row of another shard", "trains positions [0, 2], but its rows have grid_index [0, 2, 1]"),
        ("row missing", "trains positions [0, 2], but its rows have grid_index [0]"),
        ("row twice", "but its rows have grid_index [0, 2, 0]"),
        ("index over count", "shard 3/2 of a grid of 3 is not a shard"),
        ("index zero", "shard 0/2 of a grid of 3 is not a shard"),
        ("index not a number", "lacks a whole index, count or grid_size"),
    ],
)
def test_merge_refuses_a_part_whose_rows_or_place_do_not_fit(
    tmp_path: Path, change: str, message: str
) -> None:
    paths = _write(tmp_path, _damaged(change), _part(2))
    result = CliRunner().invoke(app, ["compare", "merge", *map(str, paths)])
    assert result.exit_code == 2, result.output
    assert f"{paths[0]}: " in result.output and message in result.output
