"""Typer options built from the runtime's option specs (edge_mnist.runtime.cliopts.Opt), so a
device tool's argparse front end and its Typer command share one declaration."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import typer

from edge_mnist.runtime.cliopts import Opt


def _parameter(o: Opt) -> inspect.Parameter:
    if o.type is bool:
        option = typer.Option(*o.flags, help=o.help)
        annotation: Any = Annotated[bool, option]
        default: Any = False
    else:
        # Choices are checked by the runtime's validator, which names the fix, as in argparse.
        option = typer.Option(
            *o.flags,
            help=o.help,
            min=o.low,
            max=o.high,
            metavar=o.metavar,
            show_default=o.default is not None,
        )
        kind: Any = list[o.type] if o.many else o.type  # type: ignore[name-defined]
        annotation = Annotated[kind | None, option]
        default = None if o.many else o.default
    return inspect.Parameter(
        o.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def spec_options(opts: Sequence[Opt]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add ``opts`` to a command after its own parameters; the command receives their values as
    its first argument, a dict by option name (repeatable ones as tuples)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        # eval_str: under ``from __future__ import annotations`` the annotations are strings, and
        # Typer reads only this wrapper's __signature__: unevaluated, the commands' own
        # typer.Argument/typer.Option (their help) would be lost. Needs Python 3.10+.
        own = list(inspect.signature(fn, eval_str=True).parameters.values())[1:]
        added = [_parameter(o) for o in opts]
        names = [o.name for o in opts]
        many = {o.name for o in opts if o.many}

        @functools.wraps(fn)
        def command(*args: Any, **kwargs: Any) -> Any:
            values = {n: kwargs.pop(n) for n in names}
            for n in many:
                values[n] = tuple(values[n] or ())
            return fn(values, *args, **kwargs)

        params = [*own, *added]
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command

    return decorate
