"""The bench command's options, declared once for both front ends (``python -m ...bench`` and
``edge-mnist bench``), and the one place that turns their values into a ``BenchConfig``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..cliopts import (
    Opt,
    backend_opt,
    check_output_path,
    is_stdout,
    json_opt,
    plot_opt,
    require_plotting,
    threads_opt,
)
from ..sysinfo import BOARD_NAME
from .config import DEFAULT_BATCHES, PIXEL_FORMS, BenchConfig, parse_batches, parse_percent
from .errors import BenchError
from .timing import DEFAULT_RUNS, DEFAULT_WARMUP

RUN_OPTIONS = (
    backend_opt(many=True),
    Opt(
        "batch",
        ("--batch",),
        default=",".join(map(str, DEFAULT_BATCHES)),
        help="Batch sizes, comma-separated.",
    ),
    Opt(
        "pixels",
        ("--pixels",),
        help=f"Input form to time ({', '.join(PIXEL_FORMS)}: 0-255 or floats in [0, 1]), each "
        "beside the raw call fed the same input; repeat for both. Default: uint8.",
        choices=PIXEL_FORMS,
        many=True,
    ),
    threads_opt(),
    Opt(
        "warmup",
        ("--warmup",),
        int,
        DEFAULT_WARMUP,
        "Untimed calls before each timed series.",
    ),
    Opt("runs", ("--runs",), int, help=f"Timed calls per series (default {DEFAULT_RUNS})."),
    Opt(
        "seconds",
        ("--seconds",),
        float,
        help="Time each series for about this long instead of --runs.",
    ),
    Opt(
        "accuracy",
        ("--accuracy",),
        int,
        help="Also measure accuracy on this many MNIST test images.",
    ),
    Opt("images", ("--images",), Path, help="MNIST test images (t10k-images-idx3-ubyte[.gz])."),
    Opt("labels", ("--labels",), Path, help="MNIST test labels (t10k-labels-idx1-ubyte[.gz])."),
    Opt(
        "data_dir",
        ("--data-dir",),
        Path,
        help="Folder with the MNIST test files (an error if they are not there). Default: "
        "$EDGE_MNIST_DATA, else ~/.cache/edge-mnist/mnist; random uint8 images when the cache "
        "has none.",
    ),
    Opt(
        "board",
        ("--board",),
        help="Name this board in the report (letters, digits, '-', '_', '.'), the key 'bench "
        "gate' matches baselines by. Default: the Pi model, else the host name and CPU.",
        metavar="NAME",
    ),
    json_opt("the full report"),
    plot_opt(),
    Opt("quiet", ("--quiet", "-q"), bool, False, "No progress lines on stderr."),
)

MAX_REGRESSION = Opt(
    "max_regression",
    ("--max-regression",),
    default="10%",
    help="Allowed p50 slow-down, e.g. 10% or 10.",
)
DIFF_OPTIONS = (MAX_REGRESSION,)
TABLE_OPTIONS = (json_opt("the fleet table"), plot_opt())
GATE_OPTIONS = (
    Opt(
        "baselines",
        ("--baselines",),
        Path,
        help="Folder of baseline reports, one per board: BOARD_ID.json.",
        metavar="DIR",
    ),
    MAX_REGRESSION,
    json_opt("the verdicts"),
)


def check_board(name: str | None) -> str | None:
    """--board's value, checked: it names a baseline file, so only file-name-safe letters."""
    if name is not None and not BOARD_NAME.match(name):
        raise BenchError(
            f"--board {name!r} is not a usable board name.",
            "use letters, digits, '-', '_' and '.', at most 80, e.g. --board pi5.",
        )
    return name


def bench_config(values: dict[str, Any]) -> BenchConfig:
    """The benchmark's settings from RUN_OPTIONS' values, checked (BenchError on a bad one)."""
    config = BenchConfig(
        batches=parse_batches(values["batch"]),
        backends=tuple(values["backend"]),
        threads=values["threads"],
        warmup=values["warmup"],
        runs=values["runs"],
        seconds=values["seconds"],
        accuracy=values["accuracy"],
        pixels=tuple(dict.fromkeys(values["pixels"] or ["uint8"])),
    )
    config.validate()
    check_board(values["board"])
    for option in ("json", "plot"):
        check_output_path(values[option], f"--{option}")
    if values["plot"] is not None:
        require_plotting()
    return config


def threshold(values: dict[str, Any]) -> float:
    """--max-regression as a percentage."""
    return parse_percent(values["max_regression"])


def json_to_stdout(values: dict[str, Any]) -> bool:
    """True when --json - asks for the report on stdout instead of the table."""
    return is_stdout(values["json"])


def write_outputs(report: Any, values: dict[str, Any]) -> list[str]:
    """Write what --json and --plot ask for; return the files written (stdout is not one)."""
    from ..jsonfile import write_json_or_stdout
    from .render import plot_latencies

    written = []
    target = values["json"]
    if target is not None:
        write_json_or_stdout(target, report.data)
        if not json_to_stdout(values):
            written.append(str(target))
    if values["plot"] is not None:
        plot_latencies(report, values["plot"])
        written.append(str(values["plot"]))
    return written
