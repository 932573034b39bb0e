"""How a command ends when it is stopped from outside: a signal, or a reader that went away.

SIGTERM and SIGHUP (a CI runner, a container or systemd stopping the job; a closed terminal) are
handled like Ctrl-C: they raise a KeyboardInterrupt in the main thread, so every ``finally``
runs and atomic writes remove their temporary files. The command then prints "interrupted" on
stderr and exits 128 + the signal number, as a shell reports a job killed by it: 130 for
Ctrl-C (SIGINT), 143 for SIGTERM, 129 for SIGHUP. A signal that is ignored when the command
starts (``nohup`` ignores SIGHUP) stays ignored.

Device commands that write no file until their very end (predict, info, verify) keep
the default disposition instead: SIGTERM and SIGHUP end them at once, even inside an
interpreter's native code, which a Python handler would wait for (a damaged model once kept
ai-edge-litert allocating for minutes, and a SIGTERM took another 130 s to act). The shell
then reports 143 or 129 as before, without the "interrupted" line; their one file, --json
FILE, is written under :func:`handled`, so a signal then still removes the temporary file.

When stdout is a pipe whose reader has exited (``edge-mnist predict ... | head -2``), the
command stops writing and exits quietly with 141 (128 + SIGPIPE): what ``set -o pipefail``
shows for any Unix tool in that place, so a cut-off listing is never taken for a complete one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from typing import NoReturn

# 128 + SIGPIPE (13 on every Unix; SIGPIPE does not exist on Windows).
EXIT_BROKEN_PIPE = 128 + getattr(signal, "SIGPIPE", 13)
HANDLED = ("SIGTERM", "SIGHUP")
# Commands that end at once on SIGTERM/SIGHUP (see above). bench is not one: it keeps handlers
# so that its reports and plots are never left half-written, and its only long native call,
# loading a damaged model, is refused by the size check first (runtime/engine/bounds.py).
# doctor is not one either: its import probes are child processes, which its ``finally`` kills.
ENDS_AT_ONCE = frozenset({"predict", "info", "verify"})


class Interrupted(KeyboardInterrupt):
    """A KeyboardInterrupt raised for SIGTERM or SIGHUP (``signum`` says which)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


# stderr as it was at start: the "interrupted" line goes there even when the signal came while
# fd 2 was briefly pointed elsewhere (the runtime filters an interpreter's native log lines).
_stderr_fd: int | None = None


def install_handlers(command: str | None = None) -> None:
    """Make SIGTERM and SIGHUP raise :class:`Interrupted` (main thread only; an ignored or
    already handled signal is left as it is), except for a ``command`` in ENDS_AT_ONCE."""
    global _stderr_fd
    if _stderr_fd is None:
        with contextlib.suppress(OSError):
            _stderr_fd = os.dup(2)
    if command in ENDS_AT_ONCE:
        return
    _raise_on(HANDLED)


def _raise_on(names: tuple[str, ...]) -> dict[int, object]:
    """Install the raising handler for each default-disposition signal; return what it replaced."""
    replaced: dict[int, object] = {}
    for name in names:
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            if signal.getsignal(signum) is signal.SIG_DFL:
                replaced[signum] = signal.signal(signum, _raise_interrupted)
    return replaced


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Interrupted` even in a command that
    ends at once otherwise: for writing a file, whose temporary file the unwinding removes."""
    replaced = _raise_on(HANDLED)
    try:
        yield
    finally:
        for signum, previous in replaced.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(signum, previous)  # type: ignore[arg-type]


def exit_code(exc: KeyboardInterrupt) -> int:
    """128 + the signal that caused ``exc`` (SIGINT for a plain KeyboardInterrupt)."""
    return 128 + int(getattr(exc, "signum", signal.SIGINT))


def report_interrupted(exc: KeyboardInterrupt) -> int:
    """Say "interrupted" on stderr (naming the signal) and return the exit code to use."""
    code = exit_code(exc)
    name = signal.Signals(code - 128).name
    message = f"\ninterrupted ({name}).\n"
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.flush()
        if _stderr_fd is not None:
            os.write(_stderr_fd, message.encode())
        else:
            sys.stderr.write(message)
            sys.stderr.flush()
    return code


def quiet_broken_pipe() -> NoReturn:
    """Stop after stdout's reader went away: no message, exit :data:`EXIT_BROKEN_PIPE`.

    Python flushes stdout once more at exit, which would fail again with a complaint on stderr:
    stdout is pointed at /dev/null first.
    """
    with contextlib.suppress(OSError, ValueError, AttributeError):  # AttributeError: no stdout
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    raise SystemExit(EXIT_BROKEN_PIPE)


def flush_stdout() -> None:
    """Flush stdout before exiting, treating a vanished reader like :func:`quiet_broken_pipe`."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        quiet_broken_pipe()
    except (OSError, ValueError, AttributeError):  # closed, or no stdout at all
        pass
