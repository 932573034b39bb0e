"""The rich console class the commands print through (imported on first use: consoles.py)."""

from __future__ import annotations

from rich.console import Console

from .signals import quiet_broken_pipe


class PipeSafeConsole(Console):
    """A rich console that ends the command quietly when its pipe's reader has gone (rich
    itself exits 1 then, the code for a failed check)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        quiet_broken_pipe()
