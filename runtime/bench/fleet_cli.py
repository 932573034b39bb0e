"""'bench table' and 'bench gate' for both front ends (``python -m ...bench`` and ``edge-mnist
bench``): the options' values in, text out through ``say``, JSON and PNG files written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..cliopts import check_output_path, is_stdout, require_plotting
from ..jsonfile import write_json_or_stdout
from .options import threshold

Say = Callable[[str], None]


def _check_targets(values: dict[str, Any]) -> None:
    for option in ("json", "plot"):
        check_output_path(values.get(option), f"--{option}")
    if values.get("plot") is not None:
        require_plotting()


def _emit(doc: dict[str, Any], target: Path | None, say: Say) -> None:
    if target is None:
        return
    write_json_or_stdout(target, doc)
    if not is_stdout(target):
        say(f"Wrote {target}.")


def table_command(reports: list[Path], values: dict[str, Any], say: Say) -> int:
    """Print the fleet table; write --json and --plot."""
    from .fleet import fleet_table
    from .fleet_render import format_fleet, plot_fleet

    _check_targets(values)
    doc = fleet_table(reports)
    if not is_stdout(values["json"]):
        say(format_fleet(doc))
    _emit(doc, values["json"], say)
    if values["plot"] is not None:
        plot_fleet(doc, values["plot"])
        say(f"Wrote {values['plot']}.")
    return 0


def gate_command(reports: list[Path], values: dict[str, Any], say: Say) -> int:
    """Judge each report against its board's baseline; exit 1 (raised) on a regression."""
    from .fleet import fleet_gate, gate_document, raise_on_fleet_regression
    from .fleet_render import format_gate

    _check_targets(values)
    pct = threshold(values)
    verdicts = fleet_gate(reports, values["baselines"], pct)
    if not is_stdout(values["json"]):
        say(format_gate(verdicts, pct))
    _emit(gate_document(verdicts, pct), values["json"], say)
    raise_on_fleet_regression(verdicts, pct)
    return 0
