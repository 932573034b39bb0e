"""One CLI grammar: an option name means one thing on every command, --json takes a FILE ('-'
for stdout), --plot is refused before any work without matplotlib, help fits 80 columns, and
predict reads labelled digit folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from edge_mnist.cli import app

runner = CliRunner()
MODEL = "model_int8.tflite"


def _commands() -> Iterator[tuple[str, Any]]:
    """Every command as Click sees it when run (looked up, so late-filled options are there)."""
    root = typer.main.get_command(app)

    def walk(group: Any, prefix: str) -> Iterator[tuple[str, Any]]:
        ctx = group.make_context(prefix or "edge-mnist", [], resilient_parsing=True)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            path = f"{prefix} {name}".strip()
            if hasattr(command, "list_commands"):
                yield from walk(command, path)
            else:
                yield path, command

    yield from walk(root, "")


def _meaning(param: Any) -> tuple[Any, ...]:
    return (
        tuple(sorted(param.opts)),
        tuple(sorted(param.secondary_opts)),
        param.is_flag,
        param.type.name,
        param.metavar,
    )


def _clashes(commands: dict[str, Any]) -> tuple[list[str], dict[str, tuple[Any, ...]]]:
    """Option names given a second meaning, and the one meaning of each other name."""
    seen: dict[str, tuple[tuple[Any, ...], str]] = {}
    clashes = []
    for path, command in commands.items():
        for param in command.params:
            if param.param_type_name != "option":
                continue
            meaning = _meaning(param)
            for flag in param.opts:
                first = seen.setdefault(flag, (meaning, path))
                if first[0] != meaning:
                    clashes.append(f"{flag}: {first[1]} {first[0]} vs {path} {meaning}")
    return clashes, {flag: meaning for flag, (meaning, _path) in seen.items()}


def test_every_option_name_has_one_meaning() -> None:
    commands = dict(_commands())
    assert {"predict", "info", "bench run", "bench diff", "serve", "check"} <= set(commands)
    clashes, meanings = _clashes(commands)
    assert clashes == []
    # The options of item 10 exist where they should, with the one meaning.
    assert meanings["--json"] == (("--json",), (), False, "path", "FILE")
    assert meanings["-b"][0] == ("--backend", "-b")
    assert meanings["--limit"][3:] == ("int range", "N")
    assert meanings["--plot"] == (("--plot",), (), False, "path", "FILE")
    writes_json = ("data", "train", "export", "check", "predict", "info", "robustness")
    for path in (*writes_json, "quant-report", "compare", "bench run"):
        assert "--json" in {o for p in commands[path].params for o in p.opts}, path
    for path in ("check", "predict", "info", "robustness", "bench run", "serve"):
        assert "-b" in {o for p in commands[path].params for o in p.opts}, path


def test_the_walk_sees_a_second_meaning() -> None:
    """The check is not blind: a flag --json beside a FILE --json, or -b naming another
    option, is a clash."""
    other = typer.Typer()

    @other.command()
    def one(
        json_flag: Annotated[bool, typer.Option("--json")] = False,
        batch: Annotated[int, typer.Option("--batch", "-b")] = 1,
    ) -> None: ...

    @other.command()
    def two(
        json_file: Annotated[Path | None, typer.Option("--json", metavar="FILE")] = None,
    ) -> None: ...

    group = typer.main.get_command(other)
    ctx = group.make_context("other", [], resilient_parsing=True)
    ours = dict(_commands())
    theirs = {name: group.get_command(ctx, name) for name in group.list_commands(ctx)}
    clashes, _ = _clashes({**theirs, "predict": ours["predict"]})
    assert sorted(c.split(":")[0] for c in clashes) == ["--json", "--json", "-b"]


@pytest.mark.parametrize("tool", ["bench", "serve"])
def test_both_front_ends_of_a_device_tool_have_the_same_options(tool: str) -> None:
    """'python -m edge_mnist.runtime.<tool>' (argparse) and 'edge-mnist <tool>' (Typer) are
    built from one option list: same names, flags and defaults."""
    import argparse

    from edge_mnist.runtime.cliopts import add_arguments

    if tool == "bench":
        from edge_mnist.runtime.bench.options import RUN_OPTIONS as OPTIONS
    else:
        from edge_mnist.runtime.serve.options import OPTIONS
    parser = argparse.ArgumentParser()
    add_arguments(parser, OPTIONS)
    argparse_flags = {
        flag: action.default
        for action in parser._actions
        for flag in action.option_strings
        if flag not in ("-h", "--help")
    }
    command = dict(_commands())["bench run" if tool == "bench" else tool]
    typer_flags = {
        flag: None if p.multiple else p.default
        for p in command.params
        if p.param_type_name == "option"
        for flag in p.opts
        if flag not in ("-h", "--help", "--keras")  # --keras needs TensorFlow: host only
    }
    assert argparse_flags == typer_flags
    if tool == "serve":
        from edge_mnist.runtime.serve import Limits

        assert typer_flags["--timeout"] == Limits().timeout
        assert typer_flags["--max-connections"] == Limits().max_connections
        assert typer_flags["--max-body"] == "4M" and Limits().max_body == 4 << 20


@pytest.fixture(scope="module")
def digits(test_images: tuple[np.ndarray, np.ndarray], tmp_path_factory: Any) -> Path:
    """MNIST test digits as PNG files in subfolders 0 to 9: 6 of each digit."""
    images, labels = test_images
    root = tmp_path_factory.mktemp("labelled")
    for digit in range(10):
        folder = root / str(digit)
        folder.mkdir()
        for i in np.flatnonzero(labels == digit)[:6]:
            Image.fromarray(images[i].reshape(28, 28)).save(folder / f"test{i}.png")
    return root


def test_predict_json_file_and_stdout_agree(artifacts: Path, digits: Path, tmp_path: Path) -> None:
    files = sorted((digits / "7").iterdir())[:3]
    argv = ["predict", str(artifacts / MODEL), *map(str, files)]
    out = tmp_path / "reports" / "out.json"
    to_file = runner.invoke(app, [*argv, "--json", str(out)])
    assert to_file.exit_code == 0, to_file.output
    assert "input" in to_file.stdout  # the table still prints
    written = json.loads(out.read_text())
    to_stdout = runner.invoke(app, [*argv, "--json", "-"])
    assert to_stdout.exit_code == 0, to_stdout.output
    printed = json.loads(to_stdout.stdout)  # stdout is the JSON alone
    assert printed == written
    assert printed["count"] == 3 and printed["errors"] == 0
    assert [i["source"] for i in printed["items"]] == list(map(str, files))
    assert [i["digit"] for i in printed["items"]] == [7, 7, 7]
    assert all(0.5 < i["confidence"] <= 1.0 for i in printed["items"])


def test_predict_reads_labelled_folders_and_limit(artifacts: Path, digits: Path) -> None:
    model = str(artifacts / MODEL)
    result = runner.invoke(app, ["predict", model, str(digits), "--json", "-"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["count"] == 60
    assert sorted({i["label"] for i in report["items"]}) == list(range(10))
    assert all(Path(i["source"]).parent.name == str(i["label"]) for i in report["items"])
    assert report["accuracy"] >= 0.95
    text = runner.invoke(app, ["predict", model, str(digits)])
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert len(lines) == 2 + 50 + 2  # title, header, 50 rows, "... and 10 more", accuracy
    assert lines[1].split() == ["input", "digit", "label", "confidence", "top", "3"]
    first = report["items"][0]
    assert lines[2].split()[:3] == [first["source"], str(first["digit"]), str(first["label"])]
    assert lines[-2] == "... and 10 more: --json FILE (or --json - for stdout) lists every row."
    assert lines[-1] == f"Accuracy: {report['accuracy']:.2%} on 60 images."
    limited = runner.invoke(app, ["predict", model, str(digits), "--limit", "7", "--json", "-"])
    assert limited.exit_code == 0, limited.output
    assert json.loads(limited.stdout)["count"] == 7


def test_predict_help_says_how_to_see_every_row() -> None:
    result = runner.invoke(app, ["predict", "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "first 50 inputs; --json FILE (or --json - for stdout) has every one" in text
    assert "subfolders 0 to 9" in text


def test_help_fits_80_columns() -> None:
    helps = [["--help"], *([*path.split(), "--help"] for path, _ in _commands())]
    for argv in helps:
        result = runner.invoke(app, argv, env={"COLUMNS": "80"})
        assert result.exit_code == 0, (argv, result.output)
        wide = [line for line in result.stdout.splitlines() if len(line) > 80]
        assert wide == [], argv
        assert "…" not in result.stdout, argv
    compare = runner.invoke(app, ["compare", "--help"], env={"COLUMNS": "80"})
    assert "(default: artifacts/compare)" in " ".join(compare.stdout.split())
    top = runner.invoke(app, ["--help"], env={"COLUMNS": "80"}).stdout
    assert "stopped by Ctrl-C" in " ".join(top.split())


def test_quant_report_fits_80_columns_and_names_the_logits(
    artifacts: Path, mnist_dir: Path
) -> None:
    result = runner.invoke(
        app,
        [
            "quant-report",
            str(artifacts / MODEL),
            "--reference",
            str(artifacts / "model_float32.tflite"),
            "--limit",
            "50",
            "--data-dir",
            str(mnist_dir),
        ],
        env={"COLUMNS": "80"},
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 80 and "…" not in result.stdout
    rows = {line.split()[0] for line in lines if line.strip().startswith(("hidden", "logits"))}
    assert rows == {"hidden1", "hidden2", "logits"}
    assert "probabilities" not in result.stdout
    zero_points = [line.split()[-1] for line in lines if line.strip().startswith("hidden")]
    assert zero_points == ["-128", "-128"]
    assert lines[-1].startswith("Worst layer: ")


# --- --plot is refused before any work when matplotlib is missing -------------------------------

_NO_MATPLOTLIB = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == 'matplotlib':
            raise ImportError('matplotlib blocked by the test')
        return None
sys.meta_path.insert(0, _Block())
from edge_mnist.cli import run
run(sys.argv[1:])
"""


def _without_matplotlib(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", _NO_MATPLOTLIB, *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )


@pytest.mark.parametrize("command", ["robustness", "bench", "compare"])
def test_plot_without_matplotlib_fails_before_any_work(
    artifacts: Path, tmp_path: Path, command: str
) -> None:
    empty = tmp_path / "no-mnist"  # work would fail here with a different message
    empty.mkdir()
    report, png = tmp_path / "report.json", tmp_path / "plot.png"
    outputs = ["--json", str(report), "--plot", str(png), "--data-dir", str(empty)]
    argv = {
        "robustness": ["robustness", str(artifacts / MODEL), *outputs],
        "bench": ["bench", str(artifacts / MODEL), "--runs", "1", "-q", *outputs],
        "compare": ["compare", "--arch", "mlp-32", "--bench", "--epochs", "1", *outputs],
    }[command]
    result = _without_matplotlib(*argv)
    assert result.returncode == 2, result.stderr
    assert "--plot needs matplotlib" in result.stderr
    assert "Traceback" not in result.stderr
    assert not report.exists() and not png.exists()
    assert list(tmp_path.iterdir()) == [empty]


def test_the_blocker_blocks(tmp_path: Path) -> None:
    """Without the blocker the same command gets past the matplotlib check (the test above
    would pass for the wrong reason if matplotlib were simply never looked at)."""
    pytest.importorskip("matplotlib")
    code = _NO_MATPLOTLIB.replace("from edge_mnist.cli import run\nrun(sys.argv[1:])", "")
    code += "import importlib\ntry:\n    importlib.import_module('matplotlib')\nexcept ImportError:\n    print('blocked')\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "blocked", result.stderr


@pytest.mark.parametrize("command", ["bench", "info"])
def test_json_dash_prints_only_json_on_stdout(artifacts: Path, command: str) -> None:
    model = str(artifacts / MODEL)
    argv = {
        "bench": ["bench", model, "--batch", "1", "--runs", "3", "--warmup", "0", "-q"],
        "info": ["info", model],
    }[command]
    result = runner.invoke(app, [*argv, "--json", "-"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # no table, no "Wrote" line around it
    if command == "bench":
        assert doc["settings"]["runs"] == 3 and doc["settings"]["batches"] == [1]
        assert [m["name"] for m in doc["models"]] == [MODEL]
    else:
        assert doc["format"] == "tflite" and doc["input"]["shape"][-1] == 784


def test_every_parameter_of_every_command_has_help() -> None:
    """Options and arguments alike: a command built from option specs (spec_options) keeps its
    own parameters' typer.Argument/typer.Option help (annotations are strings under
    ``from __future__ import annotations`` until evaluated)."""
    commands = dict(_commands())
    assert {"bench run", "bench table", "bench gate", "serve"} <= set(commands)
    missing = [
        f"{path}: {param.name} ({param.param_type_name})"
        for path, command in commands.items()
        for param in command.params
        if not (getattr(param, "help", None) or "").strip() and param.name != "help"
    ]
    assert missing == []
