"""Training-time augmentation: random affine warps, stroke-width changes and elastic distortion.

Everything here runs on numpy batches of flattened 28x28 images in [0, 1] inside the training
input pipeline, so the trained (and exported) model is exactly the reference MLP. One batched
bilinear resampling applies the affine map and the elastic displacement together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

SIDE = 28
# Rotation and shear happen about the image centre in pixel-index coordinates.
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
    """Horizontal shear factor either way (0.2 slants a stroke by about 11 degrees)."""
    shift: float = 2.0
    """Pixels either way, per axis."""
    stroke: float = 0.6
    """Largest blend towards a dilated (positive) or eroded (negative) image."""
    elastic: float = 1.5
    """Standard deviation in pixels of the elastic displacement at its control points (0: off)."""
    elastic_grid: int = 4
    """Control points per side of the smooth elastic displacement field."""
    keep: float = 0.1
    """Share of images left untouched, so the clean distribution is still seen."""


DEFAULT_SPEC = AugmentSpec()


def _affine_matrices(n: int, spec: AugmentSpec, rng: np.random.Generator) -> np.ndarray:
    """(n, 2, 2) maps from output (row, col) offsets to source offsets."""
    angle = np.deg2rad(rng.uniform(-spec.rotation, spec.rotation, n))
    scale = np.exp(rng.uniform(math.log(1 - spec.scale), math.log(1 + spec.scale), n))
    aspect = np.exp(rng.uniform(math.log(1 - spec.aspect), math.log(1 + spec.aspect), n))
    shear = rng.uniform(-spec.shear, spec.shear, n)
    cos, sin = np.cos(angle), np.sin(angle)
    rotate = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    # A horizontal shear in (row, col) order: col += shear * row, like slanted handwriting.
    slant = np.zeros((n, 2, 2))
    slant[:, 0, 0] = slant[:, 1, 1] = 1.0
    slant[:, 1, 0] = shear
    # Output offsets map back to source offsets: undo the size change, then slant and rotate.
    size = np.zeros((n, 2, 2))
    size[:, 0, 0], size[:, 1, 1] = 1 / scale, 1 / (scale * aspect)
    return np.asarray(rotate @ slant @ size)


def _interpolation(grid: int) -> np.ndarray:
    """(SIDE, grid) weights that linearly interpolate ``grid`` control points onto SIDE pixels."""
    pos = np.linspace(0, grid - 1, SIDE)
    i0 = np.minimum(pos.astype(int), grid - 2)
    w = np.zeros((SIDE, grid), dtype=np.float32)
    w[np.arange(SIDE), i0] = 1 - (pos - i0)
    w[np.arange(SIDE), i0 + 1] = pos - i0
    return w


def _smooth_field(n: int, grid: int, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """(n, 2, SIDE, SIDE) smooth random displacements: bilinear upsampling of a coarse grid."""
    coarse = rng.normal(0.0, sigma, (n, 2, grid, grid)).astype(np.float32)
    w = _interpolation(grid)
    return np.asarray(w @ coarse @ w.T)


def sample(images: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Bilinear samples of (n, 28, 28) images at (n, 28, 28) source coordinates; 0 outside."""
    n = images.shape[0]
    width = SIDE + 2
    padded = np.zeros((n, width, width), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = images
    flat = padded.reshape(-1)
    # Coordinates beyond the padding read the zero border; +1 for the padding.
    r = np.clip(rows + 1, 0, width - 1.001).astype(np.float32)
    c = np.clip(cols + 1, 0, width - 1.001).astype(np.float32)
    r0, c0 = r.astype(np.intp), c.astype(np.intp)
    wr, wc = r - r0, c - c0
    at = r0 * width + c0 + (np.arange(n) * width * width)[:, None, None]
    top = flat[at] + wc * (flat[at + 1] - flat[at])
    bottom = flat[at + width] + wc * (flat[at + width + 1] - flat[at + width])
    return np.asarray(top + wr * (bottom - top), dtype=np.float32)


def elastic(
    images: np.ndarray, sigma: float, rng: np.random.Generator, grid: int = 4
) -> np.ndarray:
    """Displace (n, 28, 28) images by a smooth random field of ``sigma`` pixels."""
    n = images.shape[0]
    field = _smooth_field(n, grid, sigma, rng)
    base = np.arange(SIDE, dtype=np.float32)
    return sample(images, base[:, None] + field[:, 0], base[None, :] + field[:, 1])


def _stroke_width(images: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Blend each image towards its 3x3 cross dilation (amount > 0) or erosion (amount < 0)."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    shifts = [padded[:, 1:-1, 1:-1], padded[:, :-2, 1:-1], padded[:, 2:, 1:-1]]
    shifts += [padded[:, 1:-1, :-2], padded[:, 1:-1, 2:]]
    grown = np.max(shifts, axis=0)
    shrunk = np.min(shifts, axis=0)
    a = amount[:, None, None].astype(np.float32)
    target = np.where(a > 0, grown, shrunk)
    return np.asarray(images + np.abs(a) * (target - images), dtype=np.float32)


def augment_batch(
    x: np.ndarray, rng: np.random.Generator, spec: AugmentSpec = DEFAULT_SPEC
) -> np.ndarray:
    """A randomly transformed copy of a (n, 784) float batch in [0, 1]."""
    n = x.shape[0]
    images = x.reshape(n, SIDE, SIDE).astype(np.float32, copy=False)
    m = _affine_matrices(n, spec, rng)
    shift = rng.uniform(-spec.shift, spec.shift, (n, 2))
    # Source coordinates of every output pixel: (n, 2, 784) = (n, 2, 2) @ (2, 784) + shifts.
    offsets = np.arange(SIDE, dtype=np.float32) - np.float32(_CENTRE)
    grid = np.stack([np.repeat(offsets, SIDE), np.tile(offsets, SIDE)])
    moved = (
        m.astype(np.float32) @ grid + (np.float32(_CENTRE) - shift.astype(np.float32))[..., None]
    )
    rows, cols = moved[:, 0].reshape(n, SIDE, SIDE), moved[:, 1].reshape(n, SIDE, SIDE)
    if spec.elastic > 0:
        field = _smooth_field(n, spec.elastic_grid, spec.elastic, rng)
        rows, cols = rows + field[:, 0], cols + field[:, 1]
    out = sample(images, rows, cols)
    if spec.stroke > 0:
        out = _stroke_width(out, np.asarray(rng.uniform(-spec.stroke, spec.stroke, n)))
    keep = rng.random(n) < spec.keep
    out[keep] = images[keep]
    return np.clip(out, 0.0, 1.0).reshape(n, SIDE * SIDE)


def augmented_batches(
    tf: Any,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    seed: int,
    spec: AugmentSpec = DEFAULT_SPEC,
) -> Any:
    """A Keras ``PyDataset`` of freshly augmented, reshuffled batches every epoch.

    Batches are requested in order by one thread, so the n-th request draws from a generator
    seeded with (seed, n): the same seed gives the same batches, hence the same model.
    """
    keras = tf.keras
    count = len(x)
    steps = math.ceil(count / batch_size)

    class Batches(keras.utils.PyDataset):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__(workers=1, use_multiprocessing=False)
            self.requests = 0
            self.order = np.arange(count)

        def __len__(self) -> int:
            return steps

        def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
            n = self.requests
            self.requests += 1
            if n % steps == 0:
                self.order = np.random.default_rng([seed, n // steps]).permutation(count)
            pick = self.order[index * batch_size : (index + 1) * batch_size]
            rng = np.random.default_rng([seed, n // steps, index])
            return augment_batch(x[pick], rng, spec), y[pick]

    return Batches()
