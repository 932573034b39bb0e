"""The default recipe is the augmented one; --plain (TrainConfig.plain) is the notebook's, and an
option given beside it still applies."""

from __future__ import annotations

from dataclasses import asdict

from edge_mnist.train import PLAIN_RECIPE, TrainConfig


def test_the_default_recipe_augments_on_a_cosine_schedule() -> None:
    config = TrainConfig()
    assert config.augment and config.cosine
    assert (config.epochs, config.batch_size, config.learning_rate) == (55, 512, 3e-3)
    assert config.extra_images is None


def test_plain_is_the_notebook_recipe_and_takes_overrides() -> None:
    plain = TrainConfig.plain()
    assert not plain.augment and not plain.cosine and plain.reduce_lr
    assert (plain.epochs, plain.batch_size, plain.learning_rate) == (50, 256, 2e-3)
    changed = TrainConfig.plain(epochs=3, seed=9)
    assert asdict(changed) == {**asdict(plain), "epochs": 3, "seed": 9}
    # Only the recipe's own fields differ from the default: arch, dropout, seed, patience do not.
    differ = {k for k, v in asdict(plain).items() if asdict(TrainConfig())[k] != v}
    assert differ == set(PLAIN_RECIPE)
