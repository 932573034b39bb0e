"""Bench reports: writing and reading the JSON (checked against its schema), and diffing two."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..jsonfile import read_json, write_json
from .errors import BenchError, BenchRegressionError
from .schema import first_error, report_schema

SCHEMA_VERSION = 1
RUNTIME = "runtime"
RAW = "raw"

# (model name, backend, batch, mode): one timed series.
SampleKey = tuple[str, str, int, str]


@dataclass
class BenchReport:
    """The JSON-ready report and every timed series (µs per call) for plotting."""

    data: dict[str, Any]
    samples: dict[SampleKey, np.ndarray] = field(default_factory=dict)


def write_report(report: BenchReport | dict[str, Any], target: Path) -> None:
    """Write the report's JSON atomically."""
    write_json(target, report.data if isinstance(report, BenchReport) else report)


def read_report(path: Path) -> dict[str, Any]:
    """Read a bench JSON report and check it against the report schema."""
    fix = "pass a file written by 'edge-mnist bench --json'."
    if not Path(path).exists():
        raise BenchError(f"{path}: no such report.", fix)
    data = read_json(path, what="the bench report", fix=fix, error=BenchError)
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        found = data.get("schema_version") if isinstance(data, dict) else None
        raise BenchError(
            f"{path}: not a bench report of schema version {SCHEMA_VERSION} (found {found!r}).",
            "pass a file written by 'edge-mnist bench --json'.",
        )
    problem = first_error(data, report_schema())
    if problem:
        raise BenchError(
            f"{path}: the report is malformed: {problem}.",
            "pass a file written by 'edge-mnist bench --json', unedited.",
        )
    return data


@dataclass(frozen=True)
class Change:
    """One matched (or unmatched) series: p50 latencies in both reports and the change."""

    model: str
    backend: str
    batch: int
    mode: str
    old_p50_us: float | None
    new_p50_us: float | None
    change_pct: float | None
    status: str  # regressed, improved, same, new (only in NEW), gone (only in OLD)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ReportDiff:
    """Every series of two reports and the threshold they were judged by."""

    changes: list[Change]
    max_regression_pct: float
    notes: list[str]

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.changes if c.status == "regressed"]

    def raise_on_regression(self) -> None:
        """Raise BenchRegressionError if any p50 latency regressed beyond the threshold."""
        bad = self.regressions
        if bad:
            lines = [
                f"{c.model} ({c.backend}) batch {c.batch} {c.mode}: p50 {c.old_p50_us:.1f} → "
                f"{c.new_p50_us:.1f} µs ({c.change_pct:+.1f}%)"
                for c in bad
            ]
            raise BenchRegressionError(
                f"{len(bad)} p50 {'latency' if len(bad) == 1 else 'latencies'} regressed by "
                f"more than {self.max_regression_pct:g}%:\n  " + "\n  ".join(lines),
                "find the cause, or pass a larger --max-regression if the change is expected.",
            )


def _p50s(report: dict[str, Any], notes: list[str], label: str) -> dict[SampleKey, float]:
    out: dict[SampleKey, float] = {}
    for m in report["models"]:
        for r in m["results"]:
            key = (str(m["name"]), str(m["backend"]), int(r["batch"]), str(r["mode"]))
            if key in out:
                name, backend, batch, mode = key
                notes.append(
                    f"{label} has {name} ({backend}) batch {batch} {mode} twice; kept the first."
                )
                continue
            out[key] = float(r["latency_us"]["p50"])
    return out


def diff_reports(
    old: dict[str, Any], new: dict[str, Any], max_regression_pct: float = 10.0
) -> ReportDiff:
    """Match series by model file name, backend, batch and mode, and judge each p50 change."""
    notes: list[str] = []
    a, b = _p50s(old, notes, "OLD"), _p50s(new, notes, "NEW")
    changes = []
    for key in [*a, *(k for k in b if k not in a)]:
        o, n = a.get(key), b.get(key)
        if o is None or n is None:
            changes.append(Change(*key, o, n, None, "new" if o is None else "gone"))
            continue
        pct = (n / o - 1.0) * 100.0 if o > 0 else (0.0 if n == o else math.inf)
        status = (
            "regressed"
            if pct > max_regression_pct
            else "improved"
            if pct < -max_regression_pct
            else "same"
        )
        changes.append(Change(*key, o, n, pct, status))
    if not any(c.change_pct is not None for c in changes):
        raise BenchError(
            "the two reports have no series in common (model file, backend, batch and mode), "
            "so nothing can be compared.",
            "benchmark the same models, backends and batch sizes in both runs.",
        )
    eo, en = old.get("environment") or {}, new.get("environment") or {}
    for k in ("cpu_model", "machine", "governor", "packages"):
        if eo.get(k) != en.get(k):
            notes.append(f"the environments differ in {k}: {eo.get(k)!r} vs {en.get(k)!r}.")
    if eo.get("threads", {}).get("requested") != en.get("threads", {}).get("requested"):
        notes.append("the two runs requested different thread counts.")
    return ReportDiff(changes, max_regression_pct, notes)
