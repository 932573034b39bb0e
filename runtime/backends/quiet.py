"""Keep the interpreters' routine native log lines off stderr.

TFLite interpreters print "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." from C++
straight to file descriptor 2 the first time a model's tensors are allocated, on every start,
and offer no option to silence it. Around that call, fd 2 is pointed at a temporary file; what
native code wrote there is then written back to stderr, minus the routine lines.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator

ROUTINE = (b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",)
# fd 2 is one per process: two threads redirecting it at once would lose each other's output.
_LOCK = threading.Lock()


@contextlib.contextmanager
def routine_lines_dropped(routine: tuple[bytes, ...] = ROUTINE) -> Iterator[None]:
    """Run the block with native writes to fd 2 filtered: routine lines dropped, others kept."""
    with _LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):  # no fd 2 (a GUI, a closed stderr)
            yield
            return
        try:
            capture = tempfile.TemporaryFile()  # noqa: SIM115  (closed by "with capture" below)
        except OSError:  # nowhere to write: leave stderr as it is
            os.close(saved)
            yield
            return
        with capture:
            try:
                os.dup2(capture.fileno(), 2)
                yield
            finally:
                with contextlib.suppress(OSError, ValueError):
                    sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
                capture.seek(0)
                kept = [
                    line
                    for line in capture.read().splitlines(keepends=True)
                    if line.strip() not in routine
                ]
                if kept:
                    with contextlib.suppress(OSError):
                        os.write(2, b"".join(kept))
