"""Bench reports: the JSON schema, reading and writing, comparing two runs, tables and plots."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_path
from .errors import BenchError, BenchRegressionError

SCHEMA_VERSION = 1
RUNTIME = "runtime"
RAW = "raw"
# The keys of ``summarize``'s result, in display order.
STAT_KEYS = ("count", "mean", "std", "min", "p50", "p90", "p99", "max")

# (model name, backend, batch, mode): one timed series.
SampleKey = tuple[str, str, int, str]


@dataclass
class BenchReport:
    """The JSON-ready report and every timed series (µs per call) for plotting."""

    data: dict[str, Any]
    samples: dict[SampleKey, np.ndarray] = field(default_factory=dict)


def write_report(report: BenchReport | dict[str, Any], target: Path) -> None:
    """Write the report's JSON atomically."""
    data = report.data if isinstance(report, BenchReport) else report
    text = json.dumps(data, indent=2) + "\n"
    with atomic_path(Path(target)) as tmp:
        tmp.write_text(text, encoding="utf-8")


def read_report(path: Path) -> dict[str, Any]:
    """Read a bench JSON report and check the parts that ``compare_reports`` relies on."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchError(
            f"{path}: no such report.", "pass a file written by 'edge-mnist bench --json'."
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BenchError(f"{path}: not a readable JSON report ({exc}).") from None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        found = data.get("schema_version") if isinstance(data, dict) else None
        raise BenchError(
            f"{path}: not a bench report of schema version {SCHEMA_VERSION} (found {found!r}).",
            "pass a file written by 'edge-mnist bench --json'.",
        )
    models = data.get("models")
    if not isinstance(models, list) or not all(_well_formed(m) for m in models):
        raise BenchError(f"{path}: the report's models or results are malformed.")
    return data


def _well_formed(model: Any) -> bool:
    if not isinstance(model, dict) or not isinstance(model.get("results"), list):
        return False
    if not (isinstance(model.get("name"), str) and isinstance(model.get("backend"), str)):
        return False
    for r in model["results"]:
        if (
            not isinstance(r, dict)
            or not isinstance(r.get("mode"), str)
            or not isinstance(r.get("batch"), int)
        ):
            return False
        p50 = r.get("latency_us", {}).get("p50") if isinstance(r.get("latency_us"), dict) else None
        if not isinstance(p50, (int, float)) or isinstance(p50, bool) or not p50 >= 0:
            return False
    return True


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
class Comparison:
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


def compare_reports(
    old: dict[str, Any], new: dict[str, Any], max_regression_pct: float = 10.0
) -> Comparison:
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
    return Comparison(changes, max_regression_pct, notes)


def check_plot_available() -> None:
    """Raise BenchError now, before any timing, if --plot cannot work."""
    if importlib.util.find_spec("matplotlib") is None:
        raise BenchError(
            "--plot needs matplotlib, which is not installed.", "pip install matplotlib"
        )


def plot_latencies(report: BenchReport, target: Path) -> None:
    """Write a PNG with one box plot of call latencies per model (matplotlib, Agg backend)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise BenchError(
            "--plot needs matplotlib, which is not installed.", "pip install matplotlib"
        ) from None
    groups: dict[tuple[str, str], list[tuple[str, np.ndarray]]] = {}
    for (name, backend, batch, mode), samples in report.samples.items():
        groups.setdefault((name, backend), []).append((f"b{batch}\n{mode}", samples))
    if not groups:
        raise BenchError("there are no timings to plot.")
    fig = Figure(figsize=(max(6.0, 1.1 * max(len(g) for g in groups.values())), 3.2 * len(groups)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(groups), 1, squeeze=False)[:, 0]
    for ax, ((name, backend), series) in zip(axes, groups.items(), strict=True):
        ax.boxplot([s for _l, s in series], showfliers=True, whis=(1, 99))
        ax.set_xticks(range(1, len(series) + 1), [label for label, _s in series], fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("µs per call")
        ax.set_title(f"{name} ({backend}): whiskers p1–p99", fontsize=10)
        ax.grid(True, axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    with atomic_path(Path(target), suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=110)


_NUM = {"type": "number"}
_NUM_OR_NULL = {"type": ["number", "null"]}
_INT_OR_NULL = {"type": ["integer", "null"]}
_STR_OR_NULL = {"type": ["string", "null"]}
_TENSOR = {
    "type": ["object", "null"],
    "required": ["name", "dtype", "shape", "scale", "zero_point"],
}
_RESULT = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "batch",
        "mode",
        "latency_us",
        "per_image_us",
        "throughput_ips",
        "overhead_vs_raw",
    ],
    "properties": {
        "batch": {"type": "integer", "minimum": 1},
        "mode": {"type": "string", "minLength": 1},
        "latency_us": {
            "type": "object",
            "additionalProperties": False,
            "required": list(STAT_KEYS),
            "properties": {k: {"type": "number", "minimum": 0} for k in STAT_KEYS},
        },
        "per_image_us": {"type": "number", "minimum": 0},
        "throughput_ips": _NUM_OR_NULL,
        "overhead_vs_raw": _NUM_OR_NULL,
    },
}
_MODEL = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "name",
        "path",
        "size_bytes",
        "format",
        "backend",
        "backend_version",
        "threads",
        "input",
        "output",
        "setup_ms",
        "setup_rss_increase_bytes",
        "load_ms",
        "rss_before_bytes",
        "rss_increase_bytes",
        "rss_method",
        "first_inference_us",
        "first_inference_batch",
        "results",
        "accuracy",
        "peak_rss_bytes",
    ],
    "properties": {
        "name": {"type": "string"},
        "path": {"type": "string"},
        "size_bytes": {"type": "integer", "minimum": 0},
        "format": {"type": "string"},
        "backend": {"type": "string"},
        "backend_version": {"type": "string"},
        "threads": _INT_OR_NULL,
        "input": _TENSOR,
        "output": _TENSOR,
        "setup_ms": _NUM,
        "setup_rss_increase_bytes": _INT_OR_NULL,
        "load_ms": _NUM,
        "rss_before_bytes": _INT_OR_NULL,
        "rss_increase_bytes": _INT_OR_NULL,
        "rss_method": {"enum": ["statm", "maxrss", None]},
        "first_inference_us": _NUM,
        "first_inference_batch": {"type": "integer", "minimum": 1},
        "results": {"type": "array", "minItems": 1, "items": _RESULT},
        "accuracy": {
            "type": ["object", "null"],
            "required": ["images", "correct", "accuracy"],
            "properties": {
                "images": {"type": "integer", "minimum": 1},
                "correct": {"type": "integer", "minimum": 0},
                "accuracy": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
        "peak_rss_bytes": _INT_OR_NULL,
    },
}
# The report's JSON Schema (draft 2020-12); jsonschema is not needed on devices.
REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "edge-mnist bench report",
    "type": "object",
    "required": ["schema_version", "created", "settings", "input", "environment", "models"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "created": {"type": "string"},
        "settings": {
            "type": "object",
            "required": [
                "batches",
                "backends",
                "threads",
                "warmup",
                "runs",
                "seconds",
                "accuracy_images",
            ],
            "properties": {
                "batches": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "integer", "minimum": 1},
                },
                "backends": {"type": ["array", "null"], "items": {"type": "string"}},
                "threads": _INT_OR_NULL,
                "warmup": {"type": "integer", "minimum": 0},
                "runs": _INT_OR_NULL,
                "seconds": _NUM_OR_NULL,
                "accuracy_images": _INT_OR_NULL,
            },
        },
        "input": {
            "type": "object",
            "required": ["source", "images", "labels"],
            "properties": {
                "source": {"type": "string"},
                "images": {"type": "integer", "minimum": 1},
                "labels": {"type": "boolean"},
            },
        },
        "environment": {
            "type": "object",
            "required": [
                "cpu_model",
                "machine",
                "cores",
                "governor",
                "temperature_c",
                "throttled",
                "os",
                "python",
                "packages",
                "threads",
            ],
            "properties": {
                "cpu_model": {"type": "string"},
                "board": _STR_OR_NULL,
                "machine": {"type": "string"},
                "cores": _INT_OR_NULL,
                "cores_usable": _INT_OR_NULL,
                "governor": _STR_OR_NULL,
                "cpu_mhz": _NUM_OR_NULL,
                "cpu_max_mhz": _NUM_OR_NULL,
                "temperature_c": _NUM_OR_NULL,
                "temperature_end_c": _NUM_OR_NULL,
                "throttled": _STR_OR_NULL,
                "throttled_end": _STR_OR_NULL,
                "os": {"type": "string"},
                "python": {"type": "string"},
                "python_implementation": {"type": "string"},
                "packages": {
                    "type": "object",
                    "required": ["numpy"],
                    "additionalProperties": {"type": "string"},
                },
                "threads": {
                    "type": "object",
                    "required": ["requested", "env"],
                    "properties": {
                        "requested": _INT_OR_NULL,
                        "env": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                },
            },
        },
        "models": {"type": "array", "items": _MODEL},
    },
}


def format_table(report: BenchReport | dict[str, Any]) -> str:
    """A plain-text latency table (for logs and devices without rich)."""
    data = report.data if isinstance(report, BenchReport) else report
    head = (
        "model",
        "backend",
        "batch",
        "mode",
        "p50 µs",
        "p90 µs",
        "p99 µs",
        "µs/img",
        "img/s",
        "vs raw",
    )
    rows = [head]
    for m in data["models"]:
        for r in m["results"]:
            s = r["latency_us"]
            rows.append(
                (
                    m["name"],
                    m["backend"],
                    str(r["batch"]),
                    r["mode"],
                    f"{s['p50']:.1f}",
                    f"{s['p90']:.1f}",
                    f"{s['p99']:.1f}",
                    f"{r['per_image_us']:.2f}",
                    f"{r['throughput_ips']:,.0f}" if r["throughput_ips"] else "-",
                    f"{r['overhead_vs_raw']:.2f}×" if r["overhead_vs_raw"] else "",
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "  ".join(
            c.ljust(w) if i < 4 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)
