"""The latency benchmark: our runtime against the raw interpreter call, on this device.

``timing`` (the one timing loop), ``config`` (settings), ``data`` (test images), ``run``
(loading and timing models), ``report`` (JSON, schema check, diff), ``schema`` (the report's
JSON Schema), ``render`` (text table, plot), ``__main__`` (``python -m runtime.bench``),
``coldstart`` (start-up figures). The names below load their module on first use, so that
importing one light module (say ``timing``) does not load the whole benchmark.
"""

from __future__ import annotations

from typing import Any

from ..lazy import load, where

_EXPORTS = {
    "config": ("DEFAULT_BATCHES", "PIXEL_FORMS", "BenchConfig", "parse_batches", "parse_percent"),
    "data": ("TestImages", "load_test_images"),
    "errors": ("BenchError", "BenchRegressionError"),
    "render": ("require_plotting", "format_table", "plot_latencies"),
    "report": (
        "RAW",
        "RUNTIME",
        "SCHEMA_VERSION",
        "BenchReport",
        "Change",
        "ReportDiff",
        "diff_reports",
        "read_report",
        "write_report",
    ),
    "run": ("ExternalModel", "ExternalRunner", "run_bench"),
    "schema": ("report_schema",),
    "timing": ("DEFAULT_RUNS", "DEFAULT_WARMUP", "summarize", "time_calls", "time_interleaved"),
}
_WHERE = where(_EXPORTS)
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    return load(__name__, _WHERE, name)
