"""What one row did: its status, notes, timings, steps, results and device tests."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from .proc import log, tail
from .rows import Row


@dataclass
class Outcome:
    """Everything one row did, for the summary; filled in by the row's own thread only."""

    row: Row
    suite: str = ""
    python: str = ""
    status: str = "ok"  # or "failed"
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    tests: dict[str, Any] = field(default_factory=dict)

    def fail(self, note: str) -> None:
        self.status = "failed"
        self.notes.append(note)

    def step(self, name: str, proc: subprocess.CompletedProcess[str], t0: float) -> bool:
        """Record one guest command (started at monotonic t0); True if it exited 0."""
        ok = proc.returncode == 0
        self.steps.append(
            {
                "name": name,
                "ok": ok,
                "exit": proc.returncode,
                "seconds": round(time.monotonic() - t0, 1),
                "detail": tail(proc.stdout if ok else proc.stderr or proc.stdout, 2),
            }
        )
        result = "ok" if ok else f"exit {proc.returncode}"
        log(f"{self.row.key}: {name}: {result} ({time.monotonic() - t0:.0f} s)")
        return ok
