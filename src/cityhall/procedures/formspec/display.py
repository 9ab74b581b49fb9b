"""Answers as text: rows for the confirmation page and the PDF receipt, columns for CSV export.

formspec has no gettext, so the few words it needs (yes, no, signed, ``{n} files``)
come from the caller as ``words``; English is the default.

Paths here count group items from 1 (``children.1.name`` is the first child), as
people do; validation paths (:mod:`.validate`) count from 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from cityhall.procedures.formspec import wareki
from cityhall.procedures.formspec.conditions import is_visible
from cityhall.procedures.formspec.schema import Field, FieldType, FormSpec
from cityhall.procedures.formspec.text import pick
from cityhall.procedures.formspec.values import is_empty

DEFAULT_WORDS: dict[str, str] = {
    "yes": "Yes",
    "no": "No",
    "signed": "Signed",
    "files": "{n} files",
}
CSV_WORDS: dict[str, str] = {"yes": "yes", "no": "no", "signed": "signed", "files": "{n}"}


@dataclass(frozen=True)
class Row:
    """One line of a summary: the step it belongs to, a path, a label and the answer as text.

    A group item's heading row (``"お子さん 1"``) has an empty ``text``.
    """

    step_title: str
    path: str
    label: str
    text: str


def _words(words: Mapping[str, str] | None) -> dict[str, str]:
    out = dict(DEFAULT_WORDS)
    out.update(words or {})
    return out


def _files(count: int, words: Mapping[str, str]) -> str:
    template = words.get("files", DEFAULT_WORDS["files"])
    if "{n}" not in template:
        return f"{count} {template}"
    try:
        return template.format(n=count)
    except (KeyError, IndexError, ValueError):
        return f"{count} {template}"


def name_text(value: Mapping[str, Any], *, kana: bool = True) -> str:
    """``"伊賀 太郎 (イガ タロウ)"`` (the reading only when there is one)."""
    full = " ".join(str(value.get(p) or "") for p in ("family", "given")).strip()
    reading = " ".join(str(value.get(p) or "") for p in ("family_kana", "given_kana")).strip()
    return f"{full} ({reading})" if kana and reading else full


def date_text(value: str, f: Field, language: str) -> str:
    """ISO, or ``"令和8年11月26日 (2026-11-26)"`` for a 和暦 field read in Japanese."""
    if f.calendar == "wareki" and (language or "").lower().startswith("ja"):
        try:
            return f"{wareki.format_wareki(date.fromisoformat(value))} ({value})"
        except ValueError:
            return value
    return value


def _choice_label(f: Field, value: Any, language: str) -> str:
    for choice in f.choices:
        if choice.value == value:
            return pick(choice.label, language) or choice.value
    return str(value)


def text(f: Field, value: Any, language: str, words: Mapping[str, str] | None = None) -> str:
    """One answer as text for a reader of ``language``."""
    w = _words(words)
    if value is None:
        return ""
    t = f.type
    if t == FieldType.NAME and isinstance(value, Mapping):
        return name_text(value)
    if t == FieldType.DATE and isinstance(value, str):
        return date_text(value, f, language)
    if t in (FieldType.CHOICE, FieldType.SELECT):
        return _choice_label(f, value, language)
    if t == FieldType.MULTICHOICE and isinstance(value, list | tuple):
        sep = "、" if (language or "").lower().startswith("ja") else ", "
        return sep.join(_choice_label(f, v, language) for v in value)
    if t in (FieldType.YESNO, FieldType.CONSENT):
        return w["yes"] if value is True else w["no"]
    if t == FieldType.FILE and isinstance(value, list | tuple):
        return _files(len(value), w)
    if t == FieldType.SIGNATURE and isinstance(value, Mapping):
        typed = str(value.get("typed") or "")
        return f"{w['signed']} ({typed})" if typed else w["signed"]
    if isinstance(value, bool):
        return w["yes"] if value else w["no"]
    return str(value)


def _shown(f: Field, counter: bool) -> bool:
    return f.has_value and (counter or not f.counter_only)


def rows(
    spec: FormSpec,
    answers: Mapping[str, Any],
    language: str,
    *,
    counter: bool = False,
    words: Mapping[str, str] | None = None,
) -> list[Row]:
    """The answers in reading order, skipping hidden and empty ones."""
    out: list[Row] = []
    current: dict[str, Any] = {}
    for step in spec.steps:
        title = pick(step.title, language)
        for f in step.fields:
            value = answers.get(f.key)
            if not _shown(f, counter) or not is_visible(f, current):
                continue
            if is_empty(f, value):
                continue
            current[f.key] = value
            label = pick(f.label, language)
            if f.type != FieldType.GROUP:
                out.append(Row(title, f.key, label, text(f, value, language, words)))
                continue
            if not isinstance(value, list | tuple):
                continue
            number = 0
            for item in value:
                if not isinstance(item, Mapping) or is_empty(f, [item]):
                    continue
                number += 1
                heading = f"{label} {number}"
                sub_rows: list[Row] = []
                seen: dict[str, Any] = {}
                for sub in f.fields:
                    sub_value = item.get(sub.key)
                    if not _shown(sub, counter) or not is_visible(sub, current, seen, group=f):
                        continue
                    if is_empty(sub, sub_value):
                        continue
                    seen[sub.key] = sub_value
                    sub_rows.append(
                        Row(
                            title,
                            f"{f.key}.{number}.{sub.key}",
                            f"{heading}: {pick(sub.label, language)}",
                            text(sub, sub_value, language, words),
                        )
                    )
                out.append(Row(title, f"{f.key}.{number}", heading, ""))
                out.extend(sub_rows)
    return out


# --- CSV ------------------------------------------------------------------------------------


def _flat_one(
    f: Field,
    path: str,
    value: Any,
    out: dict[str, str],
    *,
    labels: bool,
    words: Mapping[str, str],
) -> None:
    if value is None:
        return
    t = f.type
    if t == FieldType.NAME and isinstance(value, Mapping):
        out[path] = name_text(value, kana=False)
        out[f"{path}.kana"] = " ".join(
            str(value.get(p) or "") for p in ("family_kana", "given_kana")
        ).strip()
    elif t in (FieldType.CHOICE, FieldType.SELECT):
        out[path] = _choice_label(f, value, "ja") if labels else str(value)
    elif t == FieldType.MULTICHOICE and isinstance(value, list | tuple):
        out[path] = "; ".join(_choice_label(f, v, "ja") if labels else str(v) for v in value)
    elif t in (FieldType.YESNO, FieldType.CONSENT):
        out[path] = words["yes"] if value is True else words["no"]
    elif t == FieldType.FILE and isinstance(value, list | tuple):
        out[path] = "; ".join(str(v) for v in value)
    elif t == FieldType.SIGNATURE and isinstance(value, Mapping):
        out[path] = str(value.get("typed") or words["signed"])
    else:
        out[path] = str(value)


def flatten(
    spec: FormSpec,
    answers: Mapping[str, Any],
    *,
    labels: bool = False,
    words: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Answers as CSV cells: column path (see :func:`columns`) → plain text.

    Dates are ISO; a name is ``"family given"`` with its reading in ``"path.kana"``;
    choices are their values (their Japanese labels with ``labels=True``), a multichoice
    joined by ``"; "``; files are attachment ids joined by ``"; "``; yes/no are ``words``
    (``"yes"``/``"no"`` by default); group items are ``"key.1.sub"``, ``"key.2.sub"`` ….
    """
    w = dict(CSV_WORDS)
    w.update(words or {})
    out: dict[str, str] = {}
    for f in spec.fields():
        if not f.has_value:
            continue
        value = answers.get(f.key)
        if f.type == FieldType.GROUP:
            if not isinstance(value, list | tuple):
                continue
            number = 0
            for item in value:
                if not isinstance(item, Mapping) or is_empty(f, [item]):
                    continue
                number += 1
                for sub in f.fields:
                    if sub.has_value:
                        _flat_one(
                            sub,
                            f"{f.key}.{number}.{sub.key}",
                            item.get(sub.key),
                            out,
                            labels=labels,
                            words=w,
                        )
            continue
        _flat_one(f, f.key, value, out, labels=labels, words=w)
    return out


def _columns_of(f: Field, path: str, label: str) -> list[tuple[str, str]]:
    cols = [(path, label)]
    if f.type == FieldType.NAME:
        cols.append((f"{path}.kana", f"{label}（フリガナ）"))
    return cols


def columns(spec: FormSpec) -> list[tuple[str, str]]:
    """Every possible CSV column as ``(path, Japanese label)``, groups expanded to ``max_items``."""
    out: list[tuple[str, str]] = []
    for f in spec.fields():
        if not f.has_value:
            continue
        label = pick(f.label, "ja")
        if f.type != FieldType.GROUP:
            out.extend(_columns_of(f, f.key, label))
            continue
        for number in range(1, f.max_items + 1):
            for sub in f.fields:
                if sub.has_value:
                    out.extend(
                        _columns_of(
                            sub,
                            f"{f.key}.{number}.{sub.key}",
                            f"{label} {number}: {pick(sub.label, 'ja')}",
                        )
                    )
    return out
