"""The model's own doubt ("the model is unsure") is one reason, worded and formatted once, for
classify_image and the serve page alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_models import DIGIT_PNGS

from edge_mnist.runtime import Classifier
from edge_mnist.runtime.preprocess import evidence
from edge_mnist.runtime.preprocess.evidence import LOW_CONFIDENCE, confidence_doubt
from edge_mnist.runtime.textfmt import confidence


def test_confidence_doubt_uses_the_shared_format() -> None:
    assert confidence_doubt(0.2345) == "the model is unsure (its top answer has 23.4%)"
    assert confidence_doubt(LOW_CONFIDENCE) is None
    assert confidence_doubt(0.99) is None


def test_classify_image_and_serve_give_the_same_reason(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edge_mnist.runtime.serve.service import DigitService

    # Every answer under the threshold: the digit's real top probability decides the text.
    monkeypatch.setattr(evidence, "LOW_CONFIDENCE", 1.01)
    model = tiny / "model_int8.tflite"
    pred = Classifier.load(model, backend="numpy").classify_image(DIGIT_PNGS[3])
    top = float(pred.probabilities[0].max())
    want = f"the model is unsure (its top answer has {confidence(top)})"
    assert pred.uncertain and pred.reason == want
    out = DigitService.load(model, backend="numpy").predict("image/png", DIGIT_PNGS[3].read_bytes())
    assert out["uncertain"] == [True] and out["reasons"] == [want]
