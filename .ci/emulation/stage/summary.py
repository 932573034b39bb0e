"""The stage's summary: the JSON that README's "Tested on" is rendered from, and the terminal table.

emulation.json, schema 1: {schema, generated, host: {machine, cpus, load_at_start, load_at_end,
qemu, seconds}, total_seconds, rows: [{key, platform, debian, python, cpu, backends, status, notes,
seconds, results, tests, steps}]}, rows in table order.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path
from typing import Any

from .outcome import Outcome
from .proc import run
from .rows import ROWS, by_table_order
from .textfmt import align


def host_info(load: tuple[float, ...], host_seconds: float) -> dict[str, Any]:
    """The machine that emulated, its load at the start and now, and qemu's version."""
    qemu = run(["qemu-aarch64-static", "--version"]).stdout.splitlines()[0]
    return {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_at_start": [round(x, 2) for x in load],
        "load_at_end": [round(x, 2) for x in os.getloadavg()],
        "qemu": qemu,
        "seconds": host_seconds,
    }


def report(outcomes: list[Outcome], host: dict[str, Any], total: float) -> dict[str, Any]:
    """The summary of the rows done so far."""
    return {
        "schema": 1,
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": host,
        "total_seconds": total,
        "rows": [row_entry(o) for o in sorted(outcomes, key=lambda o: by_table_order(o.row.key))],
    }


def row_entry(o: Outcome) -> dict[str, Any]:
    return {
        "key": o.row.key,
        "platform": o.row.platform,
        "debian": f"{o.suite or '/'.join(o.row.suites)} {o.row.arch}",
        "python": o.python,
        "cpu": o.row.cpu,
        "backends": list(o.row.backends),
        "status": o.status,
        "notes": o.notes,
        "seconds": o.seconds,
        "results": o.results,
        "tests": o.tests,
        "steps": o.steps,
    }


def merge(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """new's rows replacing the same rows of old and keeping old's others, in table order."""
    kept = {r["key"]: r for r in old["rows"]}
    kept.update({r["key"]: r for r in new["rows"]})
    return {**new, "rows": [kept[r.key] for r in ROWS if r.key in kept]}


def write(out: Path, summary: dict[str, Any], some_rows: bool) -> None:
    """Atomically; a run of some rows updates those rows in an existing summary."""
    if some_rows and out.exists():
        summary = merge(summary, json.loads(out.read_text()))
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(summary, indent=2) + "\n")
    tmp.replace(out)


def table(outcomes: list[Outcome]) -> list[str]:
    """One line per result (or per row without results), then each row's timings and notes."""
    head = ["row", "backend", "model", "accuracy", "agreement with host", "status"]
    body = []
    for o in outcomes:
        for r in o.results:
            acc = f"{r['accuracy']:.2%}" if "accuracy" in r else "-"
            agree = f"{r['agreement']:.2%} ({r['differ']} differ)" if "agreement" in r else "-"
            body.append([o.row.key, r["backend"], r["model"], acc, agree, r.get("status", "")])
        if not o.results:
            body.append([o.row.key, "-", "-", "-", "-", o.status + ": " + "; ".join(o.notes[-1:])])
    lines = [*align(head, body), ""]
    for o in outcomes:
        secs = ", ".join(f"{k} {v:.0f} s" for k, v in o.seconds.items())
        lines.append(f"{o.row.key:15} {o.status:8} {secs}")
        lines += [f"{'':15} {note}" for note in o.notes]
    return lines
