"""The format of a form, as JSON, and its parser.

A form is a list of steps; a step is a list of fields::

    {
      "title": {"ja": "児童手当 認定請求書", "en": "Child allowance claim"},
      "steps": [
        {"key": "applicant",
         "title": {"ja": "請求する人", "en": "The claimant"},
         "fields": [
           {"key": "name", "type": "name", "label": {"ja": "氏名", "en": "Name"},
            "prefill": ["identity.name", "previous"]},
           {"key": "has_spouse", "type": "yesno", "label": {...}},
           {"key": "spouse_name", "type": "name", "label": {...},
            "condition": {"field": "has_spouse", "equals": true}},
           {"key": "children", "type": "group", "label": {...}, "min_items": 1, "max_items": 10,
            "fields": [{"key": "name", "type": "name", ...},
                       {"key": "birthdate", "type": "date", "calendar": "wareki", ...}]}
         ]}
      ]
    }

Every field has a ``key`` (``[a-z][a-z0-9_]*``, unique among its siblings; field
keys are unique across the whole form at the top level), a ``type`` (see
:class:`FieldType`) and a ``label``. Texts (``label``, ``help``, ``title``,
choice labels) are ``{language: text}`` with Django language codes
(``ja``, ``ja-easy``, ``pt-br``, ``vi``, ``zh-hans``, ``es``, ``en``); ``ja`` is required.

Optional keys of a field:

- ``help``: a hint under the label.
- ``required``: default true (false for ``info``; a ``consent`` is always required).
- ``choices``: ``[{"value": "a", "label": {...}}]`` for ``choice``, ``multichoice``, ``select``.
- ``condition``: show the field only if another answer matches:
  ``{"field": "k", "equals": v}``, ``{"field": "k", "in": [v, …]}``,
  ``{"field": "k", "filled": true}``. ``field`` names a top-level field, or a
  sibling inside the same group item.
- ``prefill``: a source or a list of sources tried in order, ``"plugin.attribute"``
  (``profile.phone``, ``identity.name`` …) or ``"previous"`` (the same key in the
  resident's latest earlier application).
- ``min`` / ``max``: numbers for ``number``; ISO dates or ``"today"`` for ``date``.
- ``max_length``: for ``text`` and ``textarea`` (default 200 and 2000).
- ``calendar``: ``"wareki"`` or ``"seireki"`` for ``date`` — how it is shown; both are accepted.
- ``fields``, ``min_items``, ``max_items``: for ``group`` (a repeatable set, e.g. family members).
  Groups do not nest.
- ``accept`` (content types) and ``max_mb``: for ``file``.
- ``counter_only``: shown only in counter mode (e.g. a clerk's check box).

Answers are JSON values, one per top-level key; see :mod:`.values` for each type's shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from cityhall.procedures.formspec.text import LANGUAGES

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


class FieldType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    NUMBER = "number"
    EMAIL = "email"
    PHONE = "phone"  # Japanese phone number
    POSTAL_CODE = "postal_code"  # 〒 7 digits
    ADDRESS = "address"
    NAME = "name"  # family and given name, each with its reading (furigana, katakana)
    DATE = "date"  # 和暦 or 西暦
    CHOICE = "choice"  # one of, as radio buttons
    SELECT = "select"  # one of, as a drop-down (long lists)
    MULTICHOICE = "multichoice"  # any of, as check boxes
    YESNO = "yesno"
    FILE = "file"  # photos or PDFs of documents
    CONSENT = "consent"  # a box that must be ticked
    SIGNATURE = "signature"  # drawn on screen (counter) or typed
    GROUP = "group"  # repeatable set of fields
    INFO = "info"  # text shown, nothing asked


CHOICE_TYPES = frozenset({FieldType.CHOICE, FieldType.SELECT, FieldType.MULTICHOICE})
VALUELESS_TYPES = frozenset({FieldType.INFO})
DEFAULT_MAX_LENGTH = {FieldType.TEXT: 200, FieldType.TEXTAREA: 2000, FieldType.ADDRESS: 300}
DEFAULT_ACCEPT = ("image/jpeg", "image/png", "image/heic", "application/pdf")
DEFAULT_MAX_MB = 10
MAX_MB_LIMIT = 20
MAX_LENGTH_LIMIT = 20000
MAX_ITEMS_LIMIT = 100

Texts = dict[str, str]


@dataclass(frozen=True)
class Choice:
    value: str
    label: Texts


@dataclass(frozen=True)
class Condition:
    field: str
    equals: Any = None
    among: tuple[Any, ...] | None = None  # JSON "in"
    filled: bool | None = None


@dataclass(frozen=True)
class Field:
    key: str
    type: FieldType
    label: Texts
    help: Texts = field(default_factory=dict)
    required: bool = True
    choices: tuple[Choice, ...] = ()
    condition: Condition | None = None
    prefill: tuple[str, ...] = ()
    min: Any = None
    max: Any = None
    max_length: int | None = None
    calendar: str = "seireki"
    fields: tuple[Field, ...] = ()
    min_items: int = 0
    max_items: int = 10
    accept: tuple[str, ...] = DEFAULT_ACCEPT
    max_mb: int = DEFAULT_MAX_MB
    counter_only: bool = False

    @property
    def has_value(self) -> bool:
        return self.type not in VALUELESS_TYPES

    def choice_values(self) -> list[str]:
        return [c.value for c in self.choices]


@dataclass(frozen=True)
class Step:
    key: str
    title: Texts
    fields: tuple[Field, ...]
    intro: Texts = field(default_factory=dict)


@dataclass(frozen=True)
class FormSpec:
    steps: tuple[Step, ...]
    title: Texts = field(default_factory=dict)

    def fields(self) -> list[Field]:
        """Every top-level field, in order."""
        return [f for step in self.steps for f in step.fields]

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields() if f.key == key), None)

    def step_index(self, key: str) -> int:
        return next(i for i, s in enumerate(self.steps) if s.key == key)


@dataclass(frozen=True)
class SpecProblem:
    """Where a form document is wrong (``path`` like ``steps[0].fields[2].choices``) and why."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SpecError(ValueError):
    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _date_bound(value: Any) -> bool:
    if value == "today":
        return True
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


class _Parser:
    def __init__(self) -> None:
        self.problems: list[SpecProblem] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(SpecProblem(path, message))

    def texts(self, raw: Any, path: str, *, required: bool = True) -> Texts:
        if raw is None or raw == {}:
            if required:
                self.fail(path, "a Japanese text ('ja') is required")
            return {}
        if isinstance(raw, str):
            return {"ja": raw}
        if not isinstance(raw, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
        ):
            self.fail(path, "expected {language: text}")
            return {}
        unknown = sorted(set(raw) - set(LANGUAGES))
        if unknown:
            self.fail(path, f"unknown language(s): {', '.join(unknown)}")
        if required and not raw.get("ja"):
            self.fail(path, "a Japanese text ('ja') is required")
        return {k: v for k, v in raw.items() if v}

    def condition(self, raw: Any, path: str) -> Condition | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("field"), str):
            self.fail(path, "a condition needs a 'field'")
            return None
        tests = [k for k in ("equals", "in", "filled") if k in raw]
        if len(tests) != 1:
            self.fail(path, "a condition needs exactly one of 'equals', 'in', 'filled'")
            return None
        among = raw.get("in")
        if "in" in raw and not isinstance(among, list):
            self.fail(path, "'in' must be a list")
            return None
        return Condition(
            field=raw["field"],
            equals=raw.get("equals"),
            among=tuple(among) if isinstance(among, list) else None,
            filled=bool(raw["filled"]) if "filled" in raw else None,
        )

    def field(self, raw: Any, path: str, *, in_group: bool) -> Field | None:
        if not isinstance(raw, dict):
            self.fail(path, "a field must be an object")
            return None
        key = raw.get("key")
        if not isinstance(key, str) or not KEY_RE.match(key):
            self.fail(f"{path}.key", "a key is lower-case letters, digits and _ (max 60)")
            key = "invalid"
        try:
            ftype = FieldType(str(raw.get("type")))
        except ValueError:
            self.fail(f"{path}.type", f"unknown field type {raw.get('type')!r}")
            return None
        if ftype == FieldType.GROUP and in_group:
            self.fail(path, "groups do not nest")
            return None
        label = self.texts(raw.get("label"), f"{path}.label")
        help_ = self.texts(raw.get("help"), f"{path}.help", required=False)
        choices: list[Choice] = []
        if ftype in CHOICE_TYPES:
            raw_choices = raw.get("choices")
            if not isinstance(raw_choices, list) or not raw_choices:
                self.fail(f"{path}.choices", "choices are required for this type")
            else:
                seen: set[str] = set()
                for i, c in enumerate(raw_choices):
                    cpath = f"{path}.choices[{i}]"
                    if not isinstance(c, dict) or not isinstance(c.get("value"), str):
                        self.fail(cpath, "a choice needs a string 'value'")
                        continue
                    if c["value"] in seen:
                        self.fail(cpath, f"duplicate value {c['value']!r}")
                    seen.add(c["value"])
                    choices.append(Choice(c["value"], self.texts(c.get("label"), f"{cpath}.label")))
        prefill = raw.get("prefill") or ()
        if isinstance(prefill, str):
            prefill = (prefill,)
        if not isinstance(prefill, list | tuple) or not all(isinstance(p, str) for p in prefill):
            self.fail(f"{path}.prefill", "prefill is a source name or a list of them")
            prefill = ()
        sub: list[Field] = []
        if ftype == FieldType.GROUP:
            raw_fields = raw.get("fields")
            if not isinstance(raw_fields, list) or not raw_fields:
                self.fail(f"{path}.fields", "a group needs fields")
            else:
                sub = self.fields(raw_fields, f"{path}.fields", in_group=True)
        calendar = raw.get("calendar", "seireki")
        if calendar not in ("wareki", "seireki"):
            self.fail(f"{path}.calendar", "calendar is 'wareki' or 'seireki'")
            calendar = "seireki"
        max_mb = raw.get("max_mb", DEFAULT_MAX_MB)
        if not isinstance(max_mb, int) or not 1 <= max_mb <= MAX_MB_LIMIT:
            self.fail(f"{path}.max_mb", f"max_mb is a whole number from 1 to {MAX_MB_LIMIT}")
            max_mb = DEFAULT_MAX_MB
        accept = raw.get("accept", DEFAULT_ACCEPT)
        if not isinstance(accept, list | tuple) or not all(isinstance(a, str) for a in accept):
            self.fail(f"{path}.accept", "accept is a list of content types")
            accept = DEFAULT_ACCEPT
        required = bool(raw.get("required", ftype not in VALUELESS_TYPES))
        if ftype == FieldType.CONSENT:
            required = True
        if ftype in VALUELESS_TYPES:
            required = False
        max_length = raw.get("max_length", DEFAULT_MAX_LENGTH.get(ftype))
        if max_length is not None and not _whole(max_length, 1, MAX_LENGTH_LIMIT):
            self.fail(
                f"{path}.max_length", f"max_length is a whole number up to {MAX_LENGTH_LIMIT}"
            )
            max_length = DEFAULT_MAX_LENGTH.get(ftype)
        min_items = raw.get("min_items", 1 if required else 0)
        max_items = raw.get("max_items", 10)
        if not _whole(min_items, 0, MAX_ITEMS_LIMIT) or not _whole(max_items, 1, MAX_ITEMS_LIMIT):
            self.fail(path, f"min_items and max_items are whole numbers up to {MAX_ITEMS_LIMIT}")
            min_items, max_items = 0, 10
        elif min_items > max_items:
            self.fail(f"{path}.min_items", "min_items is more than max_items")
        bounds = {"min": raw.get("min"), "max": raw.get("max")}
        for name, bound in bounds.items():
            if bound is None:
                continue
            if ftype == FieldType.NUMBER and (
                isinstance(bound, bool) or not isinstance(bound, int | float)
            ):
                self.fail(f"{path}.{name}", f"{name} of a number is a number")
                bounds[name] = None
            elif ftype == FieldType.DATE and not _date_bound(bound):
                self.fail(f"{path}.{name}", f"{name} of a date is an ISO date or 'today'")
                bounds[name] = None
        return Field(
            key=key,
            type=ftype,
            label=label,
            help=help_,
            required=required,
            choices=tuple(choices),
            condition=self.condition(raw.get("condition"), f"{path}.condition"),
            prefill=tuple(prefill),
            min=bounds["min"],
            max=bounds["max"],
            max_length=max_length,
            calendar=calendar,
            fields=tuple(sub),
            min_items=min_items,
            max_items=max_items,
            accept=tuple(accept),
            max_mb=max_mb,
            counter_only=bool(raw.get("counter_only", False)),
        )

    def fields(self, raw: list[Any], path: str, *, in_group: bool) -> list[Field]:
        out: list[Field] = []
        keys: set[str] = set()
        for i, item in enumerate(raw):
            parsed = self.field(item, f"{path}[{i}]", in_group=in_group)
            if parsed is None:
                continue
            if parsed.key in keys:
                self.fail(f"{path}[{i}].key", f"duplicate key {parsed.key!r}")
            keys.add(parsed.key)
            out.append(parsed)
        return out


def parse(document: Any) -> FormSpec:
    """Parse and check a form document; raise :class:`SpecError` listing every problem."""
    p = _Parser()
    if not isinstance(document, dict):
        raise SpecError([SpecProblem("", "a form must be an object")])
    raw_steps = document.get("steps")
    steps: list[Step] = []
    if not isinstance(raw_steps, list) or not raw_steps:
        p.fail("steps", "a form needs at least one step")
        raw_steps = []
    step_keys: set[str] = set()
    field_keys: set[str] = set()
    for i, raw in enumerate(raw_steps):
        path = f"steps[{i}]"
        if not isinstance(raw, dict):
            p.fail(path, "a step must be an object")
            continue
        key = raw.get("key") or f"step{i + 1}"
        if not isinstance(key, str) or not KEY_RE.match(key) or key in step_keys:
            p.fail(f"{path}.key", "step keys are unique lower-case names")
        step_keys.add(str(key))
        raw_fields = raw.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            p.fail(f"{path}.fields", "a step needs at least one field")
            raw_fields = []
        fields = p.fields(raw_fields, f"{path}.fields", in_group=False)
        for j, f in enumerate(fields):
            if f.key in field_keys:
                p.fail(f"{path}.fields[{j}].key", f"key {f.key!r} is used in an earlier step")
            field_keys.add(f.key)
        steps.append(
            Step(
                key=str(key),
                title=p.texts(raw.get("title"), f"{path}.title"),
                fields=tuple(fields),
                intro=p.texts(raw.get("intro"), f"{path}.intro", required=False),
            )
        )
    spec = FormSpec(
        steps=tuple(steps), title=p.texts(document.get("title"), "title", required=False)
    )
    _check_conditions(spec, p)
    if p.problems:
        raise SpecError(p.problems)
    return spec


def _check_conditions(spec: FormSpec, p: _Parser) -> None:
    """A condition must name a field that comes before it (top level or same group)."""
    seen: set[str] = set()
    for i, step in enumerate(spec.steps):
        for j, f in enumerate(step.fields):
            path = f"steps[{i}].fields[{j}]"
            if f.condition and f.condition.field not in seen:
                p.fail(f"{path}.condition", f"{f.condition.field!r} is not an earlier field")
            inner: set[str] = set()
            for k, sub in enumerate(f.fields):
                if sub.condition and sub.condition.field not in inner | seen:
                    p.fail(
                        f"{path}.fields[{k}].condition",
                        f"{sub.condition.field!r} is not an earlier field",
                    )
                inner.add(sub.key)
            seen.add(f.key)


def dump(spec: FormSpec) -> dict[str, Any]:
    """The JSON document for a parsed form (``parse(dump(s)) == s``)."""

    def texts(t: Texts) -> Texts:
        return dict(t)

    def one(f: Field) -> dict[str, Any]:
        out: dict[str, Any] = {"key": f.key, "type": str(f.type), "label": texts(f.label)}
        if f.help:
            out["help"] = texts(f.help)
        default_required = f.type not in VALUELESS_TYPES
        if f.required != default_required:
            out["required"] = f.required
        if f.choices:
            out["choices"] = [{"value": c.value, "label": texts(c.label)} for c in f.choices]
        if f.condition:
            c = f.condition
            cond: dict[str, Any] = {"field": c.field}
            if c.among is not None:
                cond["in"] = list(c.among)
            elif c.filled is not None:
                cond["filled"] = c.filled
            else:
                cond["equals"] = c.equals
            out["condition"] = cond
        if f.prefill:
            out["prefill"] = list(f.prefill)
        for name in ("min", "max"):
            if getattr(f, name) is not None:
                out[name] = getattr(f, name)
        if f.max_length is not None and f.max_length != DEFAULT_MAX_LENGTH.get(f.type):
            out["max_length"] = f.max_length
        if f.type == FieldType.DATE and f.calendar != "seireki":
            out["calendar"] = f.calendar
        if f.type == FieldType.GROUP:
            out["fields"] = [one(s) for s in f.fields]
            out["min_items"] = f.min_items
            out["max_items"] = f.max_items
        if f.type == FieldType.FILE:
            out["accept"] = list(f.accept)
            out["max_mb"] = f.max_mb
        if f.counter_only:
            out["counter_only"] = True
        return out

    doc: dict[str, Any] = {
        "steps": [
            {
                "key": s.key,
                "title": texts(s.title),
                **({"intro": texts(s.intro)} if s.intro else {}),
                "fields": [one(f) for f in s.fields],
            }
            for s in spec.steps
        ]
    }
    if spec.title:
        doc["title"] = texts(spec.title)
    return doc
