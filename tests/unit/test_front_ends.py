"""The shared edges of the front ends: run_main's exit codes and messages (the same as the Typer
CLI's), bounded argparse options, the one --json writer, the one output-path check, the one
interpreter -> rounding table, and the python -m front ends of verify and doctor."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from edge_mnist.runtime.cliopts import (
    DOCTOR_OPTIONS,
    VERIFY_OPTIONS,
    Opt,
    add_arguments,
    check_output_path,
    run_main,
    threads_opt,
)
from edge_mnist.runtime.errors import InvalidInputError
from edge_mnist.runtime.jsonfile import write_json_or_stdout

pytestmark = pytest.mark.device

PY = sys.executable
ENV = {**os.environ, "EDGE_MNIST_DEBUG": ""}


def _raises(exc: BaseException) -> Any:
    def fn(_argv: list[str]) -> int:
        raise exc

    return fn


def test_run_main_maps_errors_interrupts_and_bugs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDGE_MNIST_DEBUG", raising=False)
    assert run_main(lambda argv: len(argv), ["a", "b"]) == 2
    assert run_main(_raises(InvalidInputError("the problem.", "the fix.")), []) == 2
    assert capsys.readouterr().err == "error: the problem.\nfix: the fix.\n"
    assert run_main(_raises(KeyboardInterrupt()), []) == 130
    assert capsys.readouterr().err == "interrupted\n"
    assert run_main(_raises(ZeroDivisionError("boom")), []) == 3
    err = capsys.readouterr().err
    assert err.startswith("internal error: ZeroDivisionError: boom.") and err.count("\n") == 1
    assert "Traceback" not in err and "EDGE_MNIST_DEBUG=1" in err
    monkeypatch.setenv("EDGE_MNIST_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        run_main(_raises(ZeroDivisionError("boom")), [])


@pytest.mark.parametrize(
    "front",
    [
        ["edge_mnist.runtime.doctor"],
        ["edge_mnist.runtime.verify"],
        ["edge_mnist.runtime.bench", "--board", "x"],
        ["edge_mnist.runtime.serve"],
        ["edge_mnist.conformance"],
    ],
    ids=lambda f: f[0].rsplit(".", 1)[-1],
)
def test_python_m_front_ends_print_problem_and_fix(front: list[str], tmp_path: Path) -> None:
    # Every python -m front end prints an error as the Typer CLI does: 'error: PROBLEM' and a
    # separate 'fix: FIX' line (conformance printed "PROBLEM Fix: FIX" on one line).
    missing = tmp_path / "not-a-model.tflite"
    missing.write_text("garbage")
    proc = subprocess.run(
        [PY, "-m", *front[:1], str(missing), *front[1:]],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("error: ") and str(missing) in lines[0], proc.stderr
    assert lines[1].startswith("fix: "), proc.stderr
    assert "Traceback" not in proc.stderr


def test_python_m_and_typer_print_an_error_alike(tmp_path: Path) -> None:
    missing = str(tmp_path / "not-a-model.tflite")
    Path(missing).write_text("garbage")
    typer = subprocess.run(
        [PY, "-m", "edge_mnist", "doctor", missing], capture_output=True, text=True, env=ENV
    )
    plain = subprocess.run(
        [PY, "-m", "edge_mnist.runtime.doctor", missing], capture_output=True, text=True, env=ENV
    )
    assert typer.returncode == plain.returncode == 2
    assert typer.stderr == plain.stderr


def test_argparse_honours_the_bounds_typer_enforces(capsys: pytest.CaptureFixture[str]) -> None:
    from edge_mnist.runtime.serve.__main__ import build_parser

    for bad in (["--port", "70000"], ["--port", "-1"], ["--threads", "0"]):
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args(["m.tflite", *bad])
        assert exc.value.code == 2
        assert "is not in the range" in capsys.readouterr().err
    typer = subprocess.run(
        [PY, "-m", "edge_mnist", "serve", "m.tflite", "--port", "70000"],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert typer.returncode == 2 and "70000 is not in the range 0<=x<=65535." in typer.stderr
    with pytest.raises(SystemExit):
        build_parser().parse_args(["m.tflite", "--port", "70000"])
    assert "70000 is not in the range 0<=x<=65535." in capsys.readouterr().err
    ns = build_parser().parse_args(["m.tflite", "--port", "65535", "--threads", "1"])
    assert (ns.port, ns.threads) == (65535, 1)
    p = argparse.ArgumentParser()
    add_arguments(p, [Opt("x", ("--x",), float, low=0.5)])
    with pytest.raises(SystemExit):
        p.parse_args(["--x", "0.4"])
    assert p.parse_args(["--x", "0.5"]).x == 0.5
    assert threads_opt().low == 1


def test_json_to_a_file_and_to_stdout_are_the_same_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = {"path": tmp_path, "n": [1, 2.5], "s": "é"}
    write_json_or_stdout(tmp_path / "r.json", doc)
    write_json_or_stdout("-", doc)
    out = capsys.readouterr().out
    assert (tmp_path / "r.json").read_text(encoding="utf-8") == out
    assert json.loads(out) == {"path": str(tmp_path), "n": [1, 2.5], "s": "é"}


def test_an_output_folder_is_refused_the_same_everywhere(tmp_path: Path) -> None:
    check_output_path(None)
    check_output_path("-")
    check_output_path(tmp_path / "new.json")
    with pytest.raises(InvalidInputError) as exc:
        check_output_path(tmp_path, "--plot")
    assert exc.value.exit_code == 2
    assert exc.value.problem == f"--plot {tmp_path} is a folder."
    assert exc.value.fix == f"give a file name, e.g. {tmp_path / 'plot.png'}."
    from edge_mnist.fileio import check_output_file

    with pytest.raises(InvalidInputError, match="is a folder"):
        check_output_file(tmp_path, "--junit")


@pytest.mark.parametrize("argv", [["table", "R"], ["M"]], ids=["bench-table", "bench-run"])
def test_bench_refuses_a_json_folder_with_the_shared_check(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from edge_mnist.runtime.bench.__main__ import main

    assert main([*argv, "--json", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"error: --json {tmp_path} is a folder." in err
    assert f"fix: give a file name, e.g. {tmp_path / 'report.json'}." in err


def test_one_interpreter_rounding_table() -> None:
    from edge_mnist.conformance import EXPECTED
    from edge_mnist.runtime.backends import NUMPY, TFLITE
    from edge_mnist.runtime.backends import rounding as backend_rounding
    from edge_mnist.runtime.engine.rounding import INTERPRETER_ROUNDING, ROUNDINGS
    from edge_mnist.runtime.golden import GoldenVectors
    from edge_mnist.runtime.verify import _variants

    assert EXPECTED is INTERPRETER_ROUNDING
    assert set(INTERPRETER_ROUNDING.values()) <= set(ROUNDINGS)
    golden = GoldenVectors.__new__(GoldenVectors)
    object.__setattr__(golden, "expected", {r: None for r in ROUNDINGS})
    for name in ("litert", "tflite-runtime", "tensorflow"):
        assert _variants(golden, name, TFLITE, None) == [INTERPRETER_ROUNDING[name]]
    assert backend_rounding.NUMPY is NUMPY


def test_python_m_verify(tiny: Path, tmp_path: Path) -> None:
    model = str(tiny / "model_int8.tflite")
    proc = subprocess.run(
        [
            PY,
            "-m",
            "edge_mnist.runtime.verify",
            model,
            "-b",
            "numpy",
            "--rounding",
            "tflm",
            "--json",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    assert [(c["backend"], c["expected"]) for c in report["checks"]] == [("numpy", "tflm")]
    bad = subprocess.run(
        [PY, "-m", "edge_mnist.runtime.verify", model, "-b", "litert", "--rounding", "tflm"],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert bad.returncode == 2 and "applies to the numpy backend only" in bad.stderr


@pytest.mark.parametrize(
    ("command", "opts"), [("verify", VERIFY_OPTIONS), ("doctor", DOCTOR_OPTIONS)]
)
def test_verify_and_doctor_declare_their_options_once(command: str, opts: Any) -> None:
    # The Typer command's options are exactly the specs' (argparse is built from the same).
    from edge_mnist.cli.app import _build

    click_cmd = _build(command)
    typer_flags = {
        tuple(sorted(p.opts)) for p in click_cmd.params if p.param_type_name == "option"
    } - {("--help", "-h")}
    assert typer_flags == {tuple(sorted(o.flags)) for o in opts}
    assert ("--backend", "-b") in typer_flags
