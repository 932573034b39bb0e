"""The CI recipes in examples/ci/ run as written: every shell step of the GitHub Actions workflow
and of the GitLab CI job is executed, in order, in a scratch repository with real MNIST.

Only the install steps are not run (they would install the toolkit from the recipe's
EDGE_MNIST_SOURCE, a git URL, since it is not on a package index; this environment already has
it): their extras are checked against pyproject, and the source is a direct reference. Training is
shortened through the recipes' own EPOCHS variable.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

# A dev dependency: the device-like environments collect this file without it.
yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "examples" / "ci"
GITHUB = RECIPES / "github-actions.yml"
GITLAB = RECIPES / "gitlab-ci.yml"
MODELS = {"model_int8.tflite", "model_float32.tflite", "model_int8.onnx", "model_float32.onnx"}
# One epoch instead of fifty; with the baseline made by a full training, the tolerance must
# cover what one epoch loses (about two points).
SHORT = {"EPOCHS": "1", "TOLERANCE": "5"}
INSTALL = re.compile(r'^python -m pip install "(edge-mnist\[[a-z,]+\]) @ \$EDGE_MNIST_SOURCE"$')

pytestmark = pytest.mark.slow

Step = tuple[str, str, dict[str, str], bool]  # job, command, env, may fail (optional job)


def _github_steps() -> list[Step]:
    doc = yaml.safe_load(GITHUB.read_text())
    steps = []
    for name, job in doc["jobs"].items():
        optional = bool(job.get("continue-on-error"))
        for s in job["steps"]:
            if "run" in s:
                env = {**doc.get("env", {}), **job.get("env", {}), **s.get("env", {})}
                steps.append((name, s["run"].strip(), env, optional))
    return steps


def _gitlab_steps() -> list[Step]:
    doc = yaml.safe_load(GITLAB.read_text())
    steps = []
    for name, job in doc.items():
        if not isinstance(job, dict) or "script" not in job:
            continue
        env = {**doc.get("variables", {}), **job.get("variables", {})}
        for cmd in [*job.get("before_script", []), *job["script"]]:
            steps.append((name, cmd.strip(), env, bool(job.get("allow_failure"))))
    return steps


def _extras() -> set[str]:
    return set(importlib.metadata.metadata("edge-mnist").get_all("Provides-Extra") or [])


def _run_recipe(steps: list[Step], scratch: Path, mnist_dir: Path) -> list[dict[str, Any]]:
    """Run each step with bash in scratch; the installed toolkit stands in for the install."""
    (scratch / "ci").mkdir(parents=True)
    for name in ("baseline.json", "bench-baseline.json"):
        shutil.copy(RECIPES / name, scratch / "ci" / name)
    base = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "EDGE_MNIST_DATA": str(mnist_dir),
        "CI_PROJECT_DIR": str(scratch),
    }
    ran = []
    for job, cmd, env, optional in steps:
        install = INSTALL.match(cmd)
        if install:
            spec = install.group(1)
            assert set(spec[len("edge-mnist[") : -1].split(",")) <= _extras(), spec
            # Not on PyPI: the recipe names where the package comes from.
            assert env["EDGE_MNIST_SOURCE"].startswith(("git+https://", "file://")), env
            continue
        full = {**base, **{k: os.path.expandvars(str(v)) for k, v in env.items()}, **SHORT}
        proc = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", cmd],
            cwd=scratch,
            env=full,
            capture_output=True,
            text=True,
            timeout=900,
        )
        ran.append({"job": job, "cmd": cmd, "code": proc.returncode, "out": proc.stdout})
        # An optional job (latency on shared runners) may fail its check (exit 1), but a broken
        # command line (2) or a crash (3) is a rotten recipe.
        allowed = (0, 1) if optional else (0,)
        assert proc.returncode in allowed, (
            f"{job}: {cmd}\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}"
        )
    return ran


def _check_gate_outputs(scratch: Path) -> None:
    suite = ET.parse(scratch / "artifacts/gate.xml").getroot()
    cases = {c.get("name") for c in suite.iter("testcase")}
    assert cases == MODELS
    assert suite.get("failures") == "0"
    report = json.loads((scratch / "artifacts/gate.json").read_text())
    accuracies = {a["name"]: a["accuracy"] for a in report["artifacts"]}
    assert set(accuracies) == MODELS
    assert all(0.9 < acc <= 1.0 for acc in accuracies.values()), accuracies
    bench = json.loads((scratch / "artifacts/bench.json").read_text())
    assert bench["models"], "the bench job measured nothing"


def _commands(steps: list[Step]) -> list[str]:
    return [cmd for _job, cmd, _env, _opt in steps]


def test_recipes_gate_the_same_way() -> None:
    """Both recipes install the same extras and run the same edge-mnist commands."""
    assert _commands(_github_steps()) == _commands(_gitlab_steps())


def test_committed_baseline_is_a_full_training_report() -> None:
    report = json.loads((RECIPES / "baseline.json").read_text())
    accuracies = {a["name"]: a["accuracy"] for a in report["artifacts"]}
    assert set(accuracies) == MODELS
    assert all(acc > 0.98 for acc in accuracies.values()), accuracies


@pytest.mark.parametrize("recipe", ["github", "gitlab"])
def test_recipe_runs(recipe: str, tmp_path: Path, mnist_dir: Path) -> None:
    steps = _github_steps() if recipe == "github" else _gitlab_steps()
    ran = _run_recipe(steps, tmp_path, mnist_dir)
    assert [r["cmd"].split()[:2] for r in ran][:2] == [
        ["edge-mnist", "pipeline"],
        ["edge-mnist", "check"],
    ]
    assert "Gate passed" in ran[1]["out"]
    _check_gate_outputs(tmp_path)
    if recipe == "github":
        # The same check step fails against the full-training baseline at the recipe's own
        # tolerance: the one-epoch models are below it, so the gate in the recipe can fail.
        check = next(cmd for _job, cmd, _env, _opt in steps if cmd.startswith("edge-mnist check"))
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        env.update(EDGE_MNIST_DATA=str(mnist_dir), TOLERANCE="0.3")
        proc = subprocess.run(
            ["bash", "-c", check], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert proc.returncode == 1, proc.stdout + proc.stderr
        suite = ET.parse(tmp_path / "artifacts/gate.xml").getroot()
        assert int(suite.get("failures", "0")) >= 1
        assert "below the baseline" in (tmp_path / "artifacts/gate.xml").read_text()
