"""stdout and stderr consoles that import rich on first use.

rich costs some 40 ms of every start here (far more on a Pi), and ``predict`` and ``info`` print
plain text (see plain.py): a device command that succeeds never loads it. Host commands, help,
warnings and errors print through rich as before.
"""

from __future__ import annotations

from typing import Any


class LazyConsole:
    """Stands for a ``rich.console.Console``, created at the first attribute looked up."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rich(), name)

    def rich(self) -> Any:
        """The console itself (made now if need be), for rich objects that take one."""
        if self._console is None:
            if self._stderr:
                from rich.console import Console

                self._console = Console(stderr=True, soft_wrap=True)
            else:
                from .richout import PipeSafeConsole

                self._console = PipeSafeConsole(soft_wrap=True)
        return self._console


def escape(text: str) -> str:
    """``rich.markup.escape``: text that rich prints as it is, brackets included."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)
