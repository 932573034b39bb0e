"""What to time: the benchmark's settings and the parsers of their command-line forms."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..backends import check_threads, spec_for
from .errors import BenchError
from .timing import DEFAULT_RUNS, DEFAULT_WARMUP

DEFAULT_BATCHES = (1, 8, 64)
MAX_BATCH = 65_536
# Pixel forms the runtime is timed with: uint8 0-255, and float32 in [0, 1].
PIXEL_FORMS = ("uint8", "float")


def parse_batches(text: str) -> tuple[int, ...]:
    """Parse "1,8,64" into batch sizes (each 1..MAX_BATCH, duplicates dropped, order kept)."""
    sizes: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            size = int(part)
        except ValueError:
            raise BenchError(
                f"bad batch size {part!r} in --batch {text!r}.",
                "give positive integers separated by commas, e.g. --batch 1,8,64.",
            ) from None
        if not 1 <= size <= MAX_BATCH:
            raise BenchError(
                f"batch size {size} is out of range (1 to {MAX_BATCH}).",
                "give positive integers separated by commas, e.g. --batch 1,8,64.",
            )
        if size not in sizes:
            sizes.append(size)
    return tuple(sizes)


def parse_percent(text: str) -> float:
    """Parse a threshold given as "10%" or "10" into percent (10.0)."""
    value = text.strip().removesuffix("%").strip()
    try:
        pct = float(value)
    except ValueError:
        pct = math.nan
    if not (math.isfinite(pct) and pct >= 0):
        raise BenchError(
            f"bad percentage {text!r}.", "give a non-negative number, with or without %, e.g. 10%."
        )
    return pct


@dataclass(frozen=True)
class BenchConfig:
    """What to time: batch sizes, backends, threads, and how long to time each series."""

    batches: tuple[int, ...] = DEFAULT_BATCHES
    # Empty: the runtime picks one backend per model. Otherwise every listed backend that can
    # run a model's format is benchmarked on it.
    backends: tuple[str, ...] = ()
    threads: int | None = None
    warmup: int = DEFAULT_WARMUP
    runs: int | None = None
    seconds: float | None = None
    accuracy: int | None = None
    # The pixel forms to time the runtime with, each beside a raw loop fed the same input.
    pixels: tuple[str, ...] = ("uint8",)

    def validate(self) -> None:
        """Raise BenchError for values the benchmark cannot use; backend names and threads go
        through the backends' own checks, with their errors."""
        if not self.batches:
            raise BenchError("no batch sizes given.", "pass e.g. --batch 1,8,64.")
        for b in self.batches:
            if not 1 <= b <= MAX_BATCH:
                raise BenchError(f"batch size {b} is out of range (1 to {MAX_BATCH}).")
        for name in self.backends:
            spec_for(name)
        check_threads(self.threads)
        if self.warmup < 0:
            raise BenchError(f"--warmup must be 0 or more, got {self.warmup}.")
        if self.runs is not None and self.seconds is not None:
            raise BenchError("--runs and --seconds exclude each other.", "pass only one of them.")
        if self.runs is not None and self.runs < 1:
            raise BenchError(f"--runs must be at least 1, got {self.runs}.")
        if self.seconds is not None and not (math.isfinite(self.seconds) and self.seconds > 0):
            raise BenchError(f"--seconds must be a positive number, got {self.seconds}.")
        bad = [p for p in self.pixels if p not in PIXEL_FORMS]
        if bad or not self.pixels:
            raise BenchError(
                f"unknown pixel form {bad[0] if bad else ''!r}.",
                f"choose from: {', '.join(PIXEL_FORMS)}.",
            )
        if self.accuracy is not None and self.accuracy < 1:
            raise BenchError(f"--accuracy must be at least 1 image, got {self.accuracy}.")

    @property
    def timed_runs(self) -> int | None:
        """Timed calls per series: --runs, the default, or None when timing by --seconds."""
        if self.seconds is not None:
            return None
        return DEFAULT_RUNS if self.runs is None else self.runs

    def to_dict(self) -> dict[str, Any]:
        return {
            "batches": list(self.batches),
            "backends": list(self.backends) or None,
            "threads": self.threads,
            "warmup": self.warmup,
            "runs": self.timed_runs,
            "seconds": self.seconds,
            "accuracy_images": self.accuracy,
            "pixels": list(self.pixels),
        }
