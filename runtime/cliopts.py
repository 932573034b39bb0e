"""One declaration per command-line option, read by both front ends of a device tool.

``python -m edge_mnist.runtime.bench`` (argparse, for a copied runtime/ folder with the standard
library only) and ``edge-mnist bench`` (Typer) are built from the same ``Opt`` list, so a name,
default or help text cannot drift between them. The Typer side lives in edge_mnist/cli/specs.py;
this module imports nothing outside the standard library and the backend names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
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


THREADS_HELP = "Interpreter threads (default: the backend's choice)."


def threads_opt() -> Opt:
    """--threads N."""
    return Opt("threads", ("--threads",), int, help=THREADS_HELP, low=1)


def rounding_opt() -> Opt:
    """--rounding R (the NumPy engine's variant; checked by engine/rounding.py, naming the fix)."""
    return Opt("rounding", ("--rounding",), help=ROUNDING_HELP, metavar="R")


def plot_opt() -> Opt:
    """--plot FILE."""
    return Opt("plot", ("--plot",), Path, help=PLOT_HELP, metavar="FILE")


# verify's and doctor's options, for 'python -m ...runtime.verify|doctor' and 'edge-mnist
# verify|doctor' alike (kept here, not in those modules, so that listing the CLI's commands
# imports neither).
VERIFY_OPTIONS = (backend_opt(), rounding_opt(), json_opt("the checks"))
DOCTOR_OPTIONS = (backend_opt(), json_opt("the report"))


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


def bounded(o: Opt) -> Callable[[str], Any]:
    """argparse's converter for ``o``: its type, refused outside ``low``..``high`` with the
    same bounds Typer enforces (so 'python -m ... --port 70000' is refused as well)."""
    import argparse

    def convert(text: str) -> Any:
        value = o.type(text)
        if (o.low is not None and value < o.low) or (o.high is not None and value > o.high):
            # Worded as Typer (click) words it, so both front ends say the same.
            low = "" if o.low is None else f"{o.low:g}<="
            high = "" if o.high is None else f"<={o.high:g}"
            raise argparse.ArgumentTypeError(f"{text} is not in the range {low}x{high}.")
        return value

    convert.__name__ = o.type.__name__  # argparse names the type in "invalid int value"
    return convert


def add_arguments(parser: argparse.ArgumentParser, opts: Iterable[Opt]) -> None:
    """Add each option to an argparse parser (the front end of a copied runtime/)."""
    for o in opts:
        kw: dict[str, Any] = {"dest": o.name, "help": _argparse_help(o)}
        if o.type is bool:
            kw["action"] = "store_true"
        else:
            kw["type"] = o.type if o.low is None and o.high is None else bounded(o)
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


def check_output_path(target: Path | str | None, option: str = "--json") -> None:
    """Refuse an output path that is a folder before any work is done (None and '-' pass):
    InvalidInputError, exit 2, naming the option and a file name to use instead."""
    if target is None or is_stdout(target):
        return
    if Path(target).is_dir():
        from .errors import InvalidInputError

        example = "plot.png" if "plot" in option else "report.json"

        raise InvalidInputError(
            f"{option} {target} is a folder.",
            f"give a file name, e.g. {Path(target) / example}.",
        )


DEBUG_ENV = "EDGE_MNIST_DEBUG"
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_INTERNAL = 3


def report_error(problem: str, fix: str | None) -> None:
    """An error as every front end prints it on stderr: 'error: PROBLEM' and 'fix: FIX'."""
    import sys

    print(f"error: {problem}", file=sys.stderr)
    if fix:
        print(f"fix: {fix}", file=sys.stderr)


def run_main(fn: Callable[[list[str]], int], argv: Sequence[str] | None = None) -> int:
    """Run a ``python -m`` front end's ``fn(argv)`` and map how it ends to the exit codes of
    'edge-mnist': its code, an EdgeMnistError's problem/fix and exit code, 130 for Ctrl-C, and
    3 with one 'internal error' line for anything else (the traceback with EDGE_MNIST_DEBUG=1).
    argparse's own usage errors (SystemExit 2) pass through."""
    import os
    import sys

    from .errors import EdgeMnistError

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return fn(args)
    except EdgeMnistError as exc:
        report_error(exc.problem, exc.fix)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc}. This is a bug in edge-mnist. Run "
            f"again with {DEBUG_ENV}=1 for the traceback, and report it.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
