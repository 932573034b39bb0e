"""The edge-mnist command line: one Typer app, one module per group of commands.

- ``app.py``: the app, exit codes and error messages, ``--version``, the consoles, and
  ``COMMANDS``, the table of every command and its module;
- ``host.py``: data, train, export, check (the accuracy gate), pipeline, with the
  training options they share in ``training.py``;
- ``compare.py``: compare (model selection and the edge Pareto table);
- ``quant_report.py``: quant-report (per-layer int8 error; runs on a device too);
- ``device.py``: predict, info;  ``bench.py``: the bench group;  ``serve.py``: serve;
  ``doctor.py``: doctor;  ``verify.py``: verify;  ``robustness.py``: robustness;
  ``render.py``: the rich tables, ``plain.py``: the plain ones;
- ``options.py``: options several commands share (--json FILE, -b/--backend, --limit N,
  --plot FILE: one meaning each, tests/test_cli_grammar.py); ``specs.py``: Typer options built
  from the runtime's option specs (bench and serve declare theirs once, in runtime/).

To add a command, write ``edge_mnist/cli/<feature>.py`` that does ``from .app import app`` and
decorates its functions with ``@app.command()``, and add a row for each command to ``COMMANDS``
in app.py (help lists them in its order). A command's module is imported only when the command
is run or listed in help, so ``edge-mnist predict`` loads device.py and none of the others
(tests/unit/test_device_budget.py counts what it loads). A command module still imports its
libraries inside its command functions (help imports every one), and device commands (predict,
info, bench, serve) never import host modules at all (tests/test_cli_imports.py lists what
``edge-mnist predict`` may load).
"""

from .app import app, run


def main() -> None:
    """Console-script entry point."""
    run()


__all__ = ["app", "main"]
