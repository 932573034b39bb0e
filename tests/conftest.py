"""Shared fixtures: real MNIST from $EDGE_MNIST_DATA and real artifacts built once per session."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from edge_mnist.data import ENV_DATA, FILES, default_cache_dir
from edge_mnist.runtime.idx import find_idx

ARTIFACT_NAMES = (
    "model_int8.tflite",
    "model_float32.tflite",
    "model_int8.onnx",
    "model_float32.onnx",
)
# The device-like environment has no TensorFlow: it points this at artifacts built beforehand.
ENV_ARTIFACTS = "EDGE_MNIST_TEST_ARTIFACTS"
# The fixtures that need real MNIST or a trained model: a test using any of them (directly or
# through another fixture) is marked "mnist", so that `pytest -m "not mnist"` is a fast run.
MNIST_FIXTURES = frozenset({"mnist_dir", "mnist", "test_images", "trained", "artifacts"})
# The backends a test marked "interpreter" may run on (the backend table's names).
INTERPRETERS = ("litert", "tflite-runtime", "onnxruntime")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if MNIST_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.mnist)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test marked ``interpreter`` where the interpreter it needs is not installed
    (decided before the test runs, by whether the package can be found and suits this numpy,
    never by the test's error).

    ``@pytest.mark.interpreter`` needs any of INTERPRETERS; ``@pytest.mark.interpreter("litert",
    "tflite-runtime")`` needs one of those named; two such markers need one of each.
    """
    markers = list(item.iter_markers("interpreter"))
    if not markers:
        return
    from edge_mnist.runtime.backends import SPECS, conflict, installed

    for marker in markers:
        names = marker.args or INTERPRETERS
        unknown = [n for n in names if n not in INTERPRETERS]
        if unknown:
            pytest.fail(f"@pytest.mark.interpreter: {unknown} are not among {INTERPRETERS}")
        if not any(installed(SPECS[n]) and conflict(SPECS[n]) is None for n in names):
            pytest.skip(f"needs an interpreter ({' or '.join(names)}); none is usable here")


# Read before the session points the per-user cache at a folder of its own (below).
_USER_MNIST_CACHE = default_cache_dir()


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """What the runtime writes to the per-user cache (models that passed the child-process
    load check) goes to a session folder, never the user's own ~/.cache."""
    folder = tmp_path_factory.mktemp("user-cache")
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


def _has_mnist(directory: Path) -> bool:
    return all(find_idx(directory, n) is not None for n in FILES)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder holding real MNIST: $EDGE_MNIST_DATA, else the user cache."""
    env = os.environ.get(ENV_DATA)
    candidate = Path(env) if env else _USER_MNIST_CACHE
    if _has_mnist(candidate):
        return candidate.resolve()
    message = f"MNIST not found in {candidate}: set ${ENV_DATA} or run 'edge-mnist data' once"
    # A folder named on purpose but incomplete is a mistake, not a reason to skip.
    if env or os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def mnist(mnist_dir: Path):  # type: ignore[no-untyped-def]
    from edge_mnist.data import load_mnist

    return load_mnist(mnist_dir, download=False)


@pytest.fixture(scope="session")
def test_images(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 test images as uint8 (N, 784) and their labels, without TensorFlow."""
    from edge_mnist.data import load_test_split

    return load_test_split(mnist_dir)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, mnist):  # type: ignore[no-untyped-def]
    """A model trained for two epochs with a fixed seed, saved in a session folder."""
    pytest.importorskip("tensorflow")
    from edge_mnist.train import TrainConfig, train

    out = tmp_path_factory.mktemp("trained")
    result = train(TrainConfig.plain(epochs=2, seed=7), mnist, out)
    return out, result.record


@pytest.fixture(scope="session")
def artifacts(request: pytest.FixtureRequest) -> Path:
    """A folder with model.keras, the four exported models and manifest.json (read-only: copy
    it before changing anything)."""
    env = os.environ.get(ENV_ARTIFACTS)
    if env:
        folder = Path(env)
        missing = [n for n in ARTIFACT_NAMES if not (folder / n).is_file()]
        if missing:
            pytest.fail(f"${ENV_ARTIFACTS}={env} lacks {missing}")
        return folder
    pytest.importorskip("tensorflow")
    from edge_mnist.export import export

    out, _record = request.getfixturevalue("trained")
    data = request.getfixturevalue("mnist")
    export(out / "model.keras", data, out, fmt="all")
    return out


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (a disk that fills up at once); skips where mounting is not allowed."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)
