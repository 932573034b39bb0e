"""The classifier's batch-1 fast path on a TFLite interpreter (the backend's staged calls): the
same digits and probabilities as the interpreter gives for the converted input, for every batch
size in any order, from several threads at once, with the same errors for bad input."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from edge_mnist.runtime import Classifier
from edge_mnist.runtime.errors import InvalidInputError

pytestmark = [pytest.mark.device, pytest.mark.interpreter("litert")]
MODELS = ("model_int8.tflite", "model_float32.tflite")


def _expected(clf: Classifier, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Digits and probabilities from the interpreter itself, fed the input as the bench's raw
    loop feeds it (converted by the classifier's checked conversion)."""
    raw = clf.backend.run(clf.prepare(images))
    out = clf.info.output
    probs = raw.astype(np.float32)
    if out.scale is not None:
        probs = (probs - np.float32(out.zero_point or 0)) * np.float32(out.scale)
    return raw.argmax(1), probs


@pytest.mark.parametrize("name", MODELS)
def test_every_batch_size_in_any_order_gives_the_interpreters_answer(
    tiny_any: Path, framed_digits: tuple[np.ndarray, np.ndarray], name: str
) -> None:
    images, labels = framed_digits
    clf = Classifier.load(tiny_any / name, backend="litert")
    check = Classifier.load(tiny_any / name, backend="litert")
    # Batch sizes change, repeat (the fast path's shape), and return after another one ran.
    for start, size in [(0, 1), (1, 1), (2, 1), (3, 4), (7, 4), (11, 1), (12, 3), (15, 1)]:
        batch = images[start : start + size]
        for pixels in (batch, batch.astype(np.float32) / np.float32(255)):
            got = clf.predict(pixels)
            digits, probs = _expected(check, pixels)
            assert got.digits.tolist() == digits.tolist() == labels[start : start + size].tolist()
            assert np.array_equal(got.probabilities, probs)
    # The shape seen last twice is on the fast path (else this test would prove nothing).
    assert clf._fast.shape == (1, 784)


def test_a_batch_run_in_between_does_not_break_the_fast_path(
    tiny: Path, framed_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    """The backend's run() fits the one interpreter to another batch size; the next fast call
    fits it back (its set_tensor refuses the other shape) and answers right."""
    images, labels = framed_digits
    clf = Classifier.load(tiny / "model_int8.tflite", backend="litert")
    for i in range(3):
        assert clf.predict(images[i : i + 1]).digits.tolist() == [labels[i]]
    assert clf._fast.shape == (1, 784)
    assert clf.backend.run(clf.prepare(images[:5])).argmax(1).tolist() == labels[:5].tolist()
    for i in range(3, 6):
        assert clf.predict(images[i : i + 1]).digits.tolist() == [labels[i]]
        assert clf.predict(images[i : i + 1] / np.float32(255)).digits.tolist() == [labels[i]]


def test_threads_sharing_one_classifier_each_get_their_own_answers(
    tiny: Path, framed_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    """One interpreter and one staged input buffer serve every thread: under the backend's lock
    no thread sees another's input, whatever batch sizes they mix."""
    images, labels = framed_digits
    clf = Classifier.load(tiny / "model_int8.tflite", backend="litert")
    wrong: list[str] = []

    start_together = threading.Barrier(4)

    def work(worker: int) -> None:
        size = (1, 1, 2, 3)[worker]
        start_together.wait()
        for step in range(2000):
            start = (worker * 37 + step * size) % (len(images) - size)
            batch = images[start : start + size]
            if step % 3 == 2:
                batch = batch.astype(np.float32) / np.float32(255)
            try:
                got = clf.predict(batch).digits.tolist()
            except Exception as exc:  # e.g. set_tensor refusing a shape another thread set
                got = [repr(exc)]
            if got != labels[start : start + size].tolist():
                wrong.append(f"thread {worker} step {step}: {got}")

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often: mid-call, if nothing guards the call
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert wrong == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.full((1, 784), np.nan, np.float32), "got float pixels with NaN"),
        (np.full((1, 784), 1.5, np.float32), "got float pixels with values from 1.5 to 1.5"),
        (np.full((1, 784), -0.25, np.float32), "values from -0.25 to -0.25"),
        (np.full((1, 784), 300, np.int64), "got integer pixels from 300 to 300"),
        (np.full((1, 784), "a"), "got an array of dtype <U1"),
    ],
    ids=["nan", "above-1", "negative", "int-300", "strings"],
)
def test_bad_input_of_the_fast_paths_shape_gets_the_usual_error(
    tiny: Path, framed_digits: tuple[np.ndarray, np.ndarray], bad: np.ndarray, message: str
) -> None:
    images, _ = framed_digits
    clf = Classifier.load(tiny / "model_int8.tflite", backend="litert")
    clf.predict(images[:1])
    clf.predict(images[1:2])
    assert clf._fast.shape == (1, 784)
    with pytest.raises(InvalidInputError, match=message):
        clf.predict(bad)
    # -0.0 is in [0, 1] (the bit-pattern check sends it to the exact check, which takes it).
    zeros = clf.predict(np.zeros((1, 784), np.float32)).probabilities
    assert np.array_equal(clf.predict(np.full((1, 784), -0.0, np.float32)).probabilities, zeros)
