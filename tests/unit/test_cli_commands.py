"""The CLI's command table: every command a module registers is listed with its module, so that
running one command imports that module alone, and help still lists every command in order."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

from edge_mnist.cli.app import COMMANDS, app


def _registered() -> dict[str, str]:
    """{command name: module} for everything the command modules register on the app."""
    for module in sorted(set(COMMANDS.values())):
        importlib.import_module(f"edge_mnist.cli.{module}")
    found: dict[str, str] = {}
    for info in app.registered_commands:
        assert info.callback is not None
        name = info.name or info.callback.__name__.lower().replace("_", "-")
        found[name] = info.callback.__module__
    for group in app.registered_groups:
        assert group.name is not None and group.typer_instance is not None
        callbacks = [c.callback for c in group.typer_instance.registered_commands]
        found[group.name] = next(c.__module__ for c in callbacks if c is not None)
    return found


def test_the_table_lists_every_registered_command_with_its_module() -> None:
    expected = {name: f"edge_mnist.cli.{module}" for name, module in COMMANDS.items()}
    assert _registered() == expected


def test_running_one_command_imports_its_module_alone_and_help_lists_all(
    tmp_path: Path,
) -> None:
    """`edge-mnist info --help` loads device.py and no other command module; `edge-mnist --help`
    lists every command of the table, in its order (loading them all)."""
    code = """
import sys
from edge_mnist.cli import main
sys.argv = ['edge-mnist', *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print('LOADED=' + ','.join(sorted(m for m in sys.modules if m.startswith('edge_mnist.cli.'))))
"""
    env = {**os.environ, "COLUMNS": "200"}

    def run(*args: str) -> tuple[list[str], set[str]]:
        out = subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout.splitlines()
        loaded = next(x for x in out if x.startswith("LOADED=")).removeprefix("LOADED=")
        return out, set(loaded.split(","))

    modules = {f"edge_mnist.cli.{m}" for m in COMMANDS.values()}
    out, loaded = run("info", "--help")
    assert any(line.startswith("Usage:") and " info " in line for line in out), out
    assert loaded & modules == {"edge_mnist.cli.device"}
    out, loaded = run("--help")
    assert loaded & modules == modules
    listed = [line.split()[0] for line in out if line.startswith("  ") and line.split()]
    shown = [name for name in listed if name in COMMANDS]
    assert shown == list(COMMANDS)
