"""The options and progress output that the training commands (train, compare, pipeline) share.

Nothing here imports the host libraries at import time: the defaults (TrainConfig) and the
architecture names (the model registry) are filled in when a training command is looked up.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from .app import complete_later, err

# The training options, declared once for every command that trains: name -> (type, help).
# Their defaults come from TrainConfig and the --arch help from the model registry, filled in
# when the command is looked up (see complete_later). The command receives None for an option
# left at its default, so that --plain can tell it from one given beside it.
TRAINING_OPTIONS: dict[str, tuple[Any, str]] = {
    "arch": (str, "Architecture"),
    "epochs": (int, "Maximum epochs; early stopping usually ends sooner."),
    "patience": (int, "Epochs without a better validation loss before stopping."),
    "batch_size": (int, "Mini-batch size."),
    "learning_rate": (float, "Adam's initial learning rate."),
    "dropout": (float, "Dropout after each hidden layer (training only; 0 = the notebook)."),
    "reduce_lr": (
        bool,
        "Halve the learning rate when validation loss stalls (without --cosine, as with --plain).",
    ),
    "cosine": (
        bool,
        "Decay the learning rate along a half cosine over --epochs instead of halving it on a "
        "plateau (set --epochs to the budget).",
    ),
    "seed": (int, "Random seed: the same seed gives the same model on one machine."),
    "augment": (
        bool,
        "Randomly rotate, scale, shear, shift, bend, coarsen and thicken or thin the training "
        "digits (input pipeline only: the model is the same graph).",
    ),
    "plain": (bool, "The notebook's plain recipe, for comparison"),
    "extra_images": (
        Path | None,
        "A folder of your own labelled digits (files named *_<digit>.png or subfolders 0-9) "
        "to mix into the training set; MNIST still validates and tests.",
    ),
}


def _as_option(name: str, value: Any) -> str:
    """A TrainConfig field and value as the command line spells it: --epochs 50, --no-augment."""
    flag = name.replace("_", "-")
    if isinstance(value, bool):
        return f"--{flag}" if value else f"--no-{flag}"
    return f"--{flag} {value:g}" if isinstance(value, float) else f"--{flag} {value}"


def _complete_training(command: Any) -> None:
    from dataclasses import asdict

    from edge_mnist.models import ARCHITECTURES, DEFAULT_ARCH
    from edge_mnist.train import PLAIN_RECIPE, TrainConfig

    defaults = asdict(TrainConfig())
    names = ", ".join(ARCHITECTURES)
    for param in command.params:
        if param.name not in TRAINING_OPTIONS:
            continue
        if param.name == "arch" and param.multiple:
            param.help = f"An architecture to train ({names}); repeat for each. Default: all."
        elif param.name == "arch":
            param.help = f"Architecture: {names}."
            param.default = DEFAULT_ARCH
        elif param.name == "plain":
            recipe = ", ".join(_as_option(k, v) for k, v in PLAIN_RECIPE.items())
            param.help = (
                f"{TRAINING_OPTIONS['plain'][1]}: {recipe}, halving the learning rate on "
                "plateaus (options given beside it still apply)."
            )
        elif param.name in defaults:
            param.default = defaults[param.name]


def training_options(
    *names: str, many_archs: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the named training options to a command, which receives them as its first argument:
    a dict for TrainConfig(**...) (with many_archs, "arch" is a list, possibly empty)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in list(inspect.signature(fn).parameters.values())[1:]
        ]
        added = []
        for name in names:
            kind, help_text = TRAINING_OPTIONS[name]
            if name == "arch" and many_archs:
                kind = list[str] | None
            option = typer.Option(help=help_text, show_default=not (name == "arch" and many_archs))
            added.append(
                inspect.Parameter(
                    name,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=None,
                    annotation=Annotated[kind, option],
                )
            )

        @functools.wraps(fn)
        def command(ctx: typer.Context, **kwargs: Any) -> Any:
            # Typer vendors click in newer releases: compare the source by name, not by class.
            def source(name: str) -> str:
                found = ctx.get_parameter_source(name)
                return "DEFAULT" if found is None else found.name

            given = {n: None if source(n) == "DEFAULT" else kwargs[n] for n in names}
            for n in names:
                del kwargs[n]
            return fn(given, **kwargs)

        context = inspect.Parameter(
            "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
        )
        params = [context, *added, *own]
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        complete_later(fn.__name__.removesuffix("_cmd"), _complete_training)
        return command

    return decorate


def download_progress() -> Any:
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err.rich(),
    )
    tasks: dict[str, Any] = {}

    def update(name: str, done: int, total: int | None) -> None:
        if name not in tasks:
            progress.start()
            tasks[name] = progress.add_task(f"downloading {name}", total=total)
        progress.update(tasks[name], completed=done)
        if total is not None and done >= total:
            progress.stop()

    return update


def epoch_printer(quiet: bool) -> Any:
    if quiet:
        return None

    def show(epoch: int, logs: dict[str, float], seconds: float) -> None:
        err.print(
            f"epoch {epoch:3d}  loss {logs.get('loss', 0):.4f}  acc {logs.get('accuracy', 0):.4f}  "
            f"val_loss {logs.get('val_loss', 0):.4f}  val_acc {logs.get('val_accuracy', 0):.4f}  "
            f"lr {logs.get('learning_rate', 0):.1e}  {seconds:.1f}s",
            highlight=False,
        )

    return show


def train_config(fields: dict[str, Any]) -> Any:
    """The TrainConfig the options ask for: the default recipe, or with --plain the notebook's,
    changed by every option given."""
    from edge_mnist.train import TrainConfig

    given = {k: v for k, v in fields.items() if v is not None and k != "plain"}
    if given.get("extra_images") is not None:
        given["extra_images"] = str(given["extra_images"])
    config = TrainConfig.plain(**given) if fields.get("plain") else TrainConfig(**given)
    config.validate()
    return config
