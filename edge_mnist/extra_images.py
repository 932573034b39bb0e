"""A user's own labelled digits, mixed into the training set (``--extra-images DIR``).

The folder is read as ``predict`` and ``robustness --images`` read one (files named
``*_<digit>.png`` or kept in subfolders 0 to 9) and every image goes through the runtime's own
preprocessing, so the model trains on exactly what it will see on the device. A few hundred
digits are lost among 55,000, so with augmentation they are repeated until they make up about a
tenth of an epoch, each repeat drawn afresh; without it (``--plain``) repeats would be identical
copies to memorise, so they go in once. Validation and test stay MNIST's, so early stopping and
the gate mean what they always meant.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_mnist.errors import DataError
from edge_mnist.runtime.errors import EdgeMnistError
from edge_mnist.runtime.labelled import LABELLED_LAYOUT, labelled_files
from edge_mnist.runtime.preprocess import to_mnist

SHARE = 0.1
"""The part of each epoch the extra digits fill, once repeated."""
MAX_IMAGES = 100_000
"""More than this is a dataset, not a few of a user's own digits: train on it directly."""


@dataclass(frozen=True)
class ExtraImages:
    """The preprocessed digits (n, 784) float32 in [0, 1], their labels and where they came from."""

    x: np.ndarray
    y: np.ndarray
    folder: str

    @property
    def digest(self) -> str:
        """sha256 over the preprocessed pixels and labels: what the model was trained on."""
        return hashlib.sha256(self.x.tobytes() + self.y.tobytes()).hexdigest()

    def repeats(self, train_size: int, augment: bool = True) -> int:
        """How many times the digits go into each epoch: enough to fill about SHARE of it when
        augmentation varies each copy, else once."""
        if not augment:
            return 1
        return max(1, math.ceil(SHARE * train_size / ((1 - SHARE) * len(self.y))))

    def record(self, train_size: int, augment: bool = True) -> dict[str, object]:
        """What train.json says of them."""
        return {
            "folder": self.folder,
            "images": len(self.y),
            "per_digit": np.bincount(self.y, minlength=10).tolist(),
            "repeats": self.repeats(train_size, augment),
            "sha256": self.digest,
        }


def check_folder(folder: Path) -> None:
    """Refuse a path that is not a folder (cheap: before MNIST is loaded or TensorFlow starts)."""
    if not folder.is_dir():
        raise DataError(
            f"--extra-images {folder}: not a folder.", f"pass a folder of digits; {LABELLED_LAYOUT}"
        )


def load_extra_images(folder: Path) -> ExtraImages:
    """Read and preprocess every labelled digit in ``folder``; refuse, naming the files, those
    that the preprocessing refuses (a model must not learn from what predict would reject)."""
    check_folder(folder)
    try:
        files = labelled_files(folder)
    except EdgeMnistError as exc:  # no labelled images: the runtime's message, named as ours
        raise DataError(f"--extra-images {exc.problem}", exc.fix) from exc
    if len(files) > MAX_IMAGES:
        raise DataError(
            f"--extra-images {folder}: {len(files):,} images, more than {MAX_IMAGES:,}.",
            "use a smaller folder of your own digits.",
        )
    x = np.empty((len(files), 784), np.float32)
    refused: list[str] = []
    for i, (path, _label) in enumerate(files):
        try:
            x[i] = to_mnist(path).reshape(784)
        except EdgeMnistError as exc:
            refused.append(exc.problem)
    if refused:
        shown = "; ".join(refused[:3]) + (
            f"; and {len(refused) - 3} more" if len(refused) > 3 else ""
        )
        raise DataError(
            f"--extra-images: {len(refused)} of {len(files)} images cannot be read as one digit: "
            f"{shown}",
            "remove or fix them (edge-mnist predict shows why each is refused).",
        )
    y = np.array([label for _path, label in files], np.uint8)
    return ExtraImages(x=x, y=y, folder=str(folder))


def mix_in(
    x: np.ndarray, y: np.ndarray, extra: ExtraImages, augment: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The training arrays with the extra digits appended, repeated (the pipeline shuffles)."""
    k = extra.repeats(len(y), augment)
    return (
        np.concatenate([x, np.tile(extra.x, (k, 1))]),
        np.concatenate([y, np.tile(extra.y, k).astype(y.dtype)]),
    )
