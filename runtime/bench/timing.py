"""Timing primitives: call a function many times, in alternating rounds, and summarize."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

DEFAULT_WARMUP = 20
DEFAULT_RUNS = 200
# Timed series alternate in this many rounds (see time_interleaved).
ROUNDS = 5


def summarize(samples_us: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Count, mean, sample std (n - 1), min, p50, p90, p99 and max of latencies in µs.

    Percentiles interpolate linearly between the closest ranks (numpy's default method).
    """
    a = np.asarray(samples_us, dtype=np.float64).ravel()
    if a.size == 0:
        raise ValueError("summarize() needs at least one sample")
    p50, p90, p99 = np.percentile(a, [50.0, 90.0, 99.0])
    return {
        "count": a.size,
        "mean": float(a.mean()),
        "std": float(a.std(ddof=1)) if a.size > 1 else 0.0,
        "min": float(a.min()),
        "p50": float(p50),
        "p90": float(p90),
        "p99": float(p99),
        "max": float(a.max()),
    }


def time_calls(
    fn: Callable[[Any], object],
    arg: Any,
    warmup: int = DEFAULT_WARMUP,
    runs: int | None = None,
    seconds: float | None = None,
) -> np.ndarray:
    """Call ``fn(arg)`` ``warmup`` times untimed, then ``runs`` times (or for about ``seconds``),
    and return each timed call's duration in µs."""
    clock = time.perf_counter_ns
    for _ in range(warmup):
        fn(arg)
    # The garbage collector would add its pauses to whichever call triggers it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        if seconds is None:
            ns = np.empty(DEFAULT_RUNS if runs is None else runs, dtype=np.int64)
            for i in range(len(ns)):
                t0 = clock()
                fn(arg)
                ns[i] = clock() - t0
        else:
            ns = np.empty(1024, dtype=np.int64)
            deadline = clock() + int(seconds * 1e9)
            n = 0
            while True:
                t0 = clock()
                fn(arg)
                t1 = clock()
                if n == len(ns):
                    ns = np.concatenate([ns, np.empty_like(ns)])
                ns[n] = t1 - t0
                n += 1
                if t1 >= deadline:
                    break
            ns = ns[:n]
    finally:
        if gc_was_enabled:
            gc.enable()
    return ns / 1e3


def time_interleaved(
    series: Sequence[tuple[str, Callable[[Any], object], Any]],
    warmup: int = DEFAULT_WARMUP,
    runs: int | None = None,
    seconds: float | None = None,
    rounds: int = ROUNDS,
) -> dict[str, np.ndarray]:
    """Time several (name, fn, arg) series in alternating rounds, so that a change of load,
    clock or temperature during the run affects them alike; return each one's µs per call."""
    total = DEFAULT_RUNS if runs is None and seconds is None else runs
    k = max(1, min(rounds, total)) if total is not None else rounds
    parts: dict[str, list[np.ndarray]] = {name: [] for name, _fn, _arg in series}
    for r in range(k):
        for name, fn, arg in series:
            n = None if total is None else total // k + (r < total % k)
            s = None if seconds is None else seconds / k
            parts[name].append(time_calls(fn, arg, warmup if r == 0 else 0, n, s))
    return {name: np.concatenate(p) for name, p in parts.items()}
