"""``python -m runtime.bench MODEL... [options]`` or ``... diff OLD NEW``: a plain-text twin of
'edge-mnist bench' for boards that have only the runtime folder and an interpreter (also
``python -m edge_mnist.runtime.bench``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..backends import BACKENDS
from ..errors import EdgeMnistError
from .config import DEFAULT_BATCHES, PIXEL_FORMS, BenchConfig, parse_batches, parse_percent
from .data import load_test_images
from .render import format_table, plot_latencies, require_plotting
from .report import diff_reports, read_report, write_report
from .run import run_bench
from .timing import DEFAULT_WARMUP


def _diff(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.bench diff")
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--max-regression", default="10%")
    ns = parser.parse_args(args)
    diff = diff_reports(read_report(ns.old), read_report(ns.new), parse_percent(ns.max_regression))
    for c in diff.changes:
        change = "-" if c.change_pct is None else f"{c.change_pct:+.1f}%"
        print(f"{c.model} ({c.backend}) batch {c.batch} {c.mode}: {change} {c.status}")
    diff.raise_on_regression()
    return 0


def _run(args: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m runtime.bench",
        description="Time models: our runtime against the raw interpreter call.",
    )
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--backend", action="append", default=[], choices=BACKENDS)
    parser.add_argument("--batch", default=",".join(map(str, DEFAULT_BATCHES)))
    parser.add_argument("--pixels", action="append", choices=PIXEL_FORMS)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--warmup", type=int, default=DEFAULT_WARMUP)
    parser.add_argument("--runs", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--accuracy", type=int)
    parser.add_argument("--images", type=Path)
    parser.add_argument("--labels", type=Path)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plot", type=Path)
    ns = parser.parse_args(args)
    config = BenchConfig(
        batches=parse_batches(ns.batch),
        backends=tuple(ns.backend),
        threads=ns.threads,
        warmup=ns.warmup,
        runs=ns.runs,
        seconds=ns.seconds,
        accuracy=ns.accuracy,
        pixels=tuple(dict.fromkeys(ns.pixels or ["uint8"])),
    )
    config.validate()
    if ns.plot is not None:
        require_plotting()
    data = load_test_images(ns.images, ns.labels, ns.data_dir, need_labels=bool(ns.accuracy))
    report = run_bench(ns.models, config, data, progress=lambda m: print(m, file=sys.stderr))
    print(format_table(report))
    if ns.json is not None:
        write_report(report, ns.json)
    if ns.plot is not None:
        plot_latencies(report, ns.plot)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        # "compare" is the former name of "diff".
        return _diff(args[1:]) if args[:1] in (["diff"], ["compare"]) else _run(args)
    except EdgeMnistError as exc:
        print(f"error: {exc.problem}", file=sys.stderr)
        if exc.fix:
            print(f"fix: {exc.fix}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
