"""A fleet's bench reports side by side: the table (one row per board × model × backend × batch)
and the gate (each report against the baseline of its own board, judged by ``diff_reports``).

Reports are small JSON files that each board writes on its own; nothing here needs the boards,
a shared store or the models: a CI fan-in job downloads the reports and runs these.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..sysinfo import BOARD_NAME, board_id
from .errors import BenchError, BenchRegressionError
from .report import RAW, ReportDiff, diff_reports, read_report

TABLE_SCHEMA_VERSION = 1
GATE_SCHEMA_VERSION = 1
TABLE_SCHEMA_FILE = Path(__file__).with_name("fleet-table.schema.json")
GATE_SCHEMA_FILE = Path(__file__).with_name("fleet-gate.schema.json")
# The firmware's "nothing happened" value of get_throttled.
NOT_THROTTLED = ("0x0", "0")


def report_board(report: dict[str, Any], source: str) -> str:
    """The board id a report (read from ``source``) was recorded under, checked: it names the
    baseline file ``<id>.json``, so an id like '../../x' is refused (BenchError, exit 2).

    Reports made before --board carry none: theirs is derived from their own environment
    fields (board, cpu_model) only, never the host name of the machine reading them."""
    env = report["environment"]
    board = env.get("board_id")
    if board is None:
        board = board_id(env)
    if not isinstance(board, str) or not BOARD_NAME.match(board):
        raise BenchError(
            f"{source}: board_id {board!r} is not a usable board name.",
            "record the report again with 'bench --board NAME' (letters, digits, '-', '_' and "
            "'.', not starting with '.'), or correct environment.board_id in the report.",
        )
    return board


def _flags(env: dict[str, Any]) -> list[str]:
    """Why a board's figures may be low: throttling at the start or end, a governor that is not
    'performance'. (A machine that shows no governor, a VM or a container, is not flagged.)"""
    flags = []
    for key in ("throttled", "throttled_end"):
        value = env.get(key)
        if value and value not in NOT_THROTTLED:
            flags.append(f"throttled {value}")
            break
    governor = env.get("governor")
    if governor and governor != "performance":
        flags.append(f"governor {governor}")
    return flags


def _board(env: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": env.get("board"),
        "cpu": env["cpu_model"],
        "machine": env["machine"],
        "os": env["os"],
        "python": env["python"],
    }


def fleet_rows(reports: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per board × model × backend × batch × mode (the raw interpreter loops left out:
    the runtime's call is what a device runs), grouped by model, batch and mode, fastest first:
    boards run the interpreter they support, so every board and backend competes in one group,
    and the first row of each is marked ``fastest``."""
    rows = []
    for source, report in reports:
        env = report["environment"]
        for m in report["models"]:
            for r in m["results"]:
                if str(r["mode"]).startswith(RAW):
                    continue
                rows.append(
                    {
                        "board_id": report_board(report, source),
                        "board": _board(env),
                        "model": m["name"],
                        "backend": m["backend"],
                        "backend_version": str(m.get("backend_version") or ""),
                        "batch": r["batch"],
                        "mode": r["mode"],
                        "p50_us": r["latency_us"]["p50"],
                        "p99_us": r["latency_us"]["p99"],
                        "images_per_s": r["throughput_ips"],
                        "peak_rss_bytes": m.get("peak_rss_bytes"),
                        "flags": _flags(env),
                        "fastest": False,
                        "report": source,
                    }
                )
    seen: dict[tuple[Any, ...], str] = {}
    for row in rows:
        key = (row["board_id"], row["model"], row["backend"], row["batch"], row["mode"])
        if key in seen:
            raise BenchError(
                f"{row['report']} and {seen[key]} both have board {row['board_id']}, "
                f"{row['model']} ({row['backend']}) batch {row['batch']} {row['mode']}.",
                "give each board its own name with 'bench --board NAME', or pass one report "
                "per board.",
            )
        seen[key] = row["report"]

    def group(r: dict[str, Any]) -> tuple[Any, ...]:
        return (r["model"], r["batch"], r["mode"])

    rows.sort(key=lambda r: (*group(r), r["p50_us"], r["board_id"], r["backend"]))
    for i, row in enumerate(rows):
        row["fastest"] = i == 0 or group(rows[i - 1]) != group(row)
    return rows


def _read_all(paths: list[Path]) -> list[tuple[str, dict[str, Any]]]:
    if not paths:
        raise BenchError("no reports given.", "pass one or more 'bench --json' files.")
    return [(str(p), read_report(p)) for p in paths]


def fleet_table(paths: list[Path]) -> dict[str, Any]:
    """The fleet table's JSON document (fleet-table.schema.json) from bench reports."""
    reports = _read_all(paths)
    rows = fleet_rows(reports)
    return {
        "schema_version": TABLE_SCHEMA_VERSION,
        "created": _now(),
        "reports": [p for p, _r in reports],
        "boards": sorted({r["board_id"] for r in rows}),
        "rows": rows,
    }


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class BoardVerdict:
    """One report against its board's baseline."""

    board_id: str
    report: str
    baseline: str
    diff: ReportDiff

    def to_dict(self) -> dict[str, Any]:
        return {
            "board_id": self.board_id,
            "report": self.report,
            "baseline": self.baseline,
            "passed": not self.diff.regressions,
            "changes": [c.to_dict() for c in self.diff.changes],
            "notes": self.diff.notes,
        }


def baseline_command(board: str, report: dict[str, Any], baselines: Path) -> str:
    """The command that records a baseline for ``board`` like the given report."""
    models = " ".join(dict.fromkeys(str(m["path"]) for m in report["models"]))
    batches = ",".join(str(b) for b in report["settings"]["batches"])
    backends = "".join(f" -b {b}" for b in report["settings"].get("backends") or ())
    return (
        f"on that board: edge-mnist bench {models}{backends} --batch {batches} "
        f"--board {board} --json {baselines / (board + '.json')}"
    )


def fleet_gate(
    paths: list[Path], baselines: Path | None, max_regression_pct: float
) -> list[BoardVerdict]:
    """Compare each report with ``baselines/<board id>.json``. Every report is matched before
    anything is compared: a board without a baseline is a usage error (exit 2) naming the command
    that records one."""
    if baselines is None:
        raise BenchError("--baselines is required.", "pass --baselines DIR (BOARD_ID.json files).")
    if baselines.exists() and not baselines.is_dir():
        raise BenchError(
            f"--baselines {baselines} is not a folder.",
            "pass the folder that holds one BOARD_ID.json baseline report per board.",
        )
    # A folder not made yet is a fleet without baselines: each board below gets the command
    # that records its first one.
    reports = _read_all(paths)
    missing = []
    for source, report in reports:
        board = report_board(report, source)
        if not (baselines / f"{board}.json").is_file():
            missing.append(
                f"{source}: board {board} has no baseline {baselines / (board + '.json')}; "
                + baseline_command(board, report, baselines)
            )
    if missing:
        raise BenchError(
            "\n  ".join(["no baseline for:", *missing]),
            "record each missing baseline with the command shown (or copy an accepted report "
            "there).",
        )
    verdicts = []
    for source, report in reports:
        board = report_board(report, source)
        path = baselines / f"{board}.json"
        diff = diff_reports(read_report(path), report, max_regression_pct)
        verdicts.append(BoardVerdict(board, source, str(path), diff))
    return verdicts


def gate_document(verdicts: list[BoardVerdict], max_regression_pct: float) -> dict[str, Any]:
    """The gate's JSON document (fleet-gate.schema.json)."""
    return {
        "schema_version": GATE_SCHEMA_VERSION,
        "created": _now(),
        "max_regression_pct": max_regression_pct,
        "passed": all(not v.diff.regressions for v in verdicts),
        "boards": [v.to_dict() for v in verdicts],
    }


def raise_on_fleet_regression(verdicts: list[BoardVerdict], max_regression_pct: float) -> None:
    """BenchRegressionError (exit 1) naming each board and figure that regressed."""
    lines = [
        f"{v.board_id}: {c.model} ({c.backend}) batch {c.batch} {c.mode}: p50 "
        f"{c.old_p50_us:.1f} → {c.new_p50_us:.1f} µs ({c.change_pct:+.1f}%)"
        for v in verdicts
        for c in v.diff.regressions
    ]
    if lines:
        boards = sorted({v.board_id for v in verdicts if v.diff.regressions})
        raise BenchRegressionError(
            f"{len(lines)} p50 {'latency' if len(lines) == 1 else 'latencies'} regressed by more "
            f"than {max_regression_pct:g}% on {', '.join(boards)}:\n  " + "\n  ".join(lines),
            "find the cause, or pass a larger --max-regression if the change is expected.",
        )
