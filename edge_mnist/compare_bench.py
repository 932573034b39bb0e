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

from edge_mnist.errors import EdgeMnistError

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


# Until the NumPy engine is a backend of the runtime's table, it is timed directly: its run() on
# the int8 input, with the benchmark's own timing primitive, in the same kind of child process.
# The figure is the bare engine call, comparable with the raw interpreter loop, not with the
# runtime's classify call (which adds its input checks).
ENGINE_LABEL = "engine-raw"
_ENGINE_CHILD = """
import json, sys, time
from pathlib import Path
import numpy as np
from edge_mnist.runtime.bench import load_test_images, time_calls
from edge_mnist.runtime.engine import Engine
from edge_mnist.runtime.sysinfo import current_rss_bytes
path, data_dir, runs = sys.argv[1], sys.argv[2] or None, int(sys.argv[3]) if sys.argv[3] else None
data = load_test_images(data_dir=Path(data_dir) if data_dir else None)
t0 = time.perf_counter()
engine = Engine.load(path)
load_ms = (time.perf_counter() - t0) * 1e3
rss = current_rss_bytes()
p50 = {}
for b in (1, 64):
    x = (data.batch(b).astype(np.int16) - 128).astype(np.int8)
    p50[b] = float(np.median(time_calls(engine.run, x, runs=runs)))
print(json.dumps({"p50": p50, "load_ms": load_ms, "rss": rss}))
"""


def engine_in_child(
    path: Path, data_dir: Path | None = None, runs: int | None = None
) -> BenchFigures:
    """Time the NumPy engine's bare run() at batch 1 and 64 in a fresh interpreter process."""
    cmd = [sys.executable, "-c", _ENGINE_CHILD, str(path), str(data_dir or ""), str(runs or "")]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=TIMEOUT_S, env={**os.environ, **ONE_THREAD}
        )
    except subprocess.TimeoutExpired:
        raise EdgeMnistError(
            f"timing {path.name} on the NumPy engine took over {TIMEOUT_S} s."
        ) from None
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        raise EdgeMnistError(f"timing {path.name} on the NumPy engine failed: {' / '.join(tail)}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return BenchFigures(
        backend=ENGINE_LABEL,
        backend_version="",
        p50_us_batch1=round(out["p50"]["1"], 2),
        images_per_s_batch64=round(64e6 / out["p50"]["64"], 1),
        load_ms=round(out["load_ms"], 3),
        rss_at_load_bytes=out["rss"],
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
