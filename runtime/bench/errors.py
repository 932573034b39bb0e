"""The benchmark's own errors (part of the one hierarchy, not of the runtime core's API)."""

from __future__ import annotations

from ..errors import EdgeMnistError


class BenchError(EdgeMnistError):
    """A benchmark option, report file or output path that cannot be used."""


class BenchRegressionError(EdgeMnistError):
    """A p50 latency got worse than the allowed regression between two reports."""

    exit_code = 1
