"""The stage's settings: read once from the command line and the environment, then frozen."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .names import MNIST_IMAGES, MNIST_LABELS, MODELS, SUMMARY
from .rows import ROWS, Row

ROOT = Path(__file__).resolve().parents[3]
# Raspberry Pi /proc/cpuinfo files, one per row (Row.cpuinfo).
CPUINFO = Path(__file__).resolve().parents[1] / "cpuinfo"
# The device tests run under emulation by default: loading, every backend, the CLI, bad models in
# a child process, threads. Left out: the float32 models compared with the raw interpreter on all
# 10,000 images, which alone would overrun the stage's budget (docs/2026-12-03-emulation.md); the
# predict step already runs those images on every backend and compares each digit with the host's.
SUBSET = "test_runtime.py test_predict.py -k 'not (all_test_images and float32)'"


@dataclass(frozen=True)
class Settings:
    """Everything the stage needs to know before it starts; passed down, never changed."""

    rows: tuple[Row, ...]  # the rows to run, in table order
    some_rows: bool  # rows were named: update those rows in an existing summary
    artifacts: Path  # the host-built models
    data: Path  # the MNIST folder
    images: str  # the test images' file name in data
    labels: str  # the test labels' file name in data
    cache: Path  # downloaded .deb files and wheels
    work: Path  # root filesystems, the wheel, the host venv, copied tests
    summary: Path  # the summary JSON
    jobs: int  # rows emulated at the same time
    mirror: str  # the Debian mirror debootstrap downloads from
    reuse_rootfs: bool  # keep root filesystems of an earlier run (a developer's rerun)
    tests: str  # pytest's selection of device tests, relative to tests/
    test_timeout: float  # seconds for the device tests of one row


def parser() -> argparse.ArgumentParser:
    from . import __doc__ as doc

    p = argparse.ArgumentParser(prog=".ci/emulate", description=(doc or "").splitlines()[0])
    p.add_argument(
        "rows", nargs="*", help=f"rows to run (default all): {', '.join(r.key for r in ROWS)}"
    )
    p.add_argument("--artifacts", type=Path, default=ROOT / "artifacts")
    p.add_argument(
        "--data", type=Path, default=None, help="MNIST folder (default $EDGE_MNIST_DATA)"
    )
    p.add_argument("--cache", type=Path, default=None, help="default $EDGE_MNIST_CI_CACHE")
    p.add_argument("--jobs", type=int, default=2, help="rows emulated at the same time")
    p.add_argument("--work", type=Path, default=ROOT / "build/emulation")
    p.add_argument(
        "--json", type=Path, default=None, help=f"summary JSON (default: ARTIFACTS/{SUMMARY})"
    )
    return p


def parse(argv: Sequence[str], env: Mapping[str, str]) -> Settings:
    """Settings from argv (without the program name) and env; exits with a message if unusable."""
    p = parser()
    args = p.parse_args(list(argv))
    unknown = set(args.rows) - {r.key for r in ROWS}
    if unknown:
        p.error(f"unknown rows {sorted(unknown)}")
    artifacts = args.artifacts.resolve()
    data = (args.data or Path(env.get("EDGE_MNIST_DATA", ROOT.parent / "shared/mnist"))).resolve()
    cache = (args.cache or Path(env.get("EDGE_MNIST_CI_CACHE", ROOT / ".ci/cache"))).resolve()
    missing = [m for m in MODELS if not (artifacts / m).is_file()]
    if missing:
        sys.exit(f"{artifacts} lacks {missing}: run 'edge-mnist pipeline --out {artifacts}' first")
    chosen = env.get("EDGE_MNIST_EMULATE_TESTS", "")
    return Settings(
        rows=tuple(r for r in ROWS if not args.rows or r.key in args.rows),
        some_rows=bool(args.rows),
        artifacts=artifacts,
        data=data,
        images=find_one(data, MNIST_IMAGES),
        labels=find_one(data, MNIST_LABELS),
        cache=cache,
        work=args.work.resolve(),
        summary=args.json or artifacts / SUMMARY,
        jobs=args.jobs,
        mirror=env.get("EDGE_MNIST_DEBIAN_MIRROR", "http://deb.debian.org/debian"),
        reuse_rootfs=env.get("EDGE_MNIST_EMULATE_REUSE") == "1",
        tests="." if chosen == "all" else chosen or SUBSET,
        test_timeout=float(env.get("EDGE_MNIST_EMULATE_TEST_TIMEOUT", 900)),
    )


def find_one(data: Path, stem: str) -> str:
    """The name of '<stem>' or '<stem>.gz' in data."""
    found = sorted(p.name for p in data.glob(f"{stem}*"))
    if not found:
        sys.exit(f"{data}: no {stem}[.gz]: set EDGE_MNIST_DATA to the MNIST folder")
    return found[0]
