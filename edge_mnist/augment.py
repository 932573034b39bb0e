"""Training-time augmentation: random affine warps and stroke-width changes, in tf.data.

The transforms run in the training input pipeline only, so the trained (and exported) model is
exactly the reference MLP. They are TensorFlow image ops (one fused projective-transform kernel
per batch, max-pooling for the stroke width) drawn from stateless random ops seeded with
(seed, batch number): the same seed gives the same batches, hence the same model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

SIDE = 28
# Rotation, scaling and shear happen about the image centre (pixel-index coordinates).
_CENTRE = (SIDE - 1) / 2


@dataclass(frozen=True)
class AugmentSpec:
    """The ranges random transforms are drawn from (uniformly, per image)."""

    rotation: float = 12.0
    """Degrees either way."""
    scale: float = 0.12
    """Relative size change either way."""
    aspect: float = 0.12
    """Relative width change either way, on top of the scale."""
    shear: float = 0.2
    """Horizontal shear factor either way (0.2 slants a vertical stroke by about 11 degrees)."""
    shift: float = 2.0
    """Pixels either way, per axis."""
    thin: float = 0.5
    """Largest blend towards the eroded image (thinner strokes)."""
    thick: float = 0.5
    """Largest growth towards dilated images: up to 1, one dilation; up to 2, two."""
    keep: float = 0.1
    """Share of images left untouched, so the clean distribution is still seen."""


DEFAULT_SPEC = AugmentSpec()


def augment_batch(tf: Any, x: Any, seed: Any, spec: AugmentSpec = DEFAULT_SPEC) -> Any:
    """A randomly transformed copy of a (n, 784) float batch in [0, 1] (TensorFlow ops).

    ``seed`` is a shape-(2,) int tensor for the stateless random ops.
    """
    n = tf.shape(x)[0]
    images = tf.reshape(x, (n, SIDE, SIDE, 1))
    seeds = tf.random.experimental.stateless_split(seed, 8)

    def uniform(i: int, half_range: float) -> Any:
        return tf.random.stateless_uniform((n,), seeds[i], -half_range, half_range)

    angle = uniform(0, math.radians(spec.rotation))
    scale = tf.exp(uniform(1, math.log1p(spec.scale)))
    width = scale * tf.exp(uniform(2, math.log1p(spec.aspect)))
    shear = uniform(3, spec.shear)
    dx, dy = uniform(4, spec.shift), uniform(5, spec.shift)
    # Output (x, y) -> input (x, y): undo the size change, then slant and rotate, about the
    # centre, then shift. ImageProjectiveTransform takes the 2x3 map row by row (+ 2 zeros).
    cos, sin = tf.cos(angle), tf.sin(angle)
    a0, a1 = cos / width, (-sin + cos * shear) / scale
    b0, b1 = sin / width, (cos + sin * shear) / scale
    c = tf.constant(_CENTRE, tf.float32)
    a2 = c - a0 * c - a1 * c - dx
    b2 = c - b0 * c - b1 * c - dy
    zeros = tf.zeros_like(a0)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    warped = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.constant([SIDE, SIDE]),
        fill_value=tf.constant(0.0),
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )

    # Stroke width: blend towards the grey-level dilation or erosion by a 3x3 cross. Shifted
    # slices, because max_pool2d on one channel is many times slower here.
    def cross(img: Any, reduce: Any) -> Any:
        padded = tf.pad(img, [[0, 0], [1, 1], [1, 1], [0, 0]])
        centre = padded[:, 1:-1, 1:-1]
        up, down = padded[:, :-2, 1:-1], padded[:, 2:, 1:-1]
        left, right = padded[:, 1:-1, :-2], padded[:, 1:-1, 2:]
        return reduce(tf.stack([centre, up, down, left, right]), axis=0)

    grown = cross(warped, tf.reduce_max)
    shrunk = cross(warped, tf.reduce_min)
    amount = tf.random.stateless_uniform((n,), seeds[6], -spec.thin, spec.thick)
    amount = tf.reshape(amount, (n, 1, 1, 1))
    once = tf.clip_by_value(amount, 0.0, 1.0)
    out = warped + once * (grown - warped) + tf.minimum(amount, 0.0) * (warped - shrunk)
    if spec.thick > 1.0:
        twice = tf.clip_by_value(amount - 1.0, 0.0, 1.0)
        out = out + twice * (cross(grown, tf.reduce_max) - grown)
    keep = tf.reshape(tf.random.stateless_uniform((n,), seeds[7]) < spec.keep, (n, 1, 1, 1))
    out = tf.where(keep, images, out)
    return tf.reshape(tf.clip_by_value(out, 0.0, 1.0), (n, SIDE * SIDE))


def augmented_dataset(
    tf: Any,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    seed: int,
    spec: AugmentSpec = DEFAULT_SPEC,
) -> tuple[Any, int]:
    """An endless tf.data pipeline of reshuffled, freshly augmented batches, and the number of
    batches per epoch (for ``steps_per_epoch``)."""
    steps = math.ceil(len(x) / batch_size)
    images, labels = tf.constant(x), tf.constant(y)
    seed64 = tf.constant(seed, tf.int64)

    def epoch_order(epoch: Any) -> Any:
        # A stateless shuffle per epoch: tf.data's shuffle shares its seed state between
        # datasets made with the same seed in one process, so two runs would differ.
        keys = tf.random.stateless_uniform((len(x),), tf.stack([seed64, epoch]))
        return tf.data.Dataset.from_tensor_slices(tf.argsort(keys)).batch(batch_size)

    def transform(index: Any, picks: Any) -> tuple[Any, Any]:
        batch = tf.gather(images, picks)
        key = tf.stack([seed64, -(index + 1)])
        return augment_batch(tf, batch, key, spec), tf.gather(labels, picks)

    data = (
        tf.data.Dataset.range(1 << 40)
        .flat_map(epoch_order)
        .enumerate()
        .map(transform, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(2)
    )
    return data, steps
