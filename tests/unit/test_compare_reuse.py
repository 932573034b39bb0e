"""compare --reuse keeps a trained model only for the same recipe and, with --extra-images, the
same digits in the folder (its name alone is not enough). No training: a record on disk."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from PIL import Image, ImageDraw

from edge_mnist.compare import _reusable
from edge_mnist.extra_images import load_extra_images
from edge_mnist.runtime.artifacts import KERAS_FILE, TRAIN_FILE
from edge_mnist.train import TrainConfig


def _digit(path: Path, x: int) -> None:
    image = Image.new("L", (64, 64), 255)
    ImageDraw.Draw(image).line([(x, 8), (x, 56)], fill=0, width=6)
    image.save(path)


def test_a_model_is_reused_only_for_the_same_digits(tmp_path: Path) -> None:
    digits = tmp_path / "mine"
    digits.mkdir()
    _digit(digits / "a_1.png", 32)
    config = TrainConfig(epochs=1, extra_images=str(digits))
    model = tmp_path / "model"
    model.mkdir()
    (model / KERAS_FILE).write_bytes(b"a model")
    record = {
        "config": asdict(config),
        "extra_images": load_extra_images(digits).record(55_000),
    }
    (model / TRAIN_FILE).write_text(json.dumps(record))
    assert _reusable(model, config) == record
    assert _reusable(model, TrainConfig(epochs=2, extra_images=str(digits))) is None
    _digit(digits / "b_1.png", 20)  # the same folder, one digit more
    assert _reusable(model, config) is None
