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


def _add_generate(sub: argparse._SubParsersAction) -> None:
    from workbook.synth.cli import add_arguments, run

    p = sub.add_parser("generate", help="write a synthetic member/transaction data set")
    add_arguments(p)
    p.set_defaults(func=run)


def _add_run(sub: argparse._SubParsersAction) -> None:
    from workbook.runner import add_arguments, run

    p = sub.add_parser("run", help="execute a notebook on your own data (papermill)")
    add_arguments(p)
    p.set_defaults(func=run)


def _add_exercises(sub: argparse._SubParsersAction) -> None:
    from workbook.exercises import add_arguments, run

    p = sub.add_parser("exercises", help="build student and instructor exercise notebooks")
    add_arguments(p)
    p.set_defaults(func=run)


def _add_apps(sub: argparse._SubParsersAction) -> None:
    from workbook.apps import add_arguments, run

    p = sub.add_parser("apps", help="serve the code-free apps for managers (Voila)")
    add_arguments(p)
    p.set_defaults(func=run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbook", description="Membership lifecycle workbook tools."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_generate, _add_run, _add_exercises, _add_apps):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except WorkbookInputError as exc:
        # Trainees read Chinese first; the English line keeps "error:" for analysts' scripts.
        print(error_message(exc), file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
