"""Cold start: how long a fresh process takes to classify one image, by the CLI and by the library.

    python -m edge_mnist.runtime.bench.coldstart MODEL IMAGE [--runs 7] [--importtime 15]

Prints, per case, the best and median over ``--runs`` fresh processes of the wall time and the
CPU time (user + system, which a busy machine inflates less), next to an empty interpreter's;
and for the library the time of ``import`` alone, measured inside the child. ``--importtime N``
adds the N slowest imports of one CLI run (``python -X importtime``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

# The runtime's own package name: edge_mnist.runtime when installed, runtime when copied alone.
RUNTIME = __package__.rsplit(".", 1)[0] if __package__ else "edge_mnist.runtime"

_LIBRARY = """
import json, sys, time
t0 = time.perf_counter()
from {runtime} import Classifier
t1 = time.perf_counter()
clf = Classifier.load(sys.argv[1])
t2 = time.perf_counter()
digit = int(clf.classify_image(sys.argv[2]).digits[0])
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "load": t2 - t1, "classify": t3 - t2, "digit": digit}}))
"""


def _timed(argv: list[str]) -> tuple[float, float, str]:
    """Run ``argv`` once: wall seconds, CPU seconds (user + system) and its stdout."""
    before = os.times()
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = os.times()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])}... failed:\n{proc.stderr[-2000:]}")
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu, proc.stdout


def _cli() -> list[str] | None:
    script = Path(sys.executable).with_name("edge-mnist")
    if script.exists():
        return [str(script)]
    found = shutil.which("edge-mnist")
    return [found] if found else None


def _line(name: str, values: list[float]) -> str:
    return f"{name:34} best {min(values):6.3f} s   median {statistics.median(values):6.3f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edge_mnist.runtime.bench.coldstart")
    parser.add_argument("model", type=Path)
    parser.add_argument("image", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--importtime", type=int, default=0, metavar="N")
    ns = parser.parse_args(argv)
    cases: dict[str, list[str]] = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "library (import, load, classify)": [
            sys.executable,
            "-c",
            _LIBRARY.format(runtime=RUNTIME),
            str(ns.model),
            str(ns.image),
        ],
    }
    cli = _cli()
    if cli is not None:
        cases["edge-mnist predict MODEL IMAGE"] = [*cli, "predict", str(ns.model), str(ns.image)]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{ns.runs} fresh processes per case; load average {load:.1f} on {os.cpu_count()} cores")
    for name, command in cases.items():
        walls, cpus, parts = [], [], []
        for _ in range(ns.runs):
            wall, cpu, out = _timed(command)
            walls.append(wall)
            cpus.append(cpu)
            if name.startswith("library"):
                parts.append(json.loads(out.strip().splitlines()[-1]))
        print(_line(f"{name} wall", walls))
        print(_line(f"{name} CPU", cpus))
        if parts:
            for key in ("import", "load", "classify"):
                print(_line(f"  {key} (in the process)", [p[key] for p in parts]))
    if ns.importtime and cli is not None:
        code = (
            "import sys; from edge_mnist.cli import main; "
            f"sys.argv = ['edge-mnist', 'predict', {str(ns.model)!r}, {str(ns.image)!r}]; main()"
        )
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            capture_output=True,
            text=True,
            check=False,
        )
        rows = []
        for line in proc.stderr.splitlines():
            if line.startswith("import time:") and "|" in line:
                _self, cumulative, module = line.removeprefix("import time:").split("|")
                if cumulative.strip().isdigit():
                    rows.append((int(cumulative), module.rstrip()))
        print(f"slowest imports of 'edge-mnist predict' (cumulative µs), top {ns.importtime}:")
        for us, module in sorted(rows, reverse=True)[: ns.importtime]:
            print(f"{us:10,d}  {module}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
