"""Training on real MNIST with real TensorFlow: accuracy, the train.json record, overwriting,
determinism and config validation. Reuses the session's 2-epoch model; adds one pair of 1-epoch
trainings (same seed) for determinism and --force."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge_mnist.data import FILES
from edge_mnist.errors import UsageError
from edge_mnist.models import UnknownArchitectureError
from edge_mnist.runtime.artifacts import KERAS_FILE as MODEL_FILE
from edge_mnist.runtime.artifacts import TRAIN_FILE as RECORD_FILE
from edge_mnist.train import TrainConfig, TrainResult, fit, save, train

HISTORY_KEYS = {"loss", "accuracy", "val_loss", "val_accuracy"}
# The default recipe (augmented, cosine schedule): its determinism is the one users rely on.
PAIR_CONFIG = TrainConfig(epochs=1, seed=123)


def _keras():  # type: ignore[no-untyped-def]
    pytest.importorskip("tensorflow")
    import keras

    return keras


def _weights(model: Any) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_weights()]


def _copy_model(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for name in (MODEL_FILE, RECORD_FILE):
        shutil.copy2(src / name, dst / name)
    return dst


# --- The session's 2-epoch model (seed 7) ----------------------------------------------------


def test_two_epochs_reach_95_percent_validation_accuracy(trained) -> None:  # type: ignore[no-untyped-def]
    _out, record = trained
    assert record["metrics"]["validation"]["accuracy"] >= 0.95
    assert record["metrics"]["test"]["accuracy"] >= 0.95


def test_train_json_records_the_run(trained) -> None:  # type: ignore[no-untyped-def]
    out, record = trained
    on_disk = json.loads((out / RECORD_FILE).read_text())
    assert on_disk == json.loads(json.dumps(record))  # what was returned is what was written

    assert on_disk["arch"] == "mlp-300x2"
    assert on_disk["parameters"] == 328_810
    assert on_disk["epochs_run"] == 2
    assert on_disk["stopped_early"] is False
    assert on_disk["seed"] == 7
    assert on_disk["config"] == asdict(TrainConfig.plain(epochs=2, seed=7))

    history = on_disk["history"]
    assert set(history) >= HISTORY_KEYS
    assert all(len(values) == 2 for values in history.values())
    assert on_disk["best_epoch"] == int(np.argmin(history["val_loss"])) + 1

    metrics = on_disk["metrics"]
    assert set(metrics) == {"train", "validation", "test"}
    for split in metrics.values():
        assert set(split) == {"accuracy", "loss"}
        assert 0.9 < split["accuracy"] <= 1.0
        assert 0.0 < split["loss"] < 0.5
    # The saved weights are the best epoch's (early stopping restores them), so the recorded
    # validation metrics are that epoch's.
    best = on_disk["best_epoch"] - 1
    assert metrics["validation"]["accuracy"] == pytest.approx(
        history["val_accuracy"][best], abs=1e-3
    )
    assert metrics["validation"]["loss"] == pytest.approx(history["val_loss"][best], rel=1e-3)

    versions = on_disk["versions"]
    assert {"python", "numpy", "keras", "edge-mnist"} <= set(versions)
    assert "tensorflow" in versions or "tensorflow-cpu" in versions
    assert on_disk["data_md5"] == {name: md5 for name, (md5, _size, _shape) in FILES.items()}
    assert 0 < on_disk["train_seconds"] <= on_disk["wall_seconds"]


def test_saved_model_reproduces_the_recorded_test_accuracy(trained, mnist) -> None:  # type: ignore[no-untyped-def]
    keras = _keras()
    out, record = trained
    model = keras.models.load_model(out / MODEL_FILE)
    assert model.inputs[0].name == "pixels"
    assert model.count_params() == record["parameters"]
    probs = np.asarray(model.predict(mnist.x_test, batch_size=1024, verbose=0))
    accuracy = float((probs.argmax(axis=1) == mnist.y_test).mean())
    assert accuracy == pytest.approx(record["metrics"]["test"]["accuracy"], abs=1e-4)
    # Atomic writes leave no temporary files behind.
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


# --- Overwriting ----------------------------------------------------------------------------


def test_train_refuses_to_overwrite_without_force(trained, mnist, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = _copy_model(trained[0], tmp_path / "out")
    before = {name: (out / name).read_bytes() for name in (MODEL_FILE, RECORD_FILE)}
    with pytest.raises(UsageError, match="already exists") as info:
        train(PAIR_CONFIG, mnist, out)
    assert str(out / MODEL_FILE) in info.value.problem
    assert "already exists" in info.value.problem
    assert info.value.fix and "--force" in info.value.fix
    assert {name: (out / name).read_bytes() for name in before} == before


def test_save_refuses_without_force_and_replaces_with_force(trained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    keras = _keras()
    model = keras.models.load_model(trained[0] / MODEL_FILE)
    out = tmp_path / "out"
    out.mkdir()
    (out / MODEL_FILE).write_bytes(b"an older model")
    (out / RECORD_FILE).write_text('{"old": true}\n')
    result = TrainResult(model=model, record={"arch": "mlp-300x2", "marker": 42})

    with pytest.raises(UsageError, match="already exists"):
        save(result, out)
    assert (out / MODEL_FILE).read_bytes() == b"an older model"
    assert json.loads((out / RECORD_FILE).read_text()) == {"old": True}

    assert save(result, out, force=True) == out / MODEL_FILE
    reloaded = keras.models.load_model(out / MODEL_FILE)
    for a, b in zip(_weights(reloaded), _weights(model), strict=True):
        np.testing.assert_array_equal(a, b)
    assert json.loads((out / RECORD_FILE).read_text()) == {"arch": "mlp-300x2", "marker": 42}
    assert sorted(p.name for p in out.iterdir()) == [MODEL_FILE, RECORD_FILE]


# --- Determinism and --force: one pair of 1-epoch trainings with the same seed ----------------


@pytest.fixture(scope="module")
def pair(trained, mnist, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Train the same config twice: once in memory with ``fit``, once with ``train`` and force
    into a folder that already holds the session's 2-epoch model."""
    _keras()
    epochs: list[list[tuple[int, dict[str, float], float]]] = [[], []]
    first = fit(PAIR_CONFIG, mnist, on_epoch=lambda *a: epochs[0].append(a))
    out = _copy_model(trained[0], tmp_path_factory.mktemp("forced"))
    second = train(PAIR_CONFIG, mnist, out, force=True, on_epoch=lambda *a: epochs[1].append(a))
    return first, second, out, epochs


def test_same_seed_gives_identical_weights(pair) -> None:  # type: ignore[no-untyped-def]
    first, second, _out, _epochs = pair
    w1, w2 = _weights(first.model), _weights(second.model)
    assert [w.shape for w in w1] == [w.shape for w in w2]
    for a, b in zip(w1, w2, strict=True):
        np.testing.assert_array_equal(a, b)


def test_same_seed_gives_the_same_accuracy(pair) -> None:  # type: ignore[no-untyped-def]
    first, second, _out, _epochs = pair
    for split in ("train", "validation", "test"):
        a = first.record["metrics"][split]["accuracy"]
        b = second.record["metrics"][split]["accuracy"]
        assert round(a, 4) == round(b, 4), split
    assert first.record["history"] == second.record["history"]
    assert first.record["epochs_run"] == second.record["epochs_run"] == 1


def test_on_epoch_reports_each_epoch(pair) -> None:  # type: ignore[no-untyped-def]
    first, _second, _out, epochs = pair
    for calls in epochs:
        assert [epoch for epoch, _logs, _seconds in calls] == [1]
        _epoch, logs, seconds = calls[0]
        assert set(logs) >= HISTORY_KEYS
        assert logs["val_accuracy"] == pytest.approx(first.record["history"]["val_accuracy"][0])
        assert seconds > 0


def test_force_overwrites_the_existing_model(pair, trained) -> None:  # type: ignore[no-untyped-def]
    keras = _keras()
    _first, second, out, _epochs = pair
    record = json.loads((out / RECORD_FILE).read_text())
    assert record["epochs_run"] == 1
    assert record["seed"] == PAIR_CONFIG.seed
    assert record["config"] == asdict(PAIR_CONFIG)
    saved = _weights(keras.models.load_model(out / MODEL_FILE))
    for a, b in zip(saved, _weights(second.model), strict=True):
        np.testing.assert_array_equal(a, b)
    old = _weights(keras.models.load_model(trained[0] / MODEL_FILE))
    assert not all(np.array_equal(a, b) for a, b in zip(saved, old, strict=True))


# --- Config validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "option"),
    [
        ({"epochs": 0}, "--epochs"),
        ({"epochs": -3}, "--epochs"),
        ({"batch_size": 0}, "--batch-size"),
        ({"patience": -1}, "--patience"),
        ({"learning_rate": -1e-3}, "--learning-rate"),
        ({"learning_rate": 0.0}, "--learning-rate"),
        ({"learning_rate": float("nan")}, "--learning-rate"),
        ({"dropout": 1.0}, "--dropout"),
        ({"dropout": -0.1}, "--dropout"),
    ],
)
def test_invalid_config_is_a_usage_error(change: dict[str, Any], option: str) -> None:
    with pytest.raises(UsageError, match=option) as info:
        TrainConfig(**change).validate()
    assert option in info.value.problem
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("field", "edge", "beyond"),
    [
        ("epochs", 1, 0),
        ("patience", 0, -1),
        ("batch_size", 1, 0),
        ("dropout", 0.0, -1e-9),
        ("dropout", 0.999, 1.0),
        ("learning_rate", 1e-9, 0.0),
    ],
)
def test_config_limits_sit_exactly_at_the_edge(field: str, edge: Any, beyond: Any) -> None:
    """The edge value passes and the next one past it fails, naming the option."""
    TrainConfig().validate()  # the defaults are valid
    config = TrainConfig(**{field: edge})
    assert config.validate() is None and getattr(config, field) == edge
    option = "--" + field.replace("_", "-")
    with pytest.raises(UsageError, match=f"{option} must be"):
        TrainConfig(**{field: beyond}).validate()


def test_unknown_arch_in_config_is_rejected() -> None:
    with pytest.raises(UnknownArchitectureError, match="mlp-300x2"):
        TrainConfig(arch="cnn").validate()


def test_fit_and_train_reject_bad_config_before_training(mnist, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError, match="--epochs"):
        fit(TrainConfig(epochs=0), mnist)
    out = tmp_path / "out"
    with pytest.raises(UsageError, match="--dropout"):
        train(TrainConfig(dropout=1.0), mnist, out)
    assert not out.exists()


# --- Augmentation (--augment): input pipeline only ---------------------------------------------

AUGMENT_SUBSET = 4096


@pytest.fixture(scope="module")
def subset(mnist):  # type: ignore[no-untyped-def]
    """MNIST with only the first 4,096 training images: one epoch in a second or two."""
    from dataclasses import replace

    return replace(
        mnist, x_train=mnist.x_train[:AUGMENT_SUBSET], y_train=mnist.y_train[:AUGMENT_SUBSET]
    )


@pytest.fixture(scope="module")
def plain_and_augmented(subset):  # type: ignore[no-untyped-def]
    _keras()
    plain = fit(TrainConfig.plain(epochs=1, seed=11), subset)
    twice = [fit(TrainConfig.plain(epochs=1, seed=11, augment=True), subset) for _ in range(2)]
    return plain, twice


def test_augmentation_off_is_the_plain_keras_fit(plain_and_augmented, subset) -> None:  # type: ignore[no-untyped-def]
    """augment=False trains exactly as before: Keras's fit on the arrays, shuffled, same seed."""
    keras = _keras()
    import tensorflow as tf

    from edge_mnist.models import build_model

    config = TrainConfig.plain(epochs=1, seed=11)
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    reference = build_model(config.arch, config.dropout)
    reference.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    reference.fit(
        subset.x_train,
        subset.y_train,
        batch_size=config.batch_size,
        epochs=1,
        validation_data=(subset.x_val, subset.y_val),
        shuffle=True,
        verbose=0,
    )
    plain, _ = plain_and_augmented
    for a, b in zip(_weights(plain.model), _weights(reference), strict=True):
        np.testing.assert_array_equal(a, b)
    assert plain.record["config"]["augment"] is False


def _layers(model: Any) -> list[tuple[str, dict[str, Any]]]:
    return [
        (type(layer).__name__, {k: v for k, v in layer.get_config().items() if k != "name"})
        for layer in model.layers
    ]


def test_augmented_model_is_the_same_graph(plain_and_augmented) -> None:  # type: ignore[no-untyped-def]
    plain, (augmented, _) = plain_and_augmented
    assert _layers(augmented.model) == _layers(plain.model)
    # No augmentation layers: only the reference MLP's Dense layers and training-only Dropout.
    kinds = [type(layer).__name__ for layer in augmented.model.layers]
    assert set(kinds) <= {"InputLayer", "Dense", "Dropout"} and kinds.count("Dense") == 3
    assert [w.shape for w in _weights(augmented.model)] == [w.shape for w in _weights(plain.model)]
    assert augmented.model.count_params() == plain.model.count_params()
    # It learned from other images than the plain run did.
    assert not np.array_equal(_weights(augmented.model)[0], _weights(plain.model)[0])
    assert augmented.record["config"]["augment"] is True
    assert augmented.record["metrics"]["validation"]["accuracy"] > 0.8


def test_augmented_training_is_deterministic(plain_and_augmented) -> None:  # type: ignore[no-untyped-def]
    _, (first, second) = plain_and_augmented
    for a, b in zip(_weights(first.model), _weights(second.model), strict=True):
        np.testing.assert_array_equal(a, b)


def test_augment_batch_is_seeded_and_bounded(subset) -> None:  # type: ignore[no-untyped-def]
    _keras()
    import tensorflow as tf

    from edge_mnist.augment import AugmentSpec, augment_batch

    x = tf.constant(subset.x_train[:64])

    def run(seed: int, spec: AugmentSpec | None = None) -> np.ndarray:
        key = tf.constant([seed, 1], tf.int64)
        out = augment_batch(tf, x, key) if spec is None else augment_batch(tf, x, key, spec)
        return np.asarray(out)

    first = run(1)
    assert first.shape == (64, 784)
    assert first.min() >= 0.0 and first.max() <= 1.0
    np.testing.assert_array_equal(first, run(1))
    assert not np.array_equal(first, run(2))
    changed = (np.abs(first - subset.x_train[:64]).max(axis=1) > 0.1).mean()
    assert 0.7 < changed < 1.0  # about 10% are kept as they are
    from test_augment import STILL  # every transform off: test_augment.py's identity spec

    np.testing.assert_allclose(run(3, STILL), subset.x_train[:64], atol=1e-6)


def test_cosine_schedule_decays_over_the_budget(subset) -> None:  # type: ignore[no-untyped-def]
    """--cosine: the first epoch at the full rate, the last at a hundredth, a half cosine between."""
    _keras()
    result = fit(TrainConfig.plain(epochs=3, seed=11, cosine=True, patience=5), subset)
    rates = result.record["history"]["learning_rate"]
    np.testing.assert_allclose(rates, [2e-3, 2e-3 * 0.505, 2e-5], rtol=1e-5)
    assert result.record["config"]["cosine"] is True
    assert result.record["metrics"]["validation"]["accuracy"] > 0.9
