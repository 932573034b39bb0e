"""The stage from start to end: host reference, rows two at a time, summary after each row."""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import host, rootfs, summary, wheels
from .checks import checks
from .digits import Reference
from .guest import Guest
from .install import install
from .outcome import Outcome
from .proc import StageError, log, since
from .rows import LONGEST, Row, by_table_order, pairs
from .settings import Settings, parse

# A prepared row: its outcome so far, and its root filesystem and wheels (None if it failed).
Prepared = tuple[Outcome, Path | None, Path | None]


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse(sys.argv[1:] if argv is None else argv, os.environ)
    started = time.monotonic()
    load = os.getloadavg()
    settings.work.mkdir(parents=True, exist_ok=True)
    host.copy_tests(settings.work)
    log("building the wheel and the host reference")
    wheel = host.build_wheel(settings.work)
    # The two longest rows start first, one per lane, so the lanes end together.
    rows = sorted(settings.rows, key=lambda r: r.key not in LONGEST)
    # Root filesystems and wheels are mostly downloads: they proceed while the host works.
    prep = concurrent.futures.ThreadPoolExecutor(2)
    prepared = [prep.submit(prepare_row, row, settings, wheel) for row in rows]
    venv = host.host_venv(settings.work, wheel)
    ref = host.host_reference(venv, settings, pairs(rows))
    host_seconds = since(started)
    outcomes: list[Outcome] = []
    total = host_seconds
    # Each emulated process is mostly one busy thread: settings.jobs rows at a time (two on two
    # cores). The summary is rewritten as each row ends, so a stopped run still leaves what it found.
    with concurrent.futures.ThreadPoolExecutor(settings.jobs) as pool:
        done = [
            pool.submit(lambda f: run_row(f.result(), settings, wheel, ref), f) for f in prepared
        ]
        for d in concurrent.futures.as_completed(done):
            outcomes.append(d.result())
            total = since(started)
            found = summary.report(outcomes, summary.host_info(load, host_seconds), total)
            summary.write(settings.summary, found, settings.some_rows)
    prep.shutdown()
    outcomes.sort(key=lambda o: by_table_order(o.row.key))
    print()
    print("\n".join(summary.table(outcomes)))
    print(
        f"\nemulation stage: {total:.0f} s in all (host reference {host_seconds:.0f} s); "
        f"load {load[0]:.1f} -> {os.getloadavg()[0]:.1f}; summary in {settings.summary}"
    )
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def prepare_row(row: Row, settings: Settings, wheel: Path) -> Prepared:
    """Root filesystem and wheels: mostly downloads, so all rows prepare while the host works."""
    outcome = Outcome(row)
    try:
        t0 = time.monotonic()
        target = rootfs.build(row, settings, outcome)
        outcome.seconds["rootfs"] = since(t0)
        log(f"{row.key}: root filesystem ({outcome.suite} {row.arch}) in {since(t0):.0f} s")
        t0 = time.monotonic()
        found = wheels.download(row, outcome.suite, wheel, settings.cache)
        outcome.seconds["wheels"] = since(t0)
    except StageError as exc:
        outcome.fail(str(exc))
        log(f"{row.key}: FAILED: {exc}")
        return outcome, None, None
    return outcome, target, found


def keep_bench(out: Path, settings: Settings, key: str) -> None:
    """Copy the row's bench report to artifacts/fleet/ROW.json, where .ci/run reads every row's
    report into one fleet table ('edge-mnist bench table')."""
    report = out / "bench.json"
    if report.is_file():
        fleet = settings.artifacts / "fleet"
        fleet.mkdir(exist_ok=True)
        shutil.copy(report, fleet / f"{key}.json")


def run_row(prepared: Prepared, settings: Settings, wheel: Path, ref: Reference) -> Outcome:
    """Install and check one row under emulation."""
    outcome, target, found = prepared
    if target is None or found is None:
        return outcome
    row = outcome.row
    out = settings.work / "out" / row.key
    out.mkdir(parents=True, exist_ok=True)
    guest = Guest(
        target,
        row,
        {
            "/opt/in/artifacts": settings.artifacts,
            "/opt/in/mnist": settings.data,
            "/opt/in/dist": wheel.parent,
            "/opt/in/wheels": found,
            "/opt/in/src": settings.work / "src",
            "/opt/out": out,
        },
    )
    try:
        t0 = time.monotonic()
        install(guest, outcome)
        outcome.seconds["install"] = since(t0)
        log(f"{row.key}: installed in {since(t0):.0f} s ({outcome.notes[-1]})")
        t0 = time.monotonic()
        checks(guest, settings, ref, outcome)
        outcome.seconds["checks"] = since(t0)
        keep_bench(out, settings, row.key)
    except StageError as exc:
        outcome.fail(str(exc))
        log(f"{row.key}: FAILED: {exc}")
    emulated = sum(outcome.seconds.get(k, 0) for k in ("install", "checks"))
    outcome.seconds["emulated"] = round(emulated, 1)
    return outcome


if __name__ == "__main__":
    sys.exit(main())
