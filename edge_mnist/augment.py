"""Training-time augmentation, in tf.data: the default recipe's way to other writers' digits.

Per image: a random affine warp bent by a smooth elastic field (how hands differ), for some a
trip through a coarse grid, 1-bit for some of those (small, low-resolution and scanned digits),
and a thinner or thicker stroke (pens). What each buys is measured in
docs/2026-12-03-default-recipe.md; shear and aspect bought nothing alone but cost nothing
(docs/2026-12-03-training-recipes.md).

The transforms run in the training input pipeline only, so the trained (and exported) model is
exactly the reference MLP. They are TensorFlow ops on whole chunks of batches, drawn from
stateless random ops seeded with (seed, chunk number): the same seed gives the same batches,
hence the same model.
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
    elastic: float = 1.0
    """Standard deviation, in pixels, of a smooth random displacement field (0 = none)."""
    elastic_grid: int = 4
    """Control points per side of that field: fewer means smoother, larger-scale bends."""
    lowres: float = 0.3
    """Share of changed images resampled through a coarse grid (a small or low-resolution
    digit scaled up), of ``lowres_min`` to ``lowres_max`` pixels per side for the 28 px frame."""
    lowres_min: int = 9
    lowres_max: int = 20
    binarize: float = 0.3
    """Share of the resampled images thresholded at their coarse size (1-bit scans)."""


DEFAULT_SPEC = AugmentSpec()
# Batches transformed per call (see augmented_dataset).
CHUNK = 8


def _dilate(tf: Any, img: Any) -> Any:
    """Grey-level dilation of (n, 28, 28) images by a 3x3 cross (zero outside the image).

    A chain of maxima over shifted slices: max_pool2d on one channel, and a stack-and-reduce,
    are both slower here (docs/2026-12-03-training-recipes.md, "Cheaper augmentation").
    """
    padded = tf.pad(img, [[0, 0], [1, 1], [1, 1]])
    vertical = tf.maximum(padded[:, :-2, 1:-1], padded[:, 2:, 1:-1])
    horizontal = tf.maximum(padded[:, 1:-1, :-2], padded[:, 1:-1, 2:])
    return tf.maximum(tf.maximum(vertical, horizontal), img)


def _sample(tf: Any, images: Any, u: Any, v: Any) -> Any:
    """Bilinear samples of (n, 28, 28) images at input coordinates u (column), v (row), each
    (n, 28, 28); zero outside the image. TensorFlow's projective-transform kernel takes one
    matrix per image, not a field, so an elastic warp gathers its four neighbours itself."""
    n = tf.shape(images)[0]
    flat = tf.reshape(images, (-1,))
    base = tf.reshape(tf.range(n) * SIDE * SIDE, (n, 1, 1))
    u0, v0 = tf.floor(u), tf.floor(v)
    fu, fv = u - u0, v - v0
    u0, v0 = tf.cast(u0, tf.int32), tf.cast(v0, tf.int32)
    out = tf.zeros_like(u)
    for du, dv, w in (
        (0, 0, (1 - fu) * (1 - fv)),
        (1, 0, fu * (1 - fv)),
        (0, 1, (1 - fu) * fv),
        (1, 1, fu * fv),
    ):
        uu, vv = u0 + du, v0 + dv
        inside = (uu >= 0) & (uu < SIDE) & (vv >= 0) & (vv < SIDE)
        index = base + tf.clip_by_value(vv, 0, SIDE - 1) * SIDE + tf.clip_by_value(uu, 0, SIDE - 1)
        out += tf.where(inside, w, 0.0) * tf.gather(flat, index)
    return out


def _coarsen(tf: Any, img: Any, seed: Any, spec: AugmentSpec) -> Any:
    """Resample a random share of (n, 28, 28) images through a coarse grid (one size per call),
    thresholding some of them there: small, low-resolution and 1-bit digits scaled up."""
    n = tf.shape(img)[0]
    seeds = tf.random.experimental.stateless_split(seed, 4)
    size = tf.random.stateless_uniform((), seeds[0], spec.lowres_min, spec.lowres_max + 1, tf.int32)
    small = tf.image.resize(img[..., None], tf.stack([size, size]), method="area")
    level = tf.random.stateless_uniform((n, 1, 1, 1), seeds[1], 0.3, 0.6)
    threshold = tf.random.stateless_uniform((n, 1, 1, 1), seeds[2]) < spec.binarize
    small = tf.where(threshold, tf.cast(small > level, tf.float32), small)
    back = tf.image.resize(small, (SIDE, SIDE), method="bilinear")[..., 0]
    chosen = tf.reshape(tf.random.stateless_uniform((n,), seeds[3]) < spec.lowres, (n, 1, 1))
    return tf.where(chosen, tf.clip_by_value(back, 0.0, 1.0), img)


def augment_batch(tf: Any, x: Any, seed: Any, spec: AugmentSpec = DEFAULT_SPEC) -> Any:
    """A randomly transformed copy of a (n, 784) float batch in [0, 1] (TensorFlow ops).

    ``seed`` is a shape-(2,) int tensor for the stateless random ops. One warp for the whole batch
    (elastic when ``spec.elastic``, else TensorFlow's fused affine kernel), then one dilation: of
    the image to thicken, of its negative to thin (an erosion), so each image pays for only the
    direction it is drawn.
    """
    # The untouched share is every (1/keep)-th row (rows come in random order), and only the
    # others are transformed: a kept image costs nothing. Rows stay in their places.
    total = tf.shape(x)[0]
    row = tf.cast(tf.range(total), tf.float32)
    is_kept = tf.floor((row + 1.0) * spec.keep) > tf.floor(row * spec.keep)
    changed_rows = tf.cast(tf.where(~is_kept)[:, 0], tf.int32)
    kept_rows = tf.cast(tf.where(is_kept)[:, 0], tf.int32)
    n = tf.shape(changed_rows)[0]
    images = tf.reshape(tf.gather(x, changed_rows), (n, SIDE, SIDE, 1))

    def restore(changed: Any) -> Any:
        flat = tf.reshape(changed, (n, SIDE * SIDE))
        return tf.dynamic_stitch([changed_rows, kept_rows], [flat, tf.gather(x, kept_rows)])

    seeds = tf.random.experimental.stateless_split(seed, 10)

    def uniform(i: int, low: float, high: float) -> Any:
        return tf.random.stateless_uniform((n,), seeds[i], low, high)

    def symmetric(i: int, half_range: float) -> Any:
        return uniform(i, -half_range, half_range)

    angle = symmetric(0, math.radians(spec.rotation))
    scale = tf.exp(symmetric(1, math.log1p(spec.scale)))
    width = scale * tf.exp(symmetric(2, math.log1p(spec.aspect)))
    shear = symmetric(3, spec.shear)
    dx, dy = symmetric(4, spec.shift), symmetric(5, spec.shift)
    # Output (x, y) -> input (x, y): undo the size change, then slant and rotate, about the
    # centre, then shift. ImageProjectiveTransform takes the 2x3 map row by row (+ 2 zeros).
    cos, sin = tf.cos(angle), tf.sin(angle)
    a0, a1 = cos / width, (-sin + cos * shear) / scale
    b0, b1 = sin / width, (cos + sin * shear) / scale
    c = tf.constant(_CENTRE, tf.float32)
    a2 = c - a0 * c - a1 * c - dx
    b2 = c - b0 * c - b1 * c - dy
    if spec.elastic > 0.0:
        # Random displacements at a few control points, interpolated: a smooth field, as
        # Simard et al.'s Gaussian-filtered noise, at a fraction of the cost of a convolution.
        g = spec.elastic_grid
        field = tf.random.stateless_normal((n, g, g, 2), seeds[7], stddev=spec.elastic)
        field = tf.image.resize(field, (SIDE, SIDE), method="bicubic")
        grid = tf.range(SIDE, dtype=tf.float32)
        xs, ys = grid[None, None, :], grid[None, :, None]

        def per_image(t: Any) -> Any:
            return tf.reshape(t, (n, 1, 1))

        u = per_image(a0) * xs + per_image(a1) * ys + per_image(a2) + field[..., 0]
        v = per_image(b0) * xs + per_image(b1) * ys + per_image(b2) + field[..., 1]
        warped = _sample(tf, tf.reshape(images, (n, SIDE, SIDE)), u, v)
    else:
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
        warped = tf.reshape(warped, (n, SIDE, SIDE))
    if spec.lowres > 0.0:
        warped = _coarsen(tf, warped, seeds[8], spec)
    if spec.thin == 0.0 and spec.thick == 0.0:
        return restore(warped)

    # Stroke width: blend towards the dilation (amount > 0) or the erosion (amount < 0).
    amount = tf.reshape(uniform(6, -spec.thin, spec.thick), (n, 1, 1))
    sign = tf.where(amount < 0.0, -1.0, 1.0)
    towards = sign * _dilate(tf, sign * warped)
    out = warped + tf.minimum(tf.abs(amount), 1.0) * (towards - warped)
    if spec.thick > 1.0:
        twice = tf.clip_by_value(amount - 1.0, 0.0, 1.0)
        out = tf.clip_by_value(out + twice * (_dilate(tf, towards) - towards), 0.0, 1.0)
    # Bilinear weights and blends stay within [0, 1]: no clipping needed otherwise.
    return restore(out)


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
    # Transform CHUNK batches in one call, then split them: per-call overhead made a 256-image
    # call cost 1.5 times the per-image rate of a 2,048-image one. The batches are the same.
    chunk = batch_size * CHUNK

    def epoch_order(epoch: Any) -> Any:
        # A stateless shuffle per epoch: tf.data's shuffle shares its seed state between
        # datasets made with the same seed in one process, so two runs would differ.
        keys = tf.random.stateless_uniform((len(x),), tf.stack([seed64, epoch]))
        return tf.data.Dataset.from_tensor_slices(tf.argsort(keys)).batch(chunk)

    def transform(index: Any, picks: Any) -> tuple[Any, Any]:
        batch = tf.gather(images, picks)
        key = tf.stack([seed64, -(index + 1)])
        return augment_batch(tf, batch, key, spec), tf.gather(labels, picks)

    def split(xs: Any, ys: Any) -> Any:
        # Back into batches, within the chunk: an epoch's last batch stays short, as in Keras.
        count = tf.shape(xs, out_type=tf.int64)[0]
        starts = tf.data.Dataset.range(0, count, batch_size)
        return starts.map(lambda i: (xs[i : i + batch_size], ys[i : i + batch_size]))

    data = (
        tf.data.Dataset.range(1 << 40)
        .flat_map(epoch_order)
        .enumerate()
        .map(transform, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .flat_map(split)
        .prefetch(2)
    )
    return data, steps
