"""``cityhall``: the project's one command.

It runs Django's management commands (``cityhall migrate``, ``cityhall createsuperuser``,
``cityhall runserver`` …) and cityhall's own (``demo``, ``worker``, ``seed``,
``audit verify``, ``export-openapi`` …). ``cityhall help`` lists them all.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityhall.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["cityhall", *argv])
    # Commands are written with dashes on the command line, underscores in Python.
    if len(args) > 1 and "-" in args[1] and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
