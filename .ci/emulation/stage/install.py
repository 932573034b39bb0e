"""What a Pi user does in a row: a venv and pip, from wheels fetched beforehand (no index here)."""

from __future__ import annotations

from pathlib import Path

from .guest import Guest
from .outcome import Outcome
from .proc import StageError, tail

# Checks the installed environment: numpy and Pillow import, and TensorFlow never came along.
PROBE = (
    "import sys, importlib.util, numpy, PIL\n"
    "assert importlib.util.find_spec('tensorflow') is None, 'TensorFlow is installed'\n"
    "print(sys.version.split()[0], numpy.__version__, PIL.__version__)"
)


def install(guest: Guest, outcome: Outcome) -> None:
    """A venv in /opt/venv with the row's pip requirements; notes the versions it got."""
    row = guest.row
    # The venv gets no pip of its own: ensurepip would byte-compile pip under emulation for
    # minutes (docs/2026-12-03-emulation.md). Debian's pip wheel (python3-pip-whl) runs the
    # install instead, the same pip.
    venv = ["python3", "-m", "venv", "--without-pip"]
    if not row.pypi_binaries:
        venv.append("--system-site-packages")  # Debian's numpy, Pillow and jsonschema
    proc = guest.run([*venv, "/opt/venv"], 600)
    if proc.returncode:
        raise StageError(f"python3 -m venv failed: {tail(proc.stderr, 3)}")
    wheel = next(Path(guest.binds["/opt/in/dist"]).glob("edge_mnist-*.whl")).name
    reqs = [r.replace("edge-mnist", f"/opt/in/dist/{wheel}", 1) for r in row.pip]
    pip = "set -- /usr/share/python-wheels/pip-*.whl && /opt/venv/bin/python $1/pip install -q --no-compile"
    pip += " --no-index --find-links /opt/in/wheels " + " ".join(f"'{r}'" for r in reqs)
    proc = guest.run(["sh", "-c", pip], 1200)
    if proc.returncode:
        raise StageError(f"pip install failed: {tail(proc.stderr, 4)}")
    proc = guest.run(["python", "-c", PROBE], 300)
    if proc.returncode:
        raise StageError(f"the environment is not right: {tail(proc.stderr, 3)}")
    outcome.python, np_version, pil_version = proc.stdout.split()
    outcome.notes.append(f"Python {outcome.python}, numpy {np_version}, Pillow {pil_version}")
