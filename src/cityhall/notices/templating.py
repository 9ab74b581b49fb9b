"""``((placeholder))`` templates, as GOV.UK Notify writes them.

A placeholder is a name of letters, digits and underscores between double round
brackets: ``((name))``, ``((shelter))``. :func:`placeholders` lists them, :func:`fill`
replaces them and refuses unknown ones, so a template with a typo is refused before
anything is queued rather than sent with ``((shleter))`` in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

PLACEHOLDER = re.compile(r"\(\(\s*([A-Za-z][A-Za-z0-9_]*)\s*\)\)")

#: Filled per resident at sending time; every other placeholder needs a value when the
#: message is created.
PER_RECIPIENT = frozenset({"name"})


class UnknownPlaceholder(ValueError):
    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted(set(names))
        super().__init__("unknown placeholders: " + ", ".join(self.names))


def placeholders(text: str) -> set[str]:
    return {match.group(1) for match in PLACEHOLDER.finditer(text)}


def fill(text: str, values: Mapping[str, str], *, keep: Iterable[str] = ()) -> str:
    """Replace every placeholder with its value; names in ``keep`` stay as they are.

    Raises :class:`UnknownPlaceholder` naming every placeholder with no value.
    """
    kept = set(keep)
    missing = placeholders(text) - set(values) - kept
    if missing:
        raise UnknownPlaceholder(missing)

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in kept and name not in values:
            return match.group(0)
        return str(values[name])

    return PLACEHOLDER.sub(replace, text)
