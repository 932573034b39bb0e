"""'bench table' and 'bench gate' on reports from two simulated boards: the tiny model timed
twice on this machine under two --board names (and, for the flags and the regression, reports
whose environment block or timings were edited as a slow or throttled board would write them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from edge_mnist.runtime.bench.__main__ import main as bench_main
from edge_mnist.runtime.bench.fleet import GATE_SCHEMA_FILE, TABLE_SCHEMA_FILE
from edge_mnist.runtime.bench.schema import first_error

BATCHES = (1, 8)


@pytest.fixture(scope="module")
def boards(tmp_path_factory: pytest.TempPathFactory, tiny_dir: Path) -> dict[str, Path]:
    """Reports of the tiny int8 model on the NumPy engine, recorded as boards pi5 and pi4."""
    out = tmp_path_factory.mktemp("fleet")
    reports = {}
    for board in ("pi5", "pi4"):
        path = out / f"{board}.json"
        code = bench_main(
            [
                str(tiny_dir / "model_int8.tflite"),
                "-b",
                "numpy",
                "--batch",
                ",".join(map(str, BATCHES)),
                "--runs",
                "30",
                "--board",
                board,
                "--json",
                str(path),
                "--quiet",
            ]
        )
        assert code == 0
        reports[board] = path
    return reports


@pytest.fixture(scope="module")
def tiny_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "fixtures" / "tiny-16"


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _edited(src: Path, dst: Path, slower: float = 1.0, **env: Any) -> Path:
    doc = _load(src)
    doc["environment"].update(env)
    for m in doc["models"]:
        for r in m["results"]:
            r["latency_us"] = {k: v * slower for k, v in r["latency_us"].items()}
    dst.write_text(json.dumps(doc))
    return dst


def _valid(doc: dict[str, Any], schema_file: Path) -> None:
    schema = json.loads(schema_file.read_text())
    assert first_error(doc, schema, "doc") is None
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(doc, schema)


def test_bench_records_the_board_name(boards: dict[str, Path]) -> None:
    assert _load(boards["pi5"])["environment"]["board_id"] == "pi5"
    assert _load(boards["pi4"])["environment"]["board_id"] == "pi4"


def test_bad_board_name_is_refused_before_timing(tiny_dir: Path, capsys: Any) -> None:
    code = bench_main([str(tiny_dir / "model_int8.tflite"), "--board", "../pi 5"])
    assert code == 2
    assert "--board '../pi 5' is not a usable board name" in capsys.readouterr().err


def test_table_groups_boards_and_marks_the_fastest(
    boards: dict[str, Path], tmp_path: Path, capsys: Any
) -> None:
    slow = _edited(
        boards["pi4"], tmp_path / "pi4.json", slower=3.0, governor="ondemand", throttled="0x50005"
    )
    out = tmp_path / "table.json"
    assert bench_main(["table", str(boards["pi5"]), str(slow), "--json", str(out)]) == 0
    doc = _load(out)
    _valid(doc, TABLE_SCHEMA_FILE)
    assert doc["boards"] == ["pi4", "pi5"]
    rows = doc["rows"]
    assert [(r["batch"], r["board_id"]) for r in rows] == [
        (1, "pi5"),
        (1, "pi4"),
        (8, "pi5"),
        (8, "pi4"),
    ]
    assert [r["fastest"] for r in rows] == [True, False, True, False]
    assert all(r["mode"] == "runtime" and r["backend"] == "numpy" for r in rows)
    pi4 = [r for r in rows if r["board_id"] == "pi4"]
    assert all(r["flags"] == ["throttled 0x50005", "governor ondemand"] for r in pi4)
    assert all(r["flags"] == [] for r in rows if r["board_id"] == "pi5")
    assert all(r["p99_us"] >= r["p50_us"] > 0 and r["peak_rss_bytes"] > 0 for r in rows)
    text = capsys.readouterr().out
    assert "★  pi5" in text and "throttled 0x50005, governor ondemand" in text


def test_table_refuses_two_reports_of_one_board(boards: dict[str, Path], capsys: Any) -> None:
    assert bench_main(["table", str(boards["pi5"]), str(boards["pi5"])]) == 2
    assert "both have board pi5" in capsys.readouterr().err


def test_gate_passes_fails_and_names_the_missing_baseline(
    boards: dict[str, Path], tmp_path: Path, capsys: Any
) -> None:
    base = tmp_path / "baselines"
    base.mkdir()
    (base / "pi5.json").write_text(boards["pi5"].read_text())
    pi4 = str(boards["pi4"])
    # No baseline for pi4: exit 2, with the command that records one.
    assert bench_main(["gate", "--baselines", str(base), str(boards["pi5"]), pi4]) == 2
    err = capsys.readouterr().err
    assert "board pi4 has no baseline" in err and f"--board pi4 --json {base / 'pi4.json'}" in err
    (base / "pi4.json").write_text(boards["pi4"].read_text())
    out = tmp_path / "gate.json"
    args = ["gate", "--baselines", str(base), "--max-regression", "50%", "--json", str(out)]
    assert bench_main([*args, str(boards["pi5"]), pi4]) == 0
    doc = _load(out)
    _valid(doc, GATE_SCHEMA_FILE)
    assert doc["passed"] and [b["board_id"] for b in doc["boards"]] == ["pi5", "pi4"]
    assert all(
        c["change_pct"] == 0.0
        for b in doc["boards"]
        for c in b["changes"]
        if b["board_id"] == "pi5"
    )
    # pi4 twice as slow (runtime and raw series, 2 batches each): exit 1 naming the board and each figure; pi5 still passes.
    slow = _edited(boards["pi4"], tmp_path / "pi4-slow.json", slower=2.0)
    capsys.readouterr()
    assert bench_main([*args, str(boards["pi5"]), str(slow)]) == 1
    err = capsys.readouterr().err
    assert "regressed by more than 50% on pi4" in err
    assert "pi4: model_int8.tflite (numpy) batch 1 runtime" in err
    assert "pi5:" not in err
    doc = _load(out)
    _valid(doc, GATE_SCHEMA_FILE)
    verdicts = {b["board_id"]: b["passed"] for b in doc["boards"]}
    assert verdicts == {"pi5": True, "pi4": False} and doc["passed"] is False


def test_typer_front_end_has_table_and_gate(boards: dict[str, Path], tmp_path: Path) -> None:
    base = tmp_path / "b"
    base.mkdir()
    for name, path in boards.items():
        (base / f"{name}.json").write_text(path.read_text())
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    cli = [sys.executable, "-m", "edge_mnist"]
    reports = [str(p) for p in boards.values()]
    table = subprocess.run(
        [*cli, "bench", "table", *reports, "--json", "-"], capture_output=True, text=True, env=env
    )
    assert table.returncode == 0, table.stderr
    _valid(json.loads(table.stdout), TABLE_SCHEMA_FILE)
    gate = subprocess.run(
        [*cli, "bench", "gate", "--baselines", str(base), *reports],
        capture_output=True,
        text=True,
        env=env,
    )
    assert gate.returncode == 0, gate.stderr
    assert "pi5: ok: 4 series, 0 regressed" in gate.stdout


def test_gate_refuses_a_board_id_that_leaves_the_baselines_folder(
    boards: dict[str, Path], tmp_path: Path, capsys: Any
) -> None:
    # board_id names baselines/<id>.json: '../../x' would read (and suggest writing) a file
    # outside the folder, so the report is refused as bad input, naming it.
    (tmp_path / "x.json").write_text(boards["pi5"].read_text())
    bad = _edited(boards["pi5"], tmp_path / "evil.json", board_id="../x")
    baselines = tmp_path / "baselines"
    baselines.mkdir()
    assert bench_main(["gate", str(bad), "--baselines", str(baselines)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "../x" in err


@pytest.mark.parametrize("bad", ["../../x", ".hidden", "a/b", "", "pi 5"])
def test_report_board_checks_the_id_against_the_one_pattern(bad: str) -> None:
    from edge_mnist.runtime.bench.errors import BenchError
    from edge_mnist.runtime.bench.fleet import report_board

    with pytest.raises(BenchError, match=r"r\.json: board_id"):
        report_board({"environment": {"board_id": bad}}, "r.json")
    assert report_board({"environment": {"board_id": "pi5.b_1-x"}}, "r.json") == "pi5.b_1-x"


def test_legacy_report_id_comes_from_its_own_fields_not_the_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A report recorded before --board has no board_id: the id must be the same on every
    # machine that reads it, so the reader's host name must not enter it.
    import platform

    from edge_mnist.runtime.bench.fleet import report_board

    legacy = {"environment": {"board": None, "cpu_model": "ARM Cortex-A76"}}
    monkeypatch.setattr(platform, "node", lambda: "reader-one")
    first = report_board(legacy, "old.json")
    monkeypatch.setattr(platform, "node", lambda: "reader-two")
    assert report_board(legacy, "old.json") == first == "host-arm-cortex-a76"
    pi = {"environment": {"board": "Raspberry Pi 5 Model B Rev 1.0", "cpu_model": "x"}}
    assert report_board(pi, "old.json") == "raspberry-pi-5-model-b-rev-1-0"
