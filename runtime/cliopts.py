"""One declaration per command-line option, read by both front ends of a device tool.

``python -m edge_mnist.runtime.bench`` (argparse, for a copied runtime/ folder with the standard
library only) and ``edge-mnist bench`` (Typer) are built from the same ``Opt`` list, so a name,
default or help text cannot drift between them. The Typer side lives in edge_mnist/cli/specs.py;
this module imports nothing outside the standard library and the backend names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .backends import BACKENDS

if TYPE_CHECKING:  # argparse only for the python -m front ends, not every edge-mnist start
    import argparse

# The one meaning of --json everywhere: a file to write the report to, "-" for stdout.
STDOUT = "-"
JSON_HELP = "Write the report as JSON to FILE ('-': stdout, instead of the table)."
BACKEND_HELP = (
    f"Interpreter: {', '.join(BACKENDS)}. Default: the first installed that fits the model."
)
# The NumPy engine's rounding variants (runtime/engine/rounding.py ROUNDINGS, named here so
# that parsing options imports no engine; tests/unit/test_verify.py checks they agree).
ROUNDING_HELP = (
    "NumPy engine only: whose int8 arithmetic to reproduce: litert (ai-edge-litert with "
    "XNNPACK, the default), reference (TFLite's built-in kernels, tflite-runtime) or tflm "
    "(TensorFlow Lite Micro). Implies --backend numpy."
)
PLOT_HELP = "Write a PNG chart to this file (needs matplotlib; checked before any work)."


@dataclass(frozen=True)
class Opt:
    """One option: its Python name, its flags, value type, default and help.

    ``type`` is ``bool`` for an on/off flag (default False), else the type one value is
    converted to; ``many`` makes the option repeatable (a tuple of values, empty when not
    given); ``choices`` restricts the values (the runtime validator names the fix as well);
    ``low``/``high`` bound a number; ``metavar`` names the value in help.
    """

    name: str
    flags: tuple[str, ...]
    type: type = str
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] | None = None
    many: bool = False
    low: float | None = None
    high: float | None = None
    metavar: str | None = None


def json_opt(what: str = "the report") -> Opt:
    """--json FILE, with '-' for stdout."""
    return Opt(
        "json",
        ("--json",),
        Path,
        help=JSON_HELP.replace("the report", what),
        metavar="FILE",
    )


def backend_opt(many: bool = False) -> Opt:
    """-b/--backend NAME (repeatable with ``many``)."""
    extra = " Repeat to run several." if many else ""
    return Opt(
        "backend",
        ("--backend", "-b"),
        help=BACKEND_HELP + extra,
        choices=BACKENDS,
        many=many,
        metavar="NAME",
    )


def threads_opt() -> Opt:
    """--threads N."""
    return Opt("threads", ("--threads",), int, help="Interpreter threads (default: the backend's).")


def plot_opt() -> Opt:
    """--plot FILE."""
    return Opt("plot", ("--plot",), Path, help=PLOT_HELP, metavar="FILE")


def require_plotting() -> None:
    """Refuse --plot up front, before any work, when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        from .errors import InvalidInputError

        raise InvalidInputError(
            "--plot needs matplotlib, which is not installed.",
            "pip install matplotlib (or 'edge-mnist[plot]'), or leave out --plot.",
        ) from None


def is_stdout(path: Path | str | None) -> bool:
    """True when an output option asks for standard output ('-')."""
    return path is not None and str(path) == STDOUT


def add_arguments(parser: argparse.ArgumentParser, opts: Iterable[Opt]) -> None:
    """Add each option to an argparse parser (the front end of a copied runtime/)."""
    for o in opts:
        kw: dict[str, Any] = {"dest": o.name, "help": _argparse_help(o)}
        if o.type is bool:
            kw["action"] = "store_true"
        else:
            kw["type"] = o.type
            kw["default"] = None if o.many else o.default
            if o.many:
                kw["action"] = "append"
            if o.choices:
                kw["choices"] = o.choices
            if o.metavar:
                kw["metavar"] = o.metavar
        parser.add_argument(*o.flags, **kw)


def _argparse_help(o: Opt) -> str:
    text = o.help.replace("%", "%%")
    if o.default not in (None, False, ()) and not o.many:
        text += " (default: %(default)s)"
    return text


def values(ns: argparse.Namespace | Mapping[str, Any], opts: Sequence[Opt]) -> dict[str, Any]:
    """The options' values by name, repeatable ones as tuples, from either front end."""
    get = ns.get if isinstance(ns, Mapping) else lambda k: getattr(ns, k)  # argparse.Namespace
    out = {}
    for o in opts:
        value = get(o.name)
        out[o.name] = tuple(value or ()) if o.many else value
    return out
