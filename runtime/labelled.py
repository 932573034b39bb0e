"""Folders of labelled digit images: files named ``*_<digit>.<ext>`` or kept in subfolders named
0 to 9. The one reader of that layout, for ``predict`` and ``robustness --images``."""

from __future__ import annotations

import re
from pathlib import Path

from .errors import InvalidInputError

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
)
_LABEL_IN_NAME = re.compile(r"_(\d)$")
LABELLED_LAYOUT = "name files like 'anything_7.png', or put them in subfolders named 0 to 9."


def is_image_file(path: Path) -> bool:
    """A file with one of the image suffixes Pillow reads here."""
    return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()


def has_digit_folders(folder: Path) -> bool:
    """True when ``folder`` holds subfolders named 0 to 9 (the labelled layout)."""
    return any(p.is_dir() and re.fullmatch(r"\d", p.name) for p in folder.iterdir())


def labelled_files(folder: Path) -> list[tuple[Path, int]]:
    """Image files with their digit: from a ``*_<digit>.<ext>`` name or a ``<digit>/`` folder."""
    if not folder.is_dir():
        raise InvalidInputError(
            f"{folder}: not a folder.", "pass a folder of labelled digit images."
        )
    found: list[tuple[Path, int]] = []
    for path in sorted(folder.rglob("*")):
        if not is_image_file(path):
            continue
        match = _LABEL_IN_NAME.search(path.stem)
        if match:
            found.append((path, int(match.group(1))))
        elif path.parent != folder and re.fullmatch(r"\d", path.parent.name):
            found.append((path, int(path.parent.name)))
    if not found:
        raise InvalidInputError(f"{folder}: no labelled images found.", LABELLED_LAYOUT)
    return found
