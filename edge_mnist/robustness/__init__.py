"""Robustness of a deployed model to real handwriting: named image variations and the report."""

from __future__ import annotations

from edge_mnist.robustness.report import RobustnessReport, robustness_report
from edge_mnist.robustness.variations import NAMES, VARIATIONS, Variation

__all__ = ["NAMES", "VARIATIONS", "RobustnessReport", "Variation", "robustness_report"]
