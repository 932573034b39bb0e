"""What a pytest run printed: its summary line, counts, failed tests and slowest durations."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .proc import tail


@dataclass(frozen=True)
class PytestRun:
    summary: str  # pytest's last line, e.g. '46 passed, 1 skipped in 120.97s (0:02:00)'
    counts: dict[str, int]  # 'passed', 'failed', 'skipped', 'error' or 'errors' -> number
    failed: list[str]  # node ids of FAILED and ERROR lines (-rfE)
    slowest: list[dict[str, Any]]  # --durations lines: {'test': node id, 'seconds': float}


def parse(stdout: str, stderr: str) -> PytestRun:
    """The run's summary from its -q -rfE --durations output; the last output line if it has none
    (pytest did not get to run)."""
    lines = [x for x in stdout.strip().splitlines() if re.search(r"\d+ (passed|failed)", x)]
    summary = lines[-1].strip("= ") if lines else tail(stdout + stderr, 1)
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|skipped|errors?)", summary)}
    slowest = re.findall(r"^([0-9.]+)s (?:call|setup|teardown) +(\S+)$", stdout, re.M)
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", stdout, re.M)
    return PytestRun(
        summary, counts, failed, [{"test": t, "seconds": float(sec)} for sec, t in slowest]
    )
