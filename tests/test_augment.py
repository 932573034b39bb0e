"""The augmentation's own contract: which rows it keeps, which way it moves stroke width, that the
elastic sampler and the coarse grid are exact where they should be the identity, and that the
chunked input pipeline yields each training digit once per epoch with its own label."""

from __future__ import annotations

import numpy as np
import pytest

from edge_mnist.augment import AugmentSpec, augment_batch, augmented_dataset

# No geometric change: only the stroke-width blend and the kept share act.
STILL = AugmentSpec(
    rotation=0,
    scale=0,
    aspect=0,
    shear=0,
    shift=0,
    thin=0,
    thick=0,
    keep=0,
    elastic=0,
    lowres=0,
    binarize=0,
)


@pytest.fixture(scope="module")
def tf():  # type: ignore[no-untyped-def]
    return pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def digits(mnist):  # type: ignore[no-untyped-def]
    return mnist.x_train[:100], mnist.y_train[:100]


def _run(tf, x: np.ndarray, spec: AugmentSpec, seed: int = 5) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.asarray(augment_batch(tf, tf.constant(x), tf.constant([seed, 1], tf.int64), spec))


def test_every_tenth_row_is_kept_in_place(tf, digits) -> None:  # type: ignore[no-untyped-def]
    x, _ = digits
    out = _run(tf, x, AugmentSpec())
    same = np.all(out == x, axis=1)
    # keep = 0.1: rows 9, 19, ..., 99 are copied exactly; every other row is transformed.
    assert np.flatnonzero(same).tolist() == list(range(9, 100, 10))


def test_thinning_only_removes_ink_and_thickening_only_adds_it(tf, digits) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    x, _ = digits
    thinner = _run(tf, x, replace(STILL, thin=0.5))
    thicker = _run(tf, x, replace(STILL, thick=0.5))
    assert np.all(thinner <= x + 1e-6) and np.all(thicker >= x - 1e-6)
    # Each really moved: the mean ink falls and rises by a visible amount.
    assert thinner.sum() < 0.97 * x.sum() < 0.97 * thicker.sum()
    # Two dilations at most, never past white.
    heavy = _run(tf, x, replace(STILL, thick=2.0))
    assert heavy.max() <= 1.0 and heavy.sum() > thicker.sum()


def test_the_chunked_pipeline_yields_each_digit_once_per_epoch(tf, mnist) -> None:  # type: ignore[no-untyped-def]
    # 1,000 images in batches of 96: chunks of 8 batches split back into 11 batches, the last
    # one of 40. Identity transforms, so every image can be found again by its pixels.
    x, y = mnist.x_train[:1000], mnist.y_train[:1000]
    data, steps = augmented_dataset(tf, x, y, 96, seed=3, spec=STILL)
    assert steps == 11
    batches = list(data.take(steps))
    assert [int(b[0].shape[0]) for b in batches] == [96] * 10 + [40]
    label_of = {row.tobytes(): label for row, label in zip(x, y, strict=True)}
    seen = []
    for images, labels in batches:
        for row, label in zip(np.asarray(images), np.asarray(labels), strict=True):
            assert label_of[row.tobytes()] == label
            seen.append(row.tobytes())
    assert len(set(seen)) == len(seen) == 1000
    # The next epoch is another order of the same digits.
    second = np.concatenate([np.asarray(b[1]) for b in data.skip(steps).take(steps)])
    first = np.concatenate([np.asarray(b[1]) for b in batches])
    assert sorted(second) == sorted(first) and not np.array_equal(second, first)


def test_the_elastic_sampler_is_the_affine_warp_when_the_field_is_still(tf, digits) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    # A vanishing displacement field: the gather-based sampler must give what TensorFlow's own
    # projective transform gives for the same random affine warps (same seeds, same draws).
    x, _ = digits
    affine = replace(AugmentSpec(), thin=0, thick=0, elastic=0, lowres=0)
    ours = _run(tf, x, replace(affine, elastic=1e-9))
    theirs = _run(tf, x, affine)
    assert not np.allclose(theirs, x, atol=0.05)  # the warp really moved the digits
    np.testing.assert_allclose(ours, theirs, atol=2e-5)
    # A real field bends the digit but keeps most of its ink inside the frame.
    bent = _run(tf, x, replace(affine, elastic=0.8))
    assert not np.allclose(bent, theirs, atol=0.05)
    assert 0.8 < bent.sum() / theirs.sum() < 1.2


def test_the_coarse_grid_is_the_identity_at_full_size_and_blocky_below(tf, digits) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    x, _ = digits
    full = _run(tf, x, replace(STILL, lowres=1.0, lowres_min=28, lowres_max=28))
    np.testing.assert_allclose(full, x, atol=1e-5)
    coarse = _run(tf, x, replace(STILL, lowres=1.0, lowres_min=9, lowres_max=9))
    # Resampled through 9x9: ink is kept on average, fine detail is not.
    assert abs(coarse.sum() / x.sum() - 1) < 0.1
    assert np.abs(coarse - x).mean() > 0.02
    # Thresholded at the coarse size, then scaled up: another image, still within [0, 1].
    binary = _run(tf, x, replace(STILL, lowres=1.0, lowres_min=9, lowres_max=9, binarize=1.0))
    assert binary.min() >= 0.0 and binary.max() <= 1.0
    assert not np.allclose(binary, coarse, atol=0.05)
