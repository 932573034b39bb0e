"""The wheels a row installs, downloaded on the host for the row's platform (no index inside)."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from .proc import StageError, run, tail
from .rows import GLIBC, PIP_PLATFORM, PYTHON, Row
from .settings import ROOT


def download(row: Row, suite: str, wheel: Path, cache: Path) -> Path:
    """Wheels for the row's platform, fetched on the host; reused while the request is unchanged."""
    py = PYTHON[suite]
    reqs = [
        r.replace("edge-mnist", f"{wheel}", 1) if r.startswith("edge-mnist") else r for r in row.pip
    ]
    if not row.pypi_binaries:
        # Debian provides numpy and Pillow: fetch only the pure-Python rest (typer, rich, pytest),
        # with the project's own requirements on them.
        reqs = [
            *pure_requirements(),
            *[r for r in row.pip if not r.startswith("edge-mnist")],
        ]
    # The project's wheel is rebuilt on every run: its requirements, not its path, name the set.
    request = [r for r in reqs if r != str(wheel)] + [project_table()]
    key = hashlib.sha256(json.dumps([row.arch, py, GLIBC[suite], request]).encode()).hexdigest()
    out = cache / "wheels" / f"{row.arch}-cp{py.replace('.', '')}-{key[:12]}"
    if (out / ".complete").exists():
        return out
    arch = PIP_PLATFORM[row.arch]
    plats = [f"manylinux_2_{v}_{arch}" for v in range(17, GLIBC[suite] + 1)]
    plats += [f"manylinux2014_{arch}", f"linux_{arch}"]
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", str(out)]
    cmd += [a for p in plats for a in ("--platform", p)]
    cmd += ["--python-version", py, "--implementation", "cp", *reqs]
    proc = run(cmd)
    if proc.returncode:
        raise StageError(f"pip download for {row.arch} Python {py} failed: {tail(proc.stderr, 3)}")
    for stale in out.glob("edge_mnist-*.whl"):
        stale.unlink()  # the project's wheel comes fresh from dist/ on every run
    (out / ".complete").write_text(json.dumps(request) + "\n")
    return out


def project_table() -> dict[str, Any]:
    """pyproject's dependencies and extras: what the project's wheel asks pip for."""
    import tomllib  # Python 3.11+, which every CI host here has; read only by this step

    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    return {k: project.get(k) for k in ("dependencies", "optional-dependencies")}


def pure_requirements() -> list[str]:
    """The project's runtime dependencies other than numpy and Pillow, as pyproject states them."""
    deps = project_table()["dependencies"]
    return [d for d in deps if not re.match(r"(numpy|pillow)\b", d, re.IGNORECASE)]
