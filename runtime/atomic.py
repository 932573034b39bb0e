"""Atomic file writes: a temporary file beside the target, renamed into place on success.

Temporary files are named ``.<target name>.edge-mnist-tmp-<pid>-<random><suffix>`` so that a
later run can recognise the ones a killed process left behind and remove them
(:func:`remove_stale_temporaries`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputError

TEMP_MARK = ".edge-mnist-tmp-"
# A temporary file this old is stale even if its pid is alive again (pids are reused).
STALE_AFTER_SECONDS = 60 * 60
_TEMP_NAME = re.compile(r"^\..+" + re.escape(TEMP_MARK) + r"(?P<pid>\d+)-")
# errno values that mean the device (or the user's quota on it) is full.
NO_SPACE_ERRNOS = {errno.ENOSPC} | ({errno.EDQUOT} if hasattr(errno, "EDQUOT") else set())


def output_error(path: Path, exc: OSError, fix: str = "choose a writable path.") -> OutputError:
    """The error for an OSError while writing ``path``, naming a full disk as such."""
    if exc.errno in NO_SPACE_ERRNOS:
        quota = " (disk quota exceeded)" if exc.errno != errno.ENOSPC else ""
        folder = path if path.is_dir() else path.parent
        return OutputError(
            f"no space left on the device at {folder}{quota}; cannot write {path.name}.",
            "free space or choose another folder.",
        )
    return OutputError(f"cannot write {path}: {exc.strerror or exc}.", fix)


def temporary_name(target: Path) -> str:
    """The prefix of the temporary files written for ``target`` by this process."""
    return f".{target.name}{TEMP_MARK}{os.getpid()}-"


@contextlib.contextmanager
def atomic_path(target: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it into place only if the block succeeds."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=temporary_name(target), suffix=suffix or ".tmp", dir=target.parent
        )
    except OSError as exc:
        raise output_error(target, exc) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
            # mkstemp makes the file private (0600); give it the mode a plain open() would.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_path, 0o666 & ~umask)
            os.replace(tmp_path, target)
        except OSError as exc:
            raise output_error(target, exc) from None
    finally:
        tmp_path.unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid() or os.name == "nt":
        # On Windows os.kill(pid, 0) would send CTRL_C_EVENT: there the age alone decides.
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, owned by someone else
        return True
    return True


def remove_stale_temporaries(
    folder: Path, max_age_seconds: float = STALE_AFTER_SECONDS
) -> list[Path]:
    """Delete temporary files of :func:`atomic_path` in ``folder`` whose writer is gone.

    A file is stale when the process named in it no longer runs, or when it is older than
    ``max_age_seconds``. Other files are never touched. Returns what was removed.
    """
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    now = time.time()
    removed = []
    for path in entries:
        match = _TEMP_NAME.match(path.name)
        if match is None:
            continue
        try:
            age = now - path.lstat().st_mtime
            if _pid_alive(int(match["pid"])) and age < max_age_seconds:
                continue
            path.unlink()
        except OSError:  # gone already, a folder, or not ours to delete
            continue
        removed.append(path)
    return removed
