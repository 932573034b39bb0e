"""The README's figures, taken from what a pipeline run writes, never typed by hand.

    python3 .ci/readme_figures.py [ARTIFACTS]          # write docs/figures.json, render README.md
    python3 .ci/readme_figures.py --check ARTIFACTS    # exit 1 naming each figure that differs

Reads ARTIFACTS/train.json and ARTIFACTS/manifest.json (what `edge-mnist pipeline --out ARTIFACTS`
writes), keeps the figures in docs/figures.json (checked in), and replaces the text between each
pair of `<!-- figures:NAME:start -->` / `<!-- figures:NAME:end -->` markers in README.md with the
block rendered from docs/figures.json. Standard library only, so it runs before any install.

`--check` compares a fresh run's figures with docs/figures.json. Wall times are recorded and
shown but never compared: they depend on the machine's load, while the same seed on the same
machine gives the same model, so every accuracy, epoch count and file size must match. "The same
machine" is recorded too: TensorFlow's float kernels differ by instruction set (an AVX-512 CPU
trains another model from the same seed than an AVX2 one), so on another kind of machine the
differences are printed as a notice, not a failure.
tests/unit/test_readme_figures.py fails when README.md and docs/figures.json disagree.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures.json"
README = ROOT / "README.md"
# Figures that vary from run to run on one machine (wall times): shown, never compared.
UNCHECKED = {"train.train_seconds"}
KERAS = "model.keras"
# The training options that make the default recipe's row.
CONFIG_KEYS = (
    "epochs",
    "batch_size",
    "learning_rate",
    "dropout",
    "patience",
    "reduce_lr",
    "cosine",
    "augment",
)


def _float_twin(name: str) -> str:
    """model_int8.onnx -> model_float32.onnx: the file the int8 size is compared with."""
    return name.replace("_int8.", "_float32.")


def machine(tensorflow: str | None) -> dict[str, Any]:
    """What decides which model a seed gives: architecture, vector ISA, TensorFlow's version."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        flags = set()
    isa = next((f for f in ("avx512f", "avx2", "asimd", "neon") if f in flags), "other")
    return {"arch": platform.machine(), "isa": isa, "tensorflow": tensorflow}


def collect(artifacts: Path) -> dict[str, Any]:
    """The figures of one pipeline run in ``artifacts``."""
    try:
        train = json.loads((artifacts / "train.json").read_text())
        manifest = json.loads((artifacts / "manifest.json").read_text())
    except (OSError, ValueError) as e:
        sys.exit(f"{artifacts}: {e}; run 'edge-mnist pipeline --out {artifacts}' first.")
    cfg = train["config"]
    files = [
        {
            "file": name,
            "precision": entry["precision"],
            "size_bytes": entry["size_bytes"],
            "test_accuracy": entry["test_accuracy"],
            "delta_vs_float_pp": entry["delta_vs_float_pp"],
            "top1_agreement": entry["agreement"]["top1_agreement"],
            "agreement_samples": entry["agreement"]["samples"],
        }
        for name, entry in manifest["artifacts"].items()
    ]
    return {
        "generated_by": ".ci/readme_figures.py from train.json and manifest.json of a pipeline run",
        "machine": machine(
            train.get("versions", {}).get("tensorflow-cpu")
            or train.get("versions", {}).get("tensorflow")
        ),
        "train": {
            "arch": train["arch"],
            "parameters": train["parameters"],
            "seed": train["seed"],
            **{k: cfg[k] for k in CONFIG_KEYS},
            "epochs_run": train["epochs_run"],
            "best_epoch": train["best_epoch"],
            "test_accuracy": round(train["metrics"]["test"]["accuracy"], 4),
            "train_seconds": round(train["train_seconds"], 1),
        },
        "artifacts": files,
    }


def _pct(x: float) -> str:
    return f"{x:.2%}"


def _pp(x: float) -> str:
    return "0.00 pp" if x == 0 else f"{x:+.2f} pp".replace("-", "−")


def _recipe(t: dict[str, Any]) -> str:
    if t["cosine"]:
        schedule = f", lr along a cosine over {t['epochs']} epochs"
    else:
        schedule = ", halve lr on plateau" if t["reduce_lr"] else ""
    augment = "augmented, " if t["augment"] else ""
    return (
        f"**default**: {augment}batch {t['batch_size']}, lr {t['learning_rate']:g}, "
        f"dropout {t['dropout']:g}{schedule}, patience {t['patience']}"
    )


def render_blocks(fig: dict[str, Any]) -> dict[str, str]:
    """Each marked block's text (without its markers), keyed by the marker name."""
    t = fig["train"]
    by_name = {a["file"]: a for a in fig["artifacts"]}
    rows = [
        "| file | size | vs float | test accuracy | Δ vs Keras | top-1 agreement with Keras |",
        "|---|---|---|---|---|---|",
        f"| `{KERAS}` (float) | — | — | {_pct(t['test_accuracy'])} | — | — |",
    ]
    for a in fig["artifacts"]:
        twin = by_name.get(_float_twin(a["file"]))
        share = f"{a['size_bytes'] / twin['size_bytes']:.1%}" if twin else "—"
        rows.append(
            f"| `{a['file']}` | {a['size_bytes']:,} B | {share} | {_pct(a['test_accuracy'])} | "
            f"{_pp(a['delta_vs_float_pp'])} | {a['top1_agreement']:.0%} "
            f"(of {a['agreement_samples']:,}) |"
        )
    train = [
        "| recipe | epochs run (best) | train time | test accuracy |",
        "|---|---|---|---|",
        f"| {_recipe(t)} | {t['epochs_run']} ({t['best_epoch']}) | {t['train_seconds']:.0f} s | "
        f"{_pct(t['test_accuracy'])} |",
    ]
    int8 = by_name.get("model_int8.tflite")
    summary = (
        f"`{t['arch']}`, seed {t['seed']}: the float model scores {_pct(t['test_accuracy'])} on "
        f"the 10,000 MNIST test images after {t['epochs_run']} epochs"
    )
    if int8:
        summary += (
            f"; the int8 `model_int8.tflite` ({int8['size_bytes']:,} B) scores "
            f"{_pct(int8['test_accuracy'])}"
        )
    m = fig.get("machine")
    if m:
        # The same seed trains another model on another instruction set: say where this was.
        summary += (
            f" (trained on {m['arch']} with {m['isa']}, TensorFlow {m['tensorflow']}; the same"
            " seed gives the same model on the same kind of machine)"
        )
    return {"summary": summary + ".", "export": "\n".join(rows), "train": "\n".join(train)}


def markers(name: str) -> tuple[str, str]:
    return f"<!-- figures:{name}:start -->", f"<!-- figures:{name}:end -->"


def readme_blocks(text: str) -> dict[str, str]:
    """The text between each pair of figure markers in ``text``, stripped."""
    found = {}
    for name in re.findall(r"<!-- figures:([a-z0-9-]+):start -->", text):
        start, end = markers(name)
        rest = text.split(start, 1)[1]
        if end not in rest:
            sys.exit(f"README: the '{name}' figures block has no end marker ({end}).")
        found[name] = rest.split(end, 1)[0].strip()
    return found


def render_readme(text: str, fig: dict[str, Any]) -> str:
    for name, block in render_blocks(fig).items():
        start, end = markers(name)
        if start not in text or end not in text:
            sys.exit(f"README: the markers of the '{name}' figures block are missing.")
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{block}\n{end}{tail}"
    return text


def _flatten(fig: dict[str, Any]) -> dict[str, Any]:
    flat = {f"train.{k}": v for k, v in fig["train"].items()}
    for a in fig["artifacts"]:
        flat.update({f"{a['file']}.{k}": v for k, v in a.items() if k != "file"})
    return flat


def differences(fresh: dict[str, Any], kept: dict[str, Any]) -> list[str]:
    """One line per figure that differs between two collections (wall times excepted)."""
    new, old = _flatten(fresh), _flatten(kept)
    return [
        f"{key}: docs/figures.json has {old.get(key, 'nothing')}, this run {new.get(key, 'nothing')}"
        for key in sorted(new.keys() | old.keys())
        if key not in UNCHECKED and new.get(key) != old.get(key)
    ]


def _write(path: Path, text: str) -> None:
    """Replace ``path`` in one step, so an interrupted run leaves the old file whole."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifacts", nargs="?", type=Path, default=ROOT / "artifacts")
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    fresh = collect(args.artifacts)
    if args.check:
        kept = json.loads(FIGURES.read_text())
        diff = differences(fresh, kept)
        if diff and kept.get("machine") != fresh["machine"]:
            print(
                f"docs/figures.json was made on {kept.get('machine')}, this run on "
                f"{fresh['machine']}: the same seed trains another model there, so these "
                "differences are a notice, not a failure:",
                file=sys.stderr,
            )
            for line in diff:
                print(f"  {line}", file=sys.stderr)
            return 0
        for line in diff:
            print(f"README figure differs: {line}", file=sys.stderr)
        if diff:
            print(
                "If the change is intended: python3 .ci/readme_figures.py ARTIFACTS",
                file=sys.stderr,
            )
            return 1
        print(f"README figures match {args.artifacts}")
        return 0
    FIGURES.parent.mkdir(exist_ok=True)
    text = render_readme(README.read_text(), fresh)
    _write(FIGURES, json.dumps(fresh, indent=2, ensure_ascii=False) + "\n")
    _write(README, text)
    print(
        f"wrote {FIGURES.relative_to(ROOT)} and the figure blocks of README.md from {args.artifacts}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
