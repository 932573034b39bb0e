"""Running programs and reporting progress: the shell-level helpers every step uses."""

from __future__ import annotations

import subprocess
import time
from typing import Any


class StageError(Exception):
    """A row step that cannot go on."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, text=True, capture_output=True, **kw)


def tail(text: str, lines: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def since(t0: float) -> float:
    """Seconds since the monotonic time t0, to a tenth."""
    return round(time.monotonic() - t0, 1)
