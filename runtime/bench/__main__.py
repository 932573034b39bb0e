"""``python -m runtime.bench MODEL... [options]``, ``... diff OLD NEW``, ``... table REPORTS...``
or ``... gate --baselines DIR REPORTS...``: a plain-text twin of
'edge-mnist bench' for boards that have only the runtime folder and an interpreter (also
``python -m edge_mnist.runtime.bench``). Its options are declared once, in options.py."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..cliopts import add_arguments, run_main, values
from .data import load_test_images
from .options import (
    DIFF_OPTIONS,
    GATE_OPTIONS,
    RUN_OPTIONS,
    TABLE_OPTIONS,
    bench_config,
    json_to_stdout,
    threshold,
    write_outputs,
)
from .render import format_table
from .report import diff_reports, read_report
from .run import run_bench


def _diff(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.bench diff")
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    add_arguments(parser, DIFF_OPTIONS)
    ns = parser.parse_args(args)
    diff = diff_reports(read_report(ns.old), read_report(ns.new), threshold(vars(ns)))
    for c in diff.changes:
        change = "-" if c.change_pct is None else f"{c.change_pct:+.1f}%"
        print(f"{c.model} ({c.backend}) batch {c.batch} {c.mode}: {change} {c.status}")
    diff.raise_on_regression()
    return 0


def _fleet(command: str, args: list[str]) -> int:
    from .fleet_cli import gate_command, table_command

    opts = TABLE_OPTIONS if command == "table" else GATE_OPTIONS
    parser = argparse.ArgumentParser(prog=f"python -m runtime.bench {command}")
    parser.add_argument("reports", nargs="+", type=Path)
    add_arguments(parser, opts)
    ns = parser.parse_args(args)
    run = table_command if command == "table" else gate_command
    return run(ns.reports, values(ns, opts), print)


def _run(args: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m runtime.bench",
        description="Time models: our runtime against the raw interpreter call.",
    )
    parser.add_argument("models", nargs="+", type=Path)
    add_arguments(parser, RUN_OPTIONS)
    ns = parser.parse_args(args)
    given = values(ns, RUN_OPTIONS)
    config = bench_config(given)
    data = load_test_images(
        given["images"], given["labels"], given["data_dir"], need_labels=bool(given["accuracy"])
    )
    quiet = given["quiet"]
    report = run_bench(
        ns.models,
        config,
        data,
        progress=None if quiet else lambda m: print(m, file=sys.stderr),
        board=given["board"],
    )
    if not json_to_stdout(given):
        print(format_table(report))
    write_outputs(report, given)
    return 0


def _dispatch(args: list[str]) -> int:
    if args[:1] == ["diff"]:
        return _diff(args[1:])
    if args[:1] in (["table"], ["gate"]):
        return _fleet(args[0], args[1:])
    return _run(args)


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(_dispatch, argv)


if __name__ == "__main__":
    sys.exit(main())
