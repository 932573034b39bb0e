"""Train an MLP on MNIST with early stopping on validation loss, and save it with its record."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge_mnist.data import Mnist
from edge_mnist.errors import UsageError
from edge_mnist.extra_images import ExtraImages, check_folder, load_extra_images, mix_in
from edge_mnist.fileio import ensure_dir
from edge_mnist.models import DEFAULT_ARCH, build_model, get_architecture
from edge_mnist.runtime.artifacts import KERAS_FILE, TRAIN_FILE
from edge_mnist.runtime.atomic import atomic_path, remove_stale_temporaries
from edge_mnist.runtime.jsonfile import write_json
from edge_mnist.tf import import_tf, quiet_native_stderr, versions

# Called after each epoch with (epoch number from 1, logs, seconds the epoch took).
EpochFn = Callable[[int, dict[str, float], float], None]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the trained model. The defaults are the measured best recipe for
    real handwriting (docs/2026-12-03-default-recipe.md); ``plain()`` is the notebook's."""

    arch: str = DEFAULT_ARCH
    epochs: int = 55
    patience: int = 5
    batch_size: int = 512
    learning_rate: float = 3e-3
    dropout: float = 0.2
    reduce_lr: bool = True
    cosine: bool = True
    """Decay the learning rate along a half cosine over ``epochs`` (a fixed budget) instead of
    halving it on a plateau; early stopping still restores the best epoch."""
    seed: int = 42
    augment: bool = True
    """Random affine, elastic, resolution and stroke-width changes to the training images (input
    pipeline only: the model is the same graph either way)."""
    extra_images: str | None = None
    """A folder of the user's own labelled digits mixed into the training set."""

    @classmethod
    def plain(cls, **changes: Any) -> TrainConfig:
        """The notebook's recipe (no augmentation, early stopping on a plateau schedule), for
        comparison; ``changes`` override it field by field."""
        return replace(cls(), **{**PLAIN_RECIPE, **changes})

    def validate(self) -> None:
        """Reject values that cannot train."""
        get_architecture(self.arch)
        for name in ("epochs", "patience", "batch_size"):
            if getattr(self, name) < (0 if name == "patience" else 1):
                raise UsageError(
                    f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}."
                )
        if not self.learning_rate > 0:
            raise UsageError(f"--learning-rate must be positive, got {self.learning_rate}.")
        if not 0.0 <= self.dropout < 1.0:
            raise UsageError(f"--dropout must be in [0, 1), got {self.dropout}.")
        if self.extra_images is not None:
            check_folder(Path(self.extra_images))


# What --plain changes: the defaults before augmentation became the default (98.5% on MNIST).
PLAIN_RECIPE: dict[str, Any] = {
    "epochs": 50,
    "batch_size": 256,
    "learning_rate": 2e-3,
    "cosine": False,  # so reduce_lr (on in both) halves the step on plateaus
    "augment": False,
}


@dataclass
class TrainResult:
    """A trained model and the record written beside it."""

    model: Any
    record: dict[str, Any] = field(default_factory=dict)


def _callbacks(tf: Any, config: TrainConfig, on_epoch: EpochFn | None) -> list[Any]:
    keras = tf.keras
    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=config.patience, restore_best_weights=True
        )
    ]
    if config.cosine:
        # One smooth decay over the whole budget converges in fewer epochs than waiting for
        # plateaus (docs/2026-12-03-training-recipes.md, "Cheaper augmentation").
        base, floor = config.learning_rate, config.learning_rate / 100
        span = max(1, config.epochs - 1)

        def cosine(epoch: int, lr: float) -> float:
            return floor + (base - floor) * 0.5 * (1 + math.cos(math.pi * min(epoch, span) / span))

        callbacks.append(keras.callbacks.LearningRateScheduler(cosine))
    elif config.reduce_lr:
        # Halving the step when validation loss stalls buys the last tenths of a point.
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor="val_loss",
                factor=0.5,
                patience=max(1, config.patience // 2 - 1),
                min_lr=1e-5,
            )
        )
    if on_epoch is not None:
        report = on_epoch

        class Report(keras.callbacks.Callback):  # type: ignore[misc, name-defined]
            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                values = {k: float(v) for k, v in (logs or {}).items()}
                report(epoch + 1, values, time.perf_counter() - self.start)

        callbacks.append(Report())
    return callbacks


def _train_input(
    tf: Any, config: TrainConfig, data: Mnist, extra: ExtraImages | None
) -> dict[str, Any]:
    """model.fit's training-data arguments: the arrays as they are, or augmented batches."""
    x, y = data.x_train, data.y_train
    if extra is not None:
        x, y = mix_in(x, y, extra, config.augment)
    if not config.augment:
        return {
            "x": x,
            "y": y,
            "batch_size": config.batch_size,
            "shuffle": True,
        }
    from edge_mnist.augment import augmented_dataset

    batches, steps = augmented_dataset(tf, x, y, config.batch_size, config.seed)
    # The pipeline shuffles (statelessly, per epoch); Keras cannot shuffle a dataset.
    return {"x": batches, "steps_per_epoch": steps, "shuffle": False}


def fit(config: TrainConfig, data: Mnist, on_epoch: EpochFn | None = None) -> TrainResult:
    """Train one model in memory; return it with its record (history, accuracies, times)."""
    config.validate()
    # Read the user's digits before TensorFlow starts: a bad folder fails in a second.
    extra = None if config.extra_images is None else load_extra_images(Path(config.extra_images))
    tf = import_tf()
    tf.keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    model = build_model(config.arch, config.dropout)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    with quiet_native_stderr():
        start = time.perf_counter()
        history = model.fit(
            **_train_input(tf, config, data, extra),
            epochs=config.epochs,
            validation_data=(data.x_val, data.y_val),
            callbacks=_callbacks(tf, config, on_epoch),
            verbose=0,
        )
        train_seconds = time.perf_counter() - start
        hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        epochs_run = len(hist["loss"])
        best_epoch = int(np.argmin(hist["val_loss"])) + 1
        metrics = {}
        for split, x, y in (
            ("train", data.x_train, data.y_train),
            ("validation", data.x_val, data.y_val),
            ("test", data.x_test, data.y_test),
        ):
            loss, acc = model.evaluate(x, y, batch_size=1024, verbose=0)
            metrics[split] = {"accuracy": float(acc), "loss": float(loss)}
    record = {
        "arch": config.arch,
        "parameters": int(model.count_params()),
        "epochs_run": epochs_run,
        "best_epoch": best_epoch,
        "stopped_early": epochs_run < config.epochs,
        "metrics": metrics,
        "train_seconds": round(train_seconds, 2),
        "seed": config.seed,
        "config": asdict(config),
        "history": hist,
        "versions": versions(),
        "data_md5": data.checksums,
    }
    if extra is not None:
        record["extra_images"] = extra.record(len(data.y_train), config.augment)
    return TrainResult(model=model, record=record)


def _refuse_overwrite(out: Path, force: bool) -> None:
    if (out / KERAS_FILE).exists() and not force:
        raise UsageError(
            f"{out / KERAS_FILE} already exists.",
            "pass --force to overwrite it, or choose another --out.",
        )


def save(result: TrainResult, out: Path, force: bool = False) -> Path:
    """Write model.keras and train.json atomically into ``out``; refuse to overwrite unless forced."""
    ensure_dir(out)
    _refuse_overwrite(out, force)
    model_path = out / KERAS_FILE
    with atomic_path(model_path, suffix=".keras") as tmp:
        result.model.save(tmp)
    write_json(out / TRAIN_FILE, result.record)
    return model_path


def train(
    config: TrainConfig,
    data: Mnist,
    out: Path,
    force: bool = False,
    on_epoch: EpochFn | None = None,
) -> TrainResult:
    """Train, then save model.keras and train.json into ``out``."""
    config.validate()
    # Refuse before training rather than after: an existing model, an unwritable folder.
    _refuse_overwrite(out, force)
    ensure_dir(out)
    remove_stale_temporaries(out)
    started = time.perf_counter()
    result = fit(config, data, on_epoch)
    result.record["wall_seconds"] = round(time.perf_counter() - started, 2)
    save(result, out, force=True)
    return result
