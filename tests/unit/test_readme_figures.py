"""The README's figures are the ones in docs/figures.json, as .ci/readme_figures.py renders them.

docs/figures.json is written from a pipeline run's train.json and manifest.json; the README's
marked blocks must be exactly what it renders, and every figure it holds must appear in them.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FIGURES = ROOT / "docs" / "figures.json"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "readme_figures", ROOT / ".ci" / "readme_figures.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _generator()


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    kept: dict[str, Any] = json.loads(FIGURES.read_text())
    return kept


def test_every_marked_block_is_what_figures_json_renders(figures: dict[str, Any]) -> None:
    rendered = gen.render_blocks(figures)
    in_readme = gen.readme_blocks(README.read_text())
    assert set(in_readme) == set(rendered), "README's figure blocks and the generator's differ"
    for name, block in rendered.items():
        assert in_readme[name] == block.strip(), (
            f"README's '{name}' figures differ from docs/figures.json: "
            "run python3 .ci/readme_figures.py ARTIFACTS"
        )


def test_every_figure_in_figures_json_is_in_the_readme(figures: dict[str, Any]) -> None:
    blocks = "\n".join(gen.readme_blocks(README.read_text()).values())
    t = figures["train"]
    wanted = [f"{t['test_accuracy']:.2%}", f"{t['epochs_run']} ({t['best_epoch']})"]
    for a in figures["artifacts"]:
        wanted += [f"`{a['file']}`", f"{a['size_bytes']:,} B", f"{a['test_accuracy']:.2%}"]
    missing = [w for w in wanted if w not in blocks]
    assert not missing, f"figures in docs/figures.json that the README does not show: {missing}"


def test_a_changed_figure_fails_the_comparison(figures: dict[str, Any]) -> None:
    changed = json.loads(json.dumps(figures))
    changed["artifacts"][0]["test_accuracy"] = 0.5
    changed["train"]["train_seconds"] += 100  # wall times are shown, never compared
    assert gen.differences(figures, figures) == []
    diff = gen.differences(changed, figures)
    assert len(diff) == 1 and diff[0].startswith(f"{figures['artifacts'][0]['file']}.test_accuracy")
    # And the rendered README would no longer match.
    text = gen.render_readme(README.read_text(), changed)
    assert gen.readme_blocks(text) != gen.readme_blocks(README.read_text())


def test_check_names_each_differing_figure(
    tmp_path: Path, figures: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--check on a run whose figures differ exits 1 and names them; on equal figures 0; on
    another kind of machine (another model from the same seed) the differences are a notice."""
    # The kept figures as if recorded on this machine, whatever machine runs the test.
    kept = dict(figures, machine=gen.machine("9.9.9"))
    kept_file = tmp_path / "figures.json"
    kept_file.write_text(json.dumps(kept))
    monkeypatch.setattr(gen, "FIGURES", kept_file)
    run = tmp_path / "run"
    run.mkdir()
    train = {
        "versions": {"tensorflow": "9.9.9"},
        "arch": figures["train"]["arch"],
        "parameters": figures["train"]["parameters"],
        "seed": figures["train"]["seed"],
        "epochs_run": figures["train"]["epochs_run"] + 1,
        "best_epoch": figures["train"]["best_epoch"],
        "train_seconds": 1.0,
        "metrics": {"test": {"accuracy": figures["train"]["test_accuracy"]}},
        "config": {k: figures["train"][k] for k in gen.CONFIG_KEYS},
    }
    manifest = {
        "artifacts": {
            a["file"]: {
                "precision": a["precision"],
                "size_bytes": a["size_bytes"],
                "test_accuracy": a["test_accuracy"],
                "delta_vs_float_pp": a["delta_vs_float_pp"],
                "agreement": {
                    "top1_agreement": a["top1_agreement"],
                    "samples": a["agreement_samples"],
                },
            }
            for a in figures["artifacts"]
        }
    }
    (run / "train.json").write_text(json.dumps(train))
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert gen.main(["--check", str(run)]) == 1
    kept_file.write_text(json.dumps(dict(kept, machine=dict(kept["machine"], isa="elsewhere"))))
    assert gen.main(["--check", str(run)]) == 0
    kept_file.write_text(json.dumps(kept))
    train["epochs_run"] -= 1
    (run / "train.json").write_text(json.dumps(train))
    assert gen.main(["--check", str(run)]) == 0
