"""The scale-out recipes in examples/ci/ run as written: every shell step of the sweep and fleet
workflows (GitHub Actions and GitLab CI) is executed, job by job and matrix entry by matrix
entry, in one scratch folder that stands in for the artifacts passed between jobs.

Stand-ins, each the recipe's own knob: the sweep's ARCHS and EPOCHS (three tiny architectures,
one epoch); the fleet's gated models are the tiny fixture models (tests/fixtures/tiny-16), every
board of the matrix is simulated on this machine under its --board name, and MAX_REGRESSION is
wide (this machine is shared). Install steps are not run (this environment has the toolkit):
their extras are checked against pyproject. 'edge-mnist doctor' and 'verify' steps are skipped,
and said so, while those commands do not exist in this checkout.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "examples" / "ci"
TINY = ROOT / "tests" / "fixtures" / "tiny-16"
INSTALL = re.compile(
    r'^python3? -m pip install "edge-mnist(?:\[([^\]]+)\])? @ \$EDGE_MNIST_SOURCE"$'
)
SWEEP_ENV = {"ARCHS": "--arch mlp-32 --arch mlp-64x2 --arch mlp-128", "EPOCHS": "1"}
FLEET_ENV = {"MAX_REGRESSION": "1000%"}
BOARDS = {"pi5", "pi4", "zero2w", "pi3-32bit"}

pytestmark = pytest.mark.slow

Step = tuple[str, str, dict[str, str]]  # job, command, env


def _github_matrix(job: dict[str, Any]) -> list[dict[str, str]]:
    matrix = (job.get("strategy") or {}).get("matrix")
    if not matrix:
        return [{}]
    if "include" in matrix:
        return [{k: str(v) for k, v in entry.items()} for entry in matrix["include"]]
    keys = list(matrix)
    return [
        {k: str(v) for k, v in zip(keys, combo, strict=True)}
        for combo in itertools.product(*(matrix[k] for k in keys))
    ]


def _expand(value: Any, matrix: dict[str, str]) -> str:
    return re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", lambda m: matrix[m.group(1)], str(value))


def github_steps(name: str) -> list[Step]:
    doc = yaml.safe_load((RECIPES / name).read_text())
    steps = []
    for job_name, job in doc["jobs"].items():
        for matrix in _github_matrix(job):
            for s in job["steps"]:
                if "run" in s:
                    env = {**doc.get("env", {}), **job.get("env", {}), **s.get("env", {})}
                    env = {k: _expand(v, matrix) for k, v in env.items()}
                    steps.append((job_name, s["run"].strip(), env))
    return steps


def _gitlab_instances(job: dict[str, Any]) -> list[dict[str, str]]:
    parallel = job.get("parallel")
    if parallel is None:
        return [{}]
    if isinstance(parallel, int):
        return [
            {"CI_NODE_INDEX": str(i), "CI_NODE_TOTAL": str(parallel)}
            for i in range(1, parallel + 1)
        ]
    out = []
    for entry in parallel["matrix"]:
        keys = list(entry)
        lists = [v if isinstance(v, list) else [v] for v in entry.values()]
        out += [
            dict(zip(keys, map(str, combo), strict=True)) for combo in itertools.product(*lists)
        ]
    return out


def gitlab_steps(name: str) -> list[Step]:
    doc = yaml.safe_load((RECIPES / name).read_text())
    steps = []
    for job_name, job in doc.items():
        if not isinstance(job, dict) or "script" not in job:
            continue
        for instance in _gitlab_instances(job):
            env = {**doc.get("variables", {}), **job.get("variables", {}), **instance}
            for cmd in [*job.get("before_script", []), *job["script"]]:
                steps.append((job_name, cmd.strip(), env))
    return steps


def _has_command(name: str) -> bool:
    proc = subprocess.run(
        [sys.executable, "-m", "edge_mnist", name, "--help"], capture_output=True, text=True
    )
    return proc.returncode == 0


def run_steps(
    steps: list[Step], scratch: Path, knobs: dict[str, str], skipped: list[str]
) -> list[dict[str, Any]]:
    """Run each step with bash in scratch; install steps are checked, not run."""
    extras = set(importlib.metadata.metadata("edge-mnist").get_all("Provides-Extra") or [])
    base = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
    }
    present = {name: _has_command(name) for name in ("doctor", "verify")}
    ran = []
    for job, cmd, env in steps:
        full = {**base, **{k: str(v) for k, v in env.items()}, **knobs}
        install = INSTALL.match(cmd)
        if install:
            listed = os.path.expandvars(install.group(1) or "")
            listed = re.sub(r"\$(\w+)", lambda m, env=full: env[m.group(1)], listed)
            for extra in filter(None, listed.split(",")):
                assert extra in extras, f"{job}: extra {extra!r} is not in pyproject"
            assert env["EDGE_MNIST_SOURCE"].startswith(("git+https://", "file://")), env
            continue
        missing = [n for n, ok in present.items() if not ok and f"edge-mnist {n} " in cmd]
        if missing:
            skipped.append(f"{job}: {cmd}")
            continue
        proc = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", cmd],
            cwd=scratch,
            env=full,
            capture_output=True,
            text=True,
            timeout=900,
        )
        ran.append(
            {
                "job": job,
                "cmd": cmd,
                "code": proc.returncode,
                "out": proc.stdout,
                "err": proc.stderr,
            }
        )
    return ran


def _ok(ran: list[dict[str, Any]]) -> None:
    for r in ran:
        assert r["code"] == 0, f"{r['job']}: {r['cmd']}\n{r['out'][-2000:]}{r['err'][-3000:]}"


SWEEPS = {
    "github": ("github-sweep.yml", github_steps),
    "gitlab": ("gitlab-sweep.yml", gitlab_steps),
}
FLEETS = {
    "github": ("github-fleet.yml", github_steps),
    "gitlab": ("gitlab-fleet.yml", gitlab_steps),
}


@pytest.mark.mnist
@pytest.mark.parametrize("engine", list(SWEEPS))
def test_sweep_recipe_runs(engine: str, tmp_path: Path, mnist_dir: Path) -> None:
    name, read = SWEEPS[engine]
    steps = read(name)
    shards = [s for s in steps if "--shard" in s[1]]
    assert len(shards) == 3, "the recipe fans the sweep out over three jobs"
    ran = run_steps(steps, tmp_path, {**SWEEP_ENV, "EDGE_MNIST_DATA": str(mnist_dir)}, [])
    _ok(ran)
    parts = sorted((tmp_path / "sweep").glob("part-*.json"))
    assert [p.name for p in parts] == ["part-1.json", "part-2.json", "part-3.json"]
    assert [ran[i]["cmd"].split()[:3] for i in (0, -1)] == [
        ["edge-mnist", "compare", "$ARCHS"],
        ["edge-mnist", "compare", "merge"],
    ]
    merged = json.loads((tmp_path / "sweep" / "compare.json").read_text())
    assert [r["arch"] for r in merged["rows"]] == ["mlp-32", "mlp-64x2", "mlp-128"]
    assert sum(r["best"] for r in merged["rows"]) == 1
    assert all(0.85 < r["int8_accuracy"] < 1 for r in merged["rows"])
    assert "mlp-128" in ran[-1]["out"] and "Pareto" in ran[-1]["out"]


@pytest.mark.parametrize("engine", list(FLEETS))
def test_fleet_recipe_runs(engine: str, tmp_path: Path) -> None:
    name, read = FLEETS[engine]
    steps = read(name)
    models = tmp_path / "ci" / "models"
    models.mkdir(parents=True)
    # The manifest too, as a gated models folder has it (verify may read it).
    for f in ("model_int8.tflite", "model_float32.tflite", "manifest.json"):
        shutil.copy(TINY / f, models / f)
    boards = [s for s in steps if s[1].startswith("edge-mnist bench $MODELS")]
    assert {s[2]["BOARD"] for s in boards} == BOARDS
    board_steps = [s for s in steps if s[0] in ("board", "fleet-board")]
    fan_in = [s for s in steps if s not in board_steps]
    skipped: list[str] = []
    _ok(run_steps(board_steps, tmp_path, FLEET_ENV, skipped))
    reports = {p.stem for p in (tmp_path / "reports").glob("*.json")}
    assert reports == BOARDS
    # No baselines yet: the gate stops with exit 2 and the command that records one.
    ran = run_steps(fan_in, tmp_path, FLEET_ENV, skipped)
    table, gate = ran
    assert table["code"] == 0, table["err"]
    doc = json.loads((tmp_path / "fleet" / "table.json").read_text())
    assert sorted(doc["boards"]) == sorted(BOARDS)
    assert {r["model"] for r in doc["rows"]} == {"model_int8.tflite", "model_float32.tflite"}
    assert sum(r["fastest"] for r in doc["rows"]) == len(
        {(r["model"], r["batch"], r["mode"]) for r in doc["rows"]}
    )
    assert gate["code"] == 2, gate["err"]
    assert "--board pi3-32bit --json ci/bench-baselines/pi3-32bit.json" in gate["err"]
    # Accept this run's reports as the baselines: the gate passes, naming every board.
    shutil.copytree(
        tmp_path / "reports",
        tmp_path / "ci" / "bench-baselines",
        ignore=shutil.ignore_patterns("doctor.json", "*/"),
    )
    ran = run_steps(fan_in, tmp_path, FLEET_ENV, skipped)
    _ok(ran)
    verdict = json.loads((tmp_path / "fleet" / "gate.json").read_text())
    assert verdict["passed"] and {b["board_id"] for b in verdict["boards"]} == BOARDS
    if skipped:
        assert all("edge-mnist doctor" in s or "edge-mnist verify" in s for s in skipped)
        print(f"skipped (commands not in this checkout): {skipped}")
