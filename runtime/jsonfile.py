"""Small JSON files (a manifest, a report): read one, turning every way it can be bad into one
error, and write one atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import EdgeMnistError, InvalidInputError

# Manifests and reports are a few kilobytes; refuse to load anything far larger into memory.
MAX_JSON_BYTES = 64 * 1024 * 1024


def read_json(
    path: str | Path,
    what: str = "the JSON file",
    fix: str | None = None,
    error: type[EdgeMnistError] = InvalidInputError,
    max_bytes: int = MAX_JSON_BYTES,
) -> Any:
    """Parse ``path`` as JSON, or raise ``error("<path>: cannot read <what> (<reason>).", fix)``.

    Covers a missing or unreadable file, a file too large, bytes that are not UTF-8, text that
    is not JSON, and JSON nested too deeply for the parser (RecursionError).
    """
    path = Path(path)

    def fail(reason: str) -> EdgeMnistError:
        return error(f"{path}: cannot read {what} ({reason}).", fix)

    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise fail(f"{size} bytes, more than the {max_bytes} allowed")
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise fail(exc.strerror or str(exc)) from None
    except UnicodeDecodeError:
        raise fail("not UTF-8 text") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise fail("JSON nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError and out-of-range numbers
        raise fail(f"not valid JSON: {exc}") from None


def dumps(obj: Any) -> str:
    """The one JSON text of a report: indented, a final newline; values JSON lacks (a Path, a
    date) written as their str()."""
    return json.dumps(obj, indent=2, default=str) + "\n"


def write_json(target: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON with a final newline, atomically (OutputError if it cannot)."""
    # Imported here: tempfile is slow to import, and a device that only reads JSON never needs it.
    from .atomic import atomic_path

    text = dumps(obj)
    with atomic_path(Path(target), suffix=".json") as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_or_stdout(target: str | Path, obj: Any) -> None:
    """--json FILE: ``obj`` written atomically to FILE, or to stdout for '-' (the same bytes)."""
    import sys

    if str(target) == "-":  # cliopts.STDOUT (not imported: cliopts imports the backend table)
        sys.stdout.write(dumps(obj))
        sys.stdout.flush()
    else:
        write_json(target, obj)
