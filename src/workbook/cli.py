"""The ``workbook`` command line.

Sub-commands (each implemented in the module that owns the concept):

* ``workbook generate``: write a synthetic data set (``workbook.synth``).
* ``workbook run``: execute a notebook on the user's own data (``workbook.runner``).
* ``workbook exercises build``: build student and instructor exercise notebooks
  (``workbook.exercises``).
* ``workbook apps``: serve the code-free apps for managers with Voila (``workbook.apps``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from workbook.console import error_message
from workbook.errors import WorkbookInputError


def _add_generate(p: argparse.ArgumentParser) -> None:
    from workbook.synth.cli import add_arguments, run

    add_arguments(p)
    p.set_defaults(func=run)


def _add_run(p: argparse.ArgumentParser) -> None:
    from workbook.runner import add_arguments, run

    add_arguments(p)
    p.set_defaults(func=run)


def _add_exercises(p: argparse.ArgumentParser) -> None:
    from workbook.exercises import add_arguments, run

    add_arguments(p)
    p.set_defaults(func=run)


def _add_apps(p: argparse.ArgumentParser) -> None:
    from workbook.apps import add_arguments, run

    add_arguments(p)
    p.set_defaults(func=run)


#: Sub-commands, their one-line help and the function adding their options (which imports their module).
_COMMANDS = {
    "generate": ("write a synthetic member/transaction data set", _add_generate),
    "run": ("execute a notebook on your own data (papermill)", _add_run),
    "exercises": ("build student and instructor exercise notebooks", _add_exercises),
    "apps": ("serve the code-free apps for managers (Voila)", _add_apps),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; given the ``command`` being run, only that sub-command's module is imported.

    (Importing all of them took 4 s: papermill/nbformat for ``run`` alone 2.6 s, paid by ``generate`` too.)
    """
    parser = argparse.ArgumentParser(
        prog="workbook", description="Membership lifecycle workbook tools."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add) in _COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if command is None or name == command:
            add(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv and argv[0] in _COMMANDS else None
    parser = build_parser(command)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except WorkbookInputError as exc:
        # Trainees read Chinese first; the English line keeps "error:" for analysts' scripts.
        print(error_message(exc), file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
