"""The Typer app every command module registers on: exit codes, error messages, --version.

Exit codes: 0 success, 1 a check failed, 2 bad usage or input (an EdgeMnistError's own
``exit_code``), 3 a bug in edge-mnist (any other exception; EDGE_MNIST_DEBUG=1 shows it);
128 + N when stopped by signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP) and 141 when stdout's
reader went away (see signals.py).
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from edge_mnist.runtime.cliopts import DEBUG_ENV, EXIT_INTERNAL  # a bug, not a user error: 3
from edge_mnist.runtime.errors import EdgeMnistError

from .consoles import LazyConsole, escape
from .signals import (
    flush_stdout,
    handled,
    install_handlers,
    quiet_broken_pipe,
    report_interrupted,
)

try:  # typer >= 0.28 vendors click; its usage errors derive from TyperException.
    from typer import TyperException as _UsageProblem
except ImportError:  # typer < 0.28 raises click's own exceptions.
    from click import ClickException as _UsageProblem  # type: ignore[assignment,no-redef,import-not-found,unused-ignore]

console = LazyConsole(stderr=False)
err = LazyConsole(stderr=True)


# Fills in a command's option details (help, defaults) when the command is first looked up.
Completer = Callable[[Any], None]
_completers: dict[str, list[Completer]] = {}


def complete_later(command: str, completer: Completer) -> None:
    """Run ``completer(click_command)`` when ``command`` is first looked up (to run it or to show
    help). Host commands take choices, help and defaults from host modules this way (the model
    registry, the training recipe), so that a device command never imports those modules."""
    _completers.setdefault(command, []).append(completer)


def unwrap(text: str | None) -> str | None:
    """A docstring's paragraphs as single lines: Typer's rich help keeps a docstring's line
    breaks, which break sentences in the middle at any terminal width; it wraps lines itself."""
    if not text:
        return text
    import inspect

    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(p.split("\n")) for p in paragraphs)


class Group(TyperGroup):
    """Turns the project's errors into a message and an exit code, never a traceback."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = unwrap(self.help)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            for complete in _completers.get(cmd_name, ()):
                complete(command)
            command.help = unwrap(command.help)
            if command.help and not command.short_help:
                # The whole first paragraph in the list of commands, wrapped, not cut at "...".
                command.short_help = command.help.split("\n\n")[0]
        return command

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except EdgeMnistError as exc:
            fail(exc)
        except (typer.Exit, typer.Abort, _UsageProblem):
            raise
        except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP (see signals.py)
            raise typer.Exit(report_interrupted(exc)) from None
        except BrokenPipeError:  # stdout's reader went away
            quiet_broken_pipe()
        except Exception as exc:
            if os.environ.get(DEBUG_ENV):
                raise
            err.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}",
                highlight=False,
                soft_wrap=True,
            )
            err.print(
                f"This is a bug in edge-mnist. Run again with {DEBUG_ENV}=1 for the "
                "traceback, and report it.",
                highlight=False,
            )
            raise typer.Exit(EXIT_INTERNAL) from None


# Every command, and the module under edge_mnist/cli/ that registers it, in the order help lists
# them. A command's module is imported when the command is first looked up (to run it, or to list
# it in help), so `edge-mnist predict` loads no other command's module: on a board each one is
# paid for at every start (tests/unit/test_device_budget.py). A new command: its module, a row.
COMMANDS = {
    "data": "host",
    "train": "host",
    "export": "host",
    "check": "host",
    "pipeline": "host",
    "compare": "compare",
    "quant-report": "quant_report",
    "predict": "device",
    "info": "device",
    "verify": "verify",
    "doctor": "doctor",
    "serve": "serve",
    "robustness": "robustness",
    "bench": "bench",
}


class Root(Group):
    """The app's own group: lists every command of ``COMMANDS`` and builds one only when it is
    looked up, after importing its module (which registers it on ``app``)."""

    def list_commands(self, ctx: Any) -> list[str]:
        built = super().list_commands(ctx)  # commands of modules imported before the app ran
        return [*COMMANDS, *(name for name in built if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands:
            command = _build(cmd_name)
            if command is not None:
                self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in COMMANDS and args[0] not in self.commands:
            # No such command: build them all, so that Typer's "Did you mean ...?" sees them.
            for name in COMMANDS:
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


def _command_name(info: Any) -> str:
    """A registered command's name as Typer gives it (the function's, with dashes)."""
    return str(info.name or info.callback.__name__.lower().replace("_", "-"))


def _build(name: str) -> Any:
    """The Click command (or group) for ``name``, built alone from its registration: Typer would
    otherwise build every registered command's options first. None for an unknown name."""
    module = COMMANDS.get(name)
    if module is None:
        return None
    # __import__, not importlib.import_module: Python's -X importtime lists only imports made
    # through the import statement's machinery (tests/test_serve_process.py reads that list).
    __import__(f"{__package__}.{module}")
    alone = _typer(Group)
    alone.registered_callback = app.registered_callback
    alone.registered_commands = [c for c in app.registered_commands if _command_name(c) == name]
    alone.registered_groups = [g for g in app.registered_groups if g.name == name]
    if not (alone.registered_commands or alone.registered_groups):
        return None
    return getattr(typer.main.get_command(alone), "commands", {}).get(name)


def fail(exc: EdgeMnistError) -> NoReturn:
    """Print an error's problem and fix on stderr and exit with its code."""
    err.print(f"[bold red]error:[/] {escape(exc.problem)}", highlight=False, soft_wrap=True)
    if exc.fix:
        err.print(f"[bold]fix:[/] {escape(exc.fix)}", highlight=False, soft_wrap=True)
    raise typer.Exit(exc.exit_code)


def _typer(cls: type[Group]) -> typer.Typer:
    return typer.Typer(
        cls=cls,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        # Click's plain help: it wraps every column to the terminal (80 columns included),
        # where rich's option panels cut long option names and defaults; no rich import either.
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )


app = _typer(Root)


def _version(value: bool) -> None:
    if value:
        from edge_mnist import __version__

        print(f"edge-mnist {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Train the classic Keras MNIST MLP, export it to int8 TFLite and ONNX, gate its accuracy,
    and run and benchmark it on edge devices.

    Exit codes: 0 success, 1 a check failed, 2 bad usage or input; 130, 143, 129 stopped by
    Ctrl-C, SIGTERM, SIGHUP; 141 the reader of stdout went away (e.g. '| head').
    """


def run(args: list[str] | None = None) -> None:
    """Run the command line, as the console script does (the process ends after it). Only the
    command named is imported and built (``Root``): a board pays for the rest at every start."""
    argv = sys.argv[1:] if args is None else args
    install_handlers(argv[0] if argv else None)
    try:
        app(args=argv)
    finally:
        flush_stdout()
        # Python's shutdown would walk every object the imports made (numpy, rich, the
        # interpreter) looking for cycles: some 45 ms of each start here. Frozen objects are
        # skipped; finalizers and atexit handlers still run.
        gc.freeze()


def check_output(target: Any, option: str = "--json") -> None:
    """Refuse an output path that is a folder before any work is done ('-' is stdout)."""
    from edge_mnist.runtime.cliopts import check_output_path

    check_output_path(target, option)


def write_json_out(target: Any, obj: Any) -> bool:
    """--json FILE: write ``obj`` there atomically, or on stdout for '-'. True when it went to a
    file (the caller may say so); nothing is written for None."""
    from edge_mnist.runtime.cliopts import is_stdout
    from edge_mnist.runtime.jsonfile import write_json_or_stdout

    if target is None:
        return False
    with handled():  # a signal now removes the temporary file (signals.py)
        write_json_or_stdout(target, obj)
    return not is_stdout(target)
