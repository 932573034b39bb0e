"""Classify image files, folders of images and IDX image files; optionally score against labels."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .classifier import Classifier
from .errors import EdgeMnistError, InvalidInputError
from .idx import read_idx
from .labelled import IMAGE_SUFFIXES, has_digit_folders, is_image_file, labelled_files

IDX_IMAGES_MAGIC = b"\x00\x00\x08\x03"
BATCH = 1000


@dataclass(frozen=True)
class ItemResult:
    """One classified image (or the error that stopped it)."""

    source: str
    digit: int | None
    confidence: float | None
    top3: list[tuple[int, float]] = field(default_factory=list)
    label: int | None = None
    error: str | None = None
    uncertain: bool = False
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "digit": self.digit,
            "confidence": self.confidence,
            "top3": [{"digit": d, "probability": p} for d, p in self.top3],
            "label": self.label,
            "error": self.error,
            "uncertain": self.uncertain,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PredictReport:
    """Every item's result, and accuracy when labels were given."""

    items: list[ItemResult]

    @property
    def errors(self) -> int:
        return sum(i.error is not None for i in self.items)

    @property
    def accuracy(self) -> float | None:
        scored = [i for i in self.items if i.label is not None and i.digit is not None]
        return None if not scored else sum(i.digit == i.label for i in scored) / len(scored)

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": len(self.items),
            "errors": self.errors,
            "accuracy": self.accuracy,
            "items": [i.to_dict() for i in self.items],
        }


def is_idx_images(path: Path) -> bool:
    """True for an IDX file of images (raw or gzip), judged by its magic number."""
    try:
        with path.open("rb") as f:
            head = f.read(4)
            if head[:2] == b"\x1f\x8b":
                f.seek(0)
                with gzip.open(f) as g:
                    head = g.read(4)
    except (OSError, EOFError, zlib.error):
        return False
    return head == IDX_IMAGES_MAGIC


def expand_labelled(inputs: Iterable[Path]) -> list[tuple[Path, int | None]]:
    """Files as given (no label), folders expanded to their image files (sorted): a folder with
    subfolders named 0 to 9 is read as labelled digits (see labelled.py), its files with their
    label."""
    files: list[tuple[Path, int | None]] = []
    for path in inputs:
        if path.is_dir():
            if has_digit_folders(path):
                files.extend(labelled_files(path))
                continue
            found = sorted(p for p in path.iterdir() if is_image_file(p))
            if not found:
                raise InvalidInputError(
                    f"{path}: no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder.",
                    "pass image files, or a folder of them (or of subfolders named 0 to 9).",
                )
            files.extend((p, None) for p in found)
        elif path.exists():
            files.append((path, None))
        else:
            raise InvalidInputError(f"{path}: no such file or folder.")
    return files


def expand_inputs(inputs: Iterable[Path]) -> list[Path]:
    """Files as given, folders expanded to their image files (sorted)."""
    return [path for path, _label in expand_labelled(inputs)]


def _batch_items(
    clf: Classifier, images: np.ndarray, names: list[str], labels: np.ndarray | None
) -> list[ItemResult]:
    items = []
    for start in range(0, len(images), BATCH):
        pred = clf.predict(images[start : start + BATCH])
        for j, top in enumerate(pred.top(3)):
            k = start + j
            items.append(
                ItemResult(
                    names[k], top[0][0], top[0][1], top, None if labels is None else int(labels[k])
                )
            )
    return items


def classify_inputs(
    clf: Classifier,
    inputs: Iterable[Path],
    labels: Path | None = None,
    limit: int | None = None,
) -> PredictReport:
    """Classify every input (the first ``limit`` images of them all, in order); a bad image is
    reported as an item error, not a crash."""
    labelled = expand_labelled(inputs)
    files = [path for path, _label in labelled]
    idx_files = [p for p in files if is_idx_images(p)]
    if labels is not None and (len(files) != 1 or not idx_files):
        raise InvalidInputError("--labels goes with exactly one IDX images file as input.")
    items: list[ItemResult] = []
    for path, label in labelled:
        room = None if limit is None else limit - len(items)
        if room is not None and room <= 0:
            break
        if path in idx_files:
            images = read_idx(path)[:room]
            y = None
            if labels is not None:
                y = read_idx(labels)[:room]
                if y.ndim != 1 or y.dtype.kind not in "ui":
                    raise InvalidInputError(
                        f"{labels}: not an IDX labels file (got {y.dtype} data of shape {y.shape}).",
                        "pass t10k-labels-idx1-ubyte[.gz] with --labels.",
                    )
                if len(y) != len(images):
                    raise InvalidInputError(
                        f"{labels} holds {len(y)} labels for {len(images)} images."
                    )
            names = [f"{path.name}[{i}]" for i in range(len(images))]
            items.extend(_batch_items(clf, images, names, y))
            continue
        try:
            pred = clf.classify_image(path)
        except EdgeMnistError as exc:
            items.append(ItemResult(str(path), None, None, label=label, error=str(exc)))
            continue
        top = pred.top(3)[0]
        items.append(
            ItemResult(
                str(path), top[0][0], top[0][1], top, label, None, pred.uncertain, pred.reason
            )
        )
    return PredictReport(items)
