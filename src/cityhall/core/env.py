"""Settings from the environment, each one declared once with its documentation.

Every setting that cityhall reads from the environment goes through :func:`setting`,
which records its name, default and help text.  ``cityhall export-config-docs``
writes ``docs/configuration.md`` from this registry and a test fails when the
committed file drifts, so the operator's documentation cannot fall behind the code.

Framework-free on purpose: ``settings.py`` imports it before Django is set up.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    group: str
    secret: bool = False
    shown_default: str | None = None


REGISTRY: dict[str, Setting] = {}


class ConfigurationError(ValueError):
    """A setting in the environment has a value cityhall cannot use."""


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigurationError(f"expected true/false, got {raw!r}")


def _parse_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


PARSERS: dict[type, Callable[[str], Any]] = {
    str: str,
    int: int,
    float: float,
    bool: _parse_bool,
    list: _parse_list,
}


def setting(
    name: str,
    default: str,
    help: str,
    *,
    cast: type = str,
    group: str = "General",
    secret: bool = False,
    shown_default: str | None = None,
) -> Any:
    """Read ``name`` from the environment (``default`` when unset) and record it.

    ``shown_default`` is what the documentation says when the real default depends on
    the machine or on other settings.
    """
    REGISTRY[name] = Setting(
        name=name,
        default=default,
        help=help,
        group=group,
        secret=secret,
        shown_default=shown_default,
    )
    raw = os.environ.get(name, default)
    try:
        return PARSERS[cast](raw)
    except (ValueError, ConfigurationError) as exc:
        raise ConfigurationError(f"{name}: {exc}") from exc


def render_markdown() -> str:
    """The operator's reference of every setting, grouped, in declaration order."""
    lines = [
        "# Configuration",
        "",
        "cityhall reads every setting from the environment. This page is generated from",
        "the code (`cityhall export-config-docs docs/configuration.md`); a test fails when",
        "it drifts. Settings marked *secret* must come from a secret store in production.",
        "",
    ]
    groups: dict[str, list[Setting]] = {}
    for item in REGISTRY.values():
        groups.setdefault(item.group, []).append(item)
    for group, items in groups.items():
        lines += [f"## {group}", "", "| variable | default | meaning |", "|---|---|---|"]
        for item in items:
            if item.shown_default is not None:
                default = item.shown_default
            else:
                default = f"`{item.default}`" if item.default else "(empty)"
            if item.secret and item.default:
                default += " (development only)"
            text = item.help.replace("|", "\\|").replace("\n", " ")
            flag = " *secret*" if item.secret else ""
            lines.append(f"| `{item.name}`{flag} | {default} | {text} |")
        lines.append("")
    return "\n".join(lines)
