"""The edge Pareto table: the front on known points, and a real one-epoch run of two small
architectures through train, export, gate and bench, checked against its JSON Schema."""

from __future__ import annotations

import importlib.util
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from edge_mnist.pareto import pareto_front

SCHEMA = json.loads(resources.files("edge_mnist").joinpath("compare.schema.json").read_text())


def test_pareto_front_on_known_points() -> None:
    # (error, size): b dominates d; a, b and c trade off; e is missing a value.
    points = {"a": (1.0, 9.0), "b": (2.0, 5.0), "c": (4.0, 1.0), "d": (3.0, 6.0), "e": None}
    names = list(points)
    front = pareto_front(
        names,
        [
            lambda n: None if points[n] is None else points[n][0],
            lambda n: None if points[n] is None else points[n][1],
        ],
    )
    assert dict(zip(names, front, strict=True)) == {
        "a": True,
        "b": True,
        "c": True,
        "d": False,
        "e": False,
    }


def test_equal_points_are_both_on_the_front() -> None:
    assert pareto_front([1, 1], [lambda p: p]) == [True, True]


@pytest.fixture(scope="module")
def edge_rows(
    tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path
) -> tuple[dict[str, Any], Path]:
    """'compare --export --bench --plot' on two small architectures, one epoch each."""
    pytest.importorskip("tensorflow")
    from typer.testing import CliRunner

    from edge_mnist.cli import app

    tmp = tmp_path_factory.mktemp("compare")
    out, report, plot = tmp / "models", tmp / "compare.json", tmp / "pareto.png"
    args = ["compare", "--arch", "mlp-32", "--arch", "mlp-64x2", "--epochs", "1", "--seed", "3"]
    args += ["--export", "--bench", "--runs", "20", "--out", str(out), "--quiet"]
    args += ["--data-dir", str(mnist_dir), "--json", str(report)]
    if importlib.util.find_spec("matplotlib") is not None:
        args += ["--plot", str(plot)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Edge Pareto table" in result.stdout and "◆" in result.stdout
    if "--plot" in args:
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return json.loads(report.read_text()), out


def test_edge_rows_match_the_schema_and_the_files(edge_rows: tuple[dict[str, Any], Path]) -> None:
    doc, out = edge_rows
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(doc, SCHEMA)
    rows = doc["rows"]
    assert [r["arch"] for r in rows] == ["mlp-32", "mlp-64x2"]
    assert [r["parameters"] for r in rows] == [25_450, 55_050]
    for r in rows:
        path = Path(r["int8_file"])
        assert path == out / r["arch"] / "model_int8.tflite"
        assert path.stat().st_size == r["int8_size_bytes"]
        # One byte per weight plus int32 biases and the flatbuffer's own few KB.
        assert r["parameters"] < r["int8_size_bytes"] < r["parameters"] + 16_384
        assert r["test_accuracy"] > 0.85 and r["int8_accuracy"] > 0.85
        assert r["int8_drop_pp"] == pytest.approx(
            (r["test_accuracy"] - r["int8_accuracy"]) * 100, abs=0.2
        )
        assert r["gate_passed"] is (r["int8_drop_pp"] <= 0.5)
        backends = [b["backend"] for b in r["bench"]]
        assert backends[0] != "numpy" and len(backends) == len(set(backends))
        for b in r["bench"]:
            assert 0 < b["p50_us_batch1"] < 100_000
            assert b["images_per_s_batch64"] > 1_000
    assert doc["pareto_basis"].startswith("int8 accuracy vs int8 file size")
    # The smaller file is on the front whatever the accuracies; the bigger one only if better.
    small, big = rows
    assert small["pareto"]
    assert big["pareto"] is (
        big["int8_accuracy"] > small["int8_accuracy"]
        or any(
            b["p50_us_batch1"] < min(s["p50_us_batch1"] for s in small["bench"])
            for b in big["bench"]
        )
    )


def test_schema_rejects_a_row_without_its_bench_figures(
    edge_rows: tuple[dict[str, Any], Path],
) -> None:
    doc = json.loads(json.dumps(edge_rows[0]))
    del doc["rows"][0]["bench"][0]["p50_us_batch1"]
    with pytest.raises(jsonschema.ValidationError, match="p50_us_batch1"):
        jsonschema.validate(doc, SCHEMA)
