"""What the server answers, independent of HTTP: predictions, health and model facts as dicts."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from ..classifier import Classifier
from ..describe import describe_classifier
from .decode import parse_body
from .metrics import Metrics
from .selftest import self_test


class DigitService:
    """A loaded model with the facts every response repeats (computed once, at start)."""

    def __init__(self, classifier: Classifier, workers: int | None = None) -> None:
        self.classifier = classifier
        # Decoding and preprocessing are CPU-bound and a large photo briefly takes tens of MB:
        # with more of them at once than cores, requests only get slower and memory grows.
        self._work = threading.BoundedSemaphore(workers or max(2, os.cpu_count() or 2))
        self.info = describe_classifier(classifier)
        self.sha256: str = self.info["sha256"]
        self.metrics = Metrics()
        self._warm_up()
        self._started = time.time()

    @classmethod
    def load(
        cls, model: Classifier | str | Path, backend: str | None = None, threads: int | None = None
    ) -> DigitService:
        """Wrap a loaded classifier, or load a .tflite/.onnx file."""
        if isinstance(model, Classifier):
            return cls(model)
        return cls(Classifier.load(model, backend=backend, threads=threads))

    def predict(
        self, content_type: str | None, body: bytes, preprocessed: bool = False
    ) -> dict[str, Any]:
        """Classify a /predict body; raises ``EdgeMnistError`` for bodies that cannot be used."""
        start = time.perf_counter()
        with self._work:
            images = parse_body(content_type, body)
            pred = self.classifier.predict(images.batch)
        top3 = pred.top(3)
        out: dict[str, Any] = {
            "count": len(pred.digits),
            "digits": [int(d) for d in pred.digits],
            "probabilities": pred.probabilities.tolist(),
            "top3": [[{"digit": d, "probability": p} for d, p in row] for row in top3],
        }
        if images.names is not None:
            out["names"] = images.names
        if images.doubts is not None:
            # Images (not JSON pixels) are judged as Classifier.classify_image judges them.
            from ..preprocess.evidence import confidence_doubt

            tops = pred.probabilities.max(axis=1)
            reasons = [
                doubt if doubt is not None else confidence_doubt(top)
                for doubt, top in zip(images.doubts, tops.tolist(), strict=True)
            ]
            out["uncertain"] = [r is not None for r in reasons]
            out["reasons"] = reasons
        if preprocessed:
            out["preprocessed"] = images.as_uint8().tolist()
        out["model_sha256"] = self.sha256
        out["backend"] = self.classifier.info.backend
        out["format"] = self.classifier.info.format
        out["latency_ms"] = round((time.perf_counter() - start) * 1e3, 3)
        return out

    def _warm_up(self) -> None:
        """The start-up self-test, which also warms up before any client comes: the first call
        imports Pillow's plugins and allocates the interpreter's buffers (about 0.1 s)."""
        self.selftest = self_test(lambda png: int(self.predict("image/png", png)["digits"][0]))

    def health(self) -> dict[str, Any]:
        """A cheap liveness answer that still names the model being served, and the start-up
        self-test's result ("status" is "failing" when it did not pass)."""
        return {
            "status": "ok" if self.selftest["passed"] else "failing",
            "selftest": self.selftest,
            "model": Path(self.classifier.info.path).name,
            "model_sha256": self.sha256,
            "backend": self.classifier.info.backend,
            "uptime_s": round(time.time() - self._started, 1),
        }
