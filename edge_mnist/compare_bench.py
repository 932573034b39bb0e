"""Time one exported model for the Pareto table, in a child process that holds only the runtime.

The compare run has TensorFlow loaded; a child process that imports only numpy, the runtime and
one interpreter measures latency and memory as a device would see them. The child is the
runtime's own benchmark (``python -m edge_mnist.runtime.bench``), so there is one timing loop.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from edge_mnist.runtime.errors import EdgeMnistError

BATCHES = (1, 64)
# Every backend runs on one thread: on a shared or small machine, BLAS and interpreter thread
# pools that outnumber the free cores make batch-64 figures swing by orders of magnitude.
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TIMEOUT_S = 900


@dataclass(frozen=True)
class BenchFigures:
    """What the Pareto table needs from one model on one backend."""

    backend: str
    backend_version: str
    p50_us_batch1: float
    images_per_s_batch64: float
    load_ms: float
    rss_at_load_bytes: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def best_tflite_backend() -> str:
    """The backend the runtime picks for a .tflite file on this machine."""
    from edge_mnist.runtime.backends import TFLITE, pick_backend

    return pick_backend(TFLITE, None).name


def available_backends() -> tuple[str, ...]:
    """Backend names the runtime knows."""
    from edge_mnist.runtime.backends import BACKENDS

    return tuple(BACKENDS)


def _rss_at_load(entry: dict[str, Any]) -> int | None:
    # The resident set right after loading, from /proc (statm). The child's ru_maxrss would not
    # do: Linux carries the high-water mark across fork and exec, so it reports the parent's.
    before, added = entry.get("rss_before_bytes"), entry.get("rss_increase_bytes")
    return before + added if before is not None and added is not None else None


def _figures(report: dict[str, Any]) -> BenchFigures:
    entry = report["models"][0]
    p50 = {r["batch"]: r["latency_us"]["p50"] for r in entry["results"] if r["mode"] == "runtime"}
    return BenchFigures(
        backend=entry["backend"],
        backend_version=str(entry.get("backend_version") or ""),
        p50_us_batch1=round(float(p50[1]), 2),
        # From the median call, not the mean: steadier on a shared machine.
        images_per_s_batch64=round(64e6 / float(p50[64]), 1),
        load_ms=round(float(entry["load_ms"]), 3),
        rss_at_load_bytes=_rss_at_load(entry),
    )


def bench_in_child(
    path: Path, backend: str, data_dir: Path | None = None, runs: int | None = None
) -> BenchFigures:
    """Benchmark ``path`` on ``backend`` at batch 1 and 64 in a fresh interpreter process."""
    with tempfile.TemporaryDirectory(prefix="edge-mnist-compare-") as tmp:
        report_path = Path(tmp) / "bench.json"
        cmd = [
            sys.executable,
            "-m",
            "edge_mnist.runtime.bench",
            str(path),
            "--backend",
            backend,
            "--batch",
            ",".join(map(str, BATCHES)),
            "--json",
            str(report_path),
            "--threads",
            "1",
        ]
        if data_dir is not None:
            cmd += ["--data-dir", str(data_dir)]
        if runs is not None:
            cmd += ["--runs", str(runs)]
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
                env={**os.environ, **ONE_THREAD},
            )
        except subprocess.TimeoutExpired:
            raise EdgeMnistError(
                f"benchmarking {path.name} on {backend} took over {TIMEOUT_S} s."
            ) from None
        if proc.returncode != 0 or not report_path.is_file():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise EdgeMnistError(
                f"benchmarking {path.name} on {backend} failed: {' / '.join(tail)}",
                f"run 'edge-mnist bench {path} -b {backend}' to see the full error.",
            )
        return _figures(json.loads(report_path.read_text()))
