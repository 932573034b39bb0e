"""Classifying the MNIST test set with 'edge-mnist predict', and comparing digits with the host's."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from .rows import EXACT


class Prediction(NamedTuple):
    """What 'predict --labels --json -' reports: one digit per image, accuracy, backend version."""

    digits: list[int]
    accuracy: float
    backend_version: str


# The host's reference per (backend, model): its prediction, or why it has none.
Reference = dict[tuple[str, str], Prediction | str]


def predict_cmd(
    model: str, backend: str, models: str, data: str, images: str, labels: str
) -> list[str]:
    """The one command both the host and the guests run, with their own folders."""
    return [
        "edge-mnist",
        "predict",
        f"{models}/{model}",
        f"{data}/{images}",
        "--labels",
        f"{data}/{labels}",
        "--backend",
        backend,
        "--json",
        "-",
    ]


def parse_predict(stdout: str) -> Prediction:
    """Digits, accuracy and backend version from 'predict --labels --json -'."""
    report = json.loads(stdout)
    digits = [int(i["digit"]) for i in report["items"]]
    model = report.get("model", {})
    return Prediction(digits, float(report["accuracy"]), str(model.get("backend_version", "")))


def agreement(backend: str, digits: list[int], host: Prediction) -> tuple[dict[str, Any], str]:
    """The comparison's result fields, and a failure note ('' unless an exact backend differs).

    status: 'identical' (every digit the host's); 'differs' for a backend in EXACT, which must
    match bit for bit; 'reported' for the others, whose float rounding may differ by CPU.
    """
    same = sum(a == b for a, b in zip(digits, host.digits, strict=True))
    differ = len(digits) - same
    fields: dict[str, Any] = {
        "agreement": same / len(digits),
        "differ": differ,
        "host_accuracy": host.accuracy,
    }
    if differ == 0:
        return {**fields, "status": "identical"}, ""
    if backend in EXACT:
        return {**fields, "status": "differs"}, f"{differ} digits differ from the host"
    return {**fields, "status": "reported"}, ""
