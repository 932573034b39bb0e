"""The edge-mnist command line: one Typer app, one module per group of commands.

- ``app.py``: the app, exit codes and error messages, ``--version``, the consoles;
- ``host.py``: data, train, export, check (the accuracy gate), pipeline, with the
  training options they share in ``training.py``;
- ``compare.py``: compare (model selection and the edge Pareto table);
- ``quant_report.py``: quant-report (per-layer int8 error; runs on a device too);
- ``device.py``: predict, info;  ``bench.py``: the bench group;  ``serve.py``: serve;
  ``render.py``: the rich tables, ``plain.py``: the plain ones;
- ``options.py``: options several commands share (--json FILE, -b/--backend, --limit N,
  --plot FILE: one meaning each, tests/test_cli_grammar.py); ``specs.py``: Typer options built
  from the runtime's option specs (bench and serve declare theirs once, in runtime/).

To add a command, write ``edge_mnist/cli/<feature>.py`` that does ``from .app import app`` and
decorates its functions with ``@app.command()``, and add its module to the import line below
(the import registers the commands; help lists them in import order). Every command module is
imported for every command, so it imports its libraries inside its command functions; device
commands (predict, info, bench, serve) never import host modules at all (tests/test_cli_imports.py
lists what ``edge-mnist predict`` may load).
"""

from . import host, compare, quant_report, device, verify, bench, serve, robustness  # noqa: F401, I001  (registers the commands, in help order)
from .app import app, run


def main() -> None:
    """Console-script entry point."""
    run()


__all__ = ["app", "main"]
