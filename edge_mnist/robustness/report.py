"""The robustness report: a model's accuracy on MNIST test digits under named variations.

Every image takes the path a user's file takes (uint8 image -> PIL -> ``to_mnist`` -> the
classifier), so the figures measure the preprocessing and the model together. An image the
preprocessing refuses counts as wrong and is reported as rejected.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from edge_mnist.errors import UsageError
from edge_mnist.robustness.variations import VARIATIONS, Variation
from edge_mnist.runtime import Classifier
from edge_mnist.runtime.errors import ImageError
from edge_mnist.runtime.labelled import labelled_files
from edge_mnist.runtime.preprocess import load_image, to_mnist

SCHEMA_FILE = Path(__file__).with_name("report.schema.json")
CLEAN = "clean"
# Called with (row name, images done, images in the row).
ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Row:
    """Accuracy of one variation (or the clean baseline, or a folder of images)."""

    name: str
    description: str
    total: int
    correct: int
    rejected: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def to_dict(self, baseline: float) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "images": self.total,
            "correct": self.correct,
            "rejected": self.rejected,
            "accuracy": round(self.accuracy, 6),
            "delta_pp": round(100 * (self.accuracy - baseline), 3),
        }


@dataclass
class RobustnessReport:
    """The clean baseline, one row per variation, and any labelled folders."""

    model: str
    backend: str
    seed: int
    images: int
    baseline: Row
    variations: list[Row] = field(default_factory=list)
    folders: list[Row] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        base = self.baseline.accuracy
        return {
            "model": self.model,
            "backend": self.backend,
            "seed": self.seed,
            "images": self.images,
            "baseline": self.baseline.to_dict(base),
            "variations": [r.to_dict(base) for r in self.variations],
            "folders": [r.to_dict(base) for r in self.folders],
            "seconds": round(self.seconds, 2),
        }


def variation_rng(seed: int, name: str, index: int) -> np.random.Generator:
    """The generator for one image under one variation: independent of --limit and order."""
    return np.random.default_rng([seed, zlib.crc32(name.encode()), index])


def pick_images(count: int, limit: int | None, seed: int) -> np.ndarray:
    """Indices of the test images to use: all, or a seeded sample of ``limit`` (sorted)."""
    if limit is None or limit >= count:
        return np.arange(count)
    if limit < 1:
        raise UsageError(f"--limit must be positive, got {limit}.")
    return np.sort(np.random.default_rng(seed).choice(count, limit, replace=False))


def _score(
    clf: Classifier,
    name: str,
    description: str,
    load: Callable[[int], Any],
    labels: np.ndarray,
    progress: ProgressFn,
) -> Row:
    canvases = np.zeros((len(labels), 28, 28), dtype=np.float32)
    ok = np.zeros(len(labels), dtype=bool)
    step = max(1, len(labels) // 20)
    for i in range(len(labels)):
        try:
            canvases[i] = to_mnist(load(i))
            ok[i] = True
        except ImageError:
            pass
        if (i + 1) % step == 0 or i + 1 == len(labels):
            progress(name, i + 1, len(labels))
    correct = 0
    if ok.any():
        digits = clf.predict(canvases[ok]).digits
        correct = int((digits == labels[ok]).sum())
    return Row(name, description, len(labels), correct, int((~ok).sum()))


def run_variations(
    clf: Classifier,
    images: np.ndarray,
    labels: np.ndarray,
    seed: int = 0,
    variations: Sequence[Variation] = VARIATIONS,
    progress: ProgressFn | None = None,
) -> tuple[Row, list[Row]]:
    """The clean baseline and one row per variation for uint8 (N, 28, 28) MNIST images."""
    report = progress or (lambda _name, _done, _total: None)
    pictures = images.reshape(-1, 28, 28)

    def clean(i: int) -> Image.Image:
        return Image.fromarray(pictures[i])

    baseline = _score(clf, CLEAN, "MNIST test digits as they are", clean, labels, report)
    rows = []
    for v in variations:

        def varied(i: int, v: Variation = v) -> Image.Image:
            return Image.fromarray(v.apply(pictures[i], variation_rng(seed, v.name, i)))

        rows.append(_score(clf, v.name, v.description, varied, labels, report))
    return baseline, rows


def run_folder(clf: Classifier, folder: Path, progress: ProgressFn | None = None) -> Row:
    """Accuracy on a folder of labelled images (unreadable files count as rejected)."""
    files = labelled_files(folder)
    labels = np.array([label for _, label in files])

    def load(i: int) -> Image.Image:
        return load_image(files[i][0])

    report = progress or (lambda _name, _done, _total: None)
    return _score(clf, str(folder), "labelled images", load, labels, report)


def robustness_report(
    model: Path,
    *,
    backend: str | None = None,
    limit: int | None = None,
    images_dirs: Sequence[Path] = (),
    seed: int = 0,
    data_dir: Path | None = None,
    progress: ProgressFn | None = None,
) -> RobustnessReport:
    """Load the model and MNIST's test set, and score every variation and labelled folder."""
    import time

    from edge_mnist.data import load_test_split

    pick_images(10_000, limit, seed)  # reject a bad --limit before loading anything
    for folder in images_dirs:
        labelled_files(folder)
    clf = Classifier.load(model, backend=backend)
    images, labels = load_test_split(data_dir)
    chosen = pick_images(len(labels), limit, seed)
    start = time.perf_counter()
    baseline, rows = run_variations(clf, images[chosen], labels[chosen], seed, progress=progress)
    folders = [run_folder(clf, folder, progress) for folder in images_dirs]
    return RobustnessReport(
        model=str(model),
        backend=clf.info.backend,
        seed=seed,
        images=len(chosen),
        baseline=baseline,
        variations=rows,
        folders=folders,
        seconds=time.perf_counter() - start,
    )


def plot_report(report: RobustnessReport, path: Path) -> None:
    """A horizontal bar chart of accuracy per row, the clean baseline as a line (matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError(
            "--plot needs matplotlib, which is not installed.",
            "pip install 'edge-mnist[plot]' (or matplotlib), or leave out --plot.",
        ) from None
    from edge_mnist.runtime.atomic import atomic_path

    rows = [report.baseline, *report.variations, *report.folders]
    names = [r.name for r in rows][::-1]
    values = [100 * r.accuracy for r in rows][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(rows) + 1.2))
    ax.barh(names, values, color="#4c72b0")
    ax.axvline(100 * report.baseline.accuracy, color="#c44e52", linestyle="--", label="clean")
    ax.set_xlim(max(0.0, min(values) - 5), 100)
    ax.set_xlabel("accuracy (%)")
    ax.set_title(
        f"{Path(report.model).name}: {report.images} MNIST test digits, seed {report.seed}"
    )
    for y, value in enumerate(values):
        ax.text(value, y, f" {value:.1f}", va="center", fontsize=8)
    ax.legend(loc="lower right")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
