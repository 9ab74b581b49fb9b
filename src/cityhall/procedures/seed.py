"""The procedure catalogue (手続き) and its forms, loaded from ``data/procedures.json``.

:func:`load_procedures` reads the file and the reusable fields of
``data/field_library.json``, checks everything first — every form parses with
:func:`cityhall.procedures.formspec.schema.parse`, departments exist, categories,
channels, life events and prefill sources are known — and raises
:class:`ProcedureDataError` listing every problem without writing anything. Then, in
one transaction, it upserts the procedures by ``slug``, and for each form:

- the form's library references (``{"use": "applicant_name", "key": …}``) are expanded
  so that the stored form stands alone, and the result is normalised with
  :func:`~cityhall.procedures.formspec.schema.dump`;
- if it equals the latest published :class:`~cityhall.procedures.models.FormVersion`,
  nothing is written (a clerk's unpublished draft is left alone);
- otherwise the draft is replaced by it and a new version is published, so the
  applications made with older versions keep their own.

A second run changes nothing. Rows are never deleted: a procedure left out of the file
stays as it is (a clerk can deactivate it). Another municipality loads its own files
with ``load_procedures(path, library=…)``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from cityhall.core.seed import Counts, Outcome
from cityhall.people.models import Department
from cityhall.procedures.formspec.schema import FieldType, SpecError, dump, parse
from cityhall.procedures.formspec.text import LANGUAGES
from cityhall.procedures.models import (
    Category,
    Channel,
    FormDefinition,
    FormVersion,
    Procedure,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
PROCEDURES_FILE = DATA_DIR / "procedures.json"
LIBRARY_FILE = DATA_DIR / "field_library.json"

# The life events of the front door (cityhall.portal.frontdoor.LIFE_EVENTS). procedures
# may not import portal; tests/procedures/test_seed_content.py checks that they agree.
LIFE_EVENT_SLUGS = (
    "moving",
    "birth",
    "childcare",
    "school",
    "care",
    "bereavement",
    "from-abroad",
    "disaster",
)

# What a reference to a library field may change.
OVERRIDABLE = frozenset(
    {
        "key",
        "label",
        "help",
        "required",
        "condition",
        "prefill",
        "counter_only",
        "min",
        "max",
        "min_items",
        "max_items",
        "max_length",
    }
)
PROCEDURE_KEYS = frozenset(
    {
        "slug",
        "department",
        "category",
        "life_events",
        "channel",
        "texts",
        "keywords",
        "requires_identity",
        "fee_yen",
        "fee_hook",
        "sla_days",
        "national_priority",
        "order",
        "is_active",
        "form",
    }
)
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]{1,80}$")
PUBLISH_NOTE = "Loaded from the procedure data file"
MAX_SMALL_INT = 32767


class ProcedureDataError(ValueError):
    """The data file is wrong; ``problems`` says where and why, one line each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"- {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s), nothing was changed:\n{lines}")


@dataclass
class ProcedureCounts(Counts):
    """Procedures created, updated or unchanged, and form versions published."""

    versions: int = 0

    def as_dict(self) -> dict[str, int]:
        return {**super().as_dict(), "form_versions": self.versions}

    def __str__(self) -> str:
        return f"{super().__str__()}; {self.versions} form versions published"


@dataclass
class _Item:
    slug: str
    values: dict[str, Any]
    spec: dict[str, Any] | None


@dataclass
class _Checker:
    problems: list[str] = field(default_factory=list)

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")


def _read(path: Path, checker: _Checker) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as exc:
        checker.fail(path.name, f"cannot be read ({exc.strerror or exc})")
    except json.JSONDecodeError as exc:
        checker.fail(path.name, f"is not valid JSON (line {exc.lineno}, column {exc.colno})")
    return None


# --- library references ------------------------------------------------------------------


def expand(raw: Any, library: dict[str, Any], where: str, checker: _Checker, depth: int = 0) -> Any:
    """A field with its ``{"use": name}`` reference (and those of its sub-fields) replaced."""
    if not isinstance(raw, dict):
        return raw
    out: dict[str, Any]
    if "use" in raw:
        name = raw["use"]
        base = library.get(name) if isinstance(name, str) else None
        if base is None:
            checker.fail(where, f"unknown library field {name!r}")
            return None
        if depth > 3:
            checker.fail(where, f"library field {name!r} refers to itself")
            return None
        unknown = sorted(set(raw) - {"use"} - OVERRIDABLE)
        if unknown:
            checker.fail(where, f"{name!r}: these cannot be overridden: {', '.join(unknown)}")
        out = copy.deepcopy(expand(base, library, where, checker, depth + 1)) or {}
        for key, value in raw.items():
            if key == "use" or key not in OVERRIDABLE:
                continue
            if value is None:
                out.pop(key, None)
            else:
                out[key] = copy.deepcopy(value)
        out.setdefault("key", name)
    else:
        out = dict(raw)
    if isinstance(out.get("fields"), list):
        out["fields"] = [
            expand(sub, library, f"{where}.fields[{i}]", checker, depth)
            for i, sub in enumerate(out["fields"])
        ]
    return out


def expand_form(document: Any, library: dict[str, Any], where: str, checker: _Checker) -> Any:
    if not isinstance(document, dict) or not isinstance(document.get("steps"), list):
        return document
    out = dict(document)
    out["steps"] = []
    for i, step in enumerate(document["steps"]):
        if isinstance(step, dict) and isinstance(step.get("fields"), list):
            step = {
                **step,
                "fields": [
                    expand(f, library, f"{where}.steps[{i}].fields[{j}]", checker)
                    for j, f in enumerate(step["fields"])
                ],
            }
        out["steps"].append(step)
    return out


def _prefill_sources() -> set[str]:
    from cityhall.procedures.services import prefill

    return {source for source, _label in prefill.sources()}


def _check_prefill(spec_fields: Iterable[Any], where: str, known: set[str], c: _Checker) -> None:
    for f in spec_fields:
        for source in f.prefill:
            if source not in known:
                c.fail(f"{where}.{f.key}", f"unknown prefill source {source!r}")
        if f.type == FieldType.GROUP:
            _check_prefill(f.fields, f"{where}.{f.key}", known, c)


def _parse_form(
    document: Any, library: dict[str, Any], where: str, known: set[str], c: _Checker
) -> dict[str, Any] | None:
    before = len(c.problems)
    expanded = expand_form(document, library, where, c)
    if len(c.problems) > before:
        return None
    try:
        spec = parse(expanded)
    except SpecError as exc:
        for problem in exc.problems:
            c.fail(f"{where}.{problem.path}" if problem.path else where, problem.message)
        return None
    _check_prefill(spec.fields(), where, known, c)
    return dump(spec)


# --- the catalogue entries -----------------------------------------------------------------


def _texts(raw: Any, where: str, c: _Checker) -> dict[str, dict[str, str]]:
    if not isinstance(raw, dict):
        c.fail(where, "texts must be an object")
        return {}
    unknown = sorted(set(raw) - set(Procedure.TEXT_KEYS))
    if unknown:
        c.fail(where, f"unknown text(s): {', '.join(unknown)}")
    out: dict[str, dict[str, str]] = {}
    for key in Procedure.TEXT_KEYS:
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            c.fail(f"{where}.{key}", "expected {language: text}")
            continue
        languages = sorted(set(value) - set(LANGUAGES))
        if languages:
            c.fail(f"{where}.{key}", f"unknown language(s): {', '.join(languages)}")
        out[key] = {lang: value[lang] for lang in LANGUAGES if value.get(lang)}
    title = out.get("title", {}).get("ja", "")
    if not title:
        c.fail(f"{where}.title", "a Japanese title ('ja') is required")
    elif len(title) > 200:
        c.fail(f"{where}.title", "the Japanese title is longer than 200 characters")
    return out


def _int(raw: Any, default: int, where: str, c: _Checker, low: int = 0) -> int:
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= MAX_SMALL_INT:
        c.fail(where, f"a whole number from {low} to {MAX_SMALL_INT} is required")
        return default
    return raw


def _bool(raw: Any, default: bool, where: str, c: _Checker) -> bool:
    if raw is None:
        return default
    if not isinstance(raw, bool):
        c.fail(where, "true or false is required")
        return default
    return raw


def _item(
    raw: Any,
    index: int,
    departments: set[str],
    library: dict[str, Any],
    known_sources: set[str],
    c: _Checker,
) -> _Item | None:
    if not isinstance(raw, dict):
        c.fail(f"procedures[{index}]", "a procedure must be an object")
        return None
    slug = raw.get("slug")
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        c.fail(f"procedures[{index}].slug", "a slug of letters, digits, - and _ (max 80)")
        return None
    where = f"procedures[{index}] ({slug})"
    unknown = sorted(k for k in set(raw) - PROCEDURE_KEYS if not k.startswith("_"))
    if unknown:
        c.fail(where, f"unknown key(s): {', '.join(unknown)}")
    department = raw.get("department")
    if department not in departments:
        c.fail(f"{where}.department", f"department {department!r} does not exist")
    category = raw.get("category")
    if category not in Category.values:
        c.fail(f"{where}.category", f"unknown category {category!r}")
    channel = raw.get("channel", Channel.BOTH)
    if channel not in Channel.values:
        c.fail(f"{where}.channel", f"unknown channel {channel!r}")
    events = raw.get("life_events", [])
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        c.fail(f"{where}.life_events", "a list of life-event slugs is required")
        events = []
    for event in events:
        if event not in LIFE_EVENT_SLUGS:
            c.fail(f"{where}.life_events", f"unknown life event {event!r}")
    keywords = raw.get("keywords", "")
    if not isinstance(keywords, str):
        c.fail(f"{where}.keywords", "keywords are one string")
        keywords = ""
    fee_yen = raw.get("fee_yen", 0)
    if isinstance(fee_yen, bool) or not isinstance(fee_yen, int) or fee_yen < 0:
        c.fail(f"{where}.fee_yen", "a whole number of yen (0 or more) is required")
        fee_yen = 0
    fee_hook = raw.get("fee_hook", "")
    if not isinstance(fee_hook, str) or len(fee_hook) > 40:
        c.fail(f"{where}.fee_hook", "a hook name of at most 40 characters is required")
        fee_hook = ""
    if fee_hook and not fee_yen:
        c.fail(f"{where}.fee_hook", "a fee hook needs a fee (fee_yen > 0)")
    values: dict[str, Any] = {
        "category": category,
        "life_events": list(events),
        "channel": channel,
        "texts": _texts(raw.get("texts"), f"{where}.texts", c),
        "keywords": keywords,
        "requires_identity": _bool(
            raw.get("requires_identity"), False, f"{where}.requires_identity", c
        ),
        "fee_yen": fee_yen,
        "fee_hook": fee_hook,
        "sla_days": _int(raw.get("sla_days"), 14, f"{where}.sla_days", c, low=1),
        "national_priority": _bool(
            raw.get("national_priority"), False, f"{where}.national_priority", c
        ),
        "order": _int(raw.get("order"), 100, f"{where}.order", c),
        "_department": department,
    }
    if "is_active" in raw:
        values["is_active"] = _bool(raw["is_active"], True, f"{where}.is_active", c)
    spec = None
    if raw.get("form") is not None:
        spec = _parse_form(raw["form"], library, f"{where}.form", known_sources, c)
    elif channel in (Channel.ONLINE, Channel.BOTH):
        c.fail(f"{where}.form", "a procedure that can be done online needs a form")
    return _Item(slug=slug, values=values, spec=spec)


def _library(raw: Any, source: str, known_sources: set[str], c: _Checker) -> dict[str, Any]:
    fields = raw.get("fields") if isinstance(raw, dict) else None
    if not isinstance(fields, dict):
        c.fail(source, 'expected {"fields": {name: field}}')
        return {}
    for name, f in fields.items():
        if not isinstance(f, dict):
            c.fail(f"{source}: {name}", "a field must be an object")
            continue
        document = {"steps": [{"key": "check", "title": {"ja": "-"}, "fields": [{"use": name}]}]}
        _parse_form(document, fields, f"{source}: {name}", known_sources, c)
    return fields


def check(path: Path | None = None, *, library: Path | None = None) -> list[_Item]:
    """Read and check the files; raise :class:`ProcedureDataError` listing every problem."""
    path = path or PROCEDURES_FILE
    library_path = library or LIBRARY_FILE
    c = _Checker()
    known_sources = _prefill_sources()
    data = _read(path, c)
    fields = _library(_read(library_path, c) or {}, library_path.name, known_sources, c)
    if data is None:
        raise ProcedureDataError(path.name, c.problems)
    raw_items = data.get("procedures") if isinstance(data, dict) else None
    if not isinstance(raw_items, list):
        c.fail(path.name, 'expected {"procedures": [...]}')
        raise ProcedureDataError(path.name, c.problems)
    departments = set(Department.objects.values_list("code", flat=True))
    items: list[_Item] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_items):
        item = _item(raw, index, departments, fields, known_sources, c)
        if item is None:
            continue
        if item.slug in seen:
            c.fail(f"procedures[{index}] ({item.slug})", "the slug is used twice")
        seen.add(item.slug)
        items.append(item)
    if c.problems:
        raise ProcedureDataError(path.name, c.problems)
    return items


# --- writing -----------------------------------------------------------------------------


def _upsert_procedure(item: _Item, department_ids: dict[str, int]) -> tuple[Procedure, Outcome]:
    values = {k: v for k, v in item.values.items() if not k.startswith("_")}
    values["department_id"] = department_ids[item.values["_department"]]
    procedure = Procedure.objects.filter(slug=item.slug).first()
    if procedure is None:
        procedure = Procedure(slug=item.slug, **values)
        procedure.save()
        return procedure, "created"
    changed = [name for name, value in values.items() if getattr(procedure, name) != value]
    if not changed:
        return procedure, "unchanged"
    for name in changed:
        setattr(procedure, name, values[name])
    # save() derives title_ja and search_text from the texts and keywords.
    fields = {Procedure._meta.get_field(name).name for name in changed}
    procedure.save(update_fields=[*fields, "title_ja", "search_text", "updated_at"])
    return procedure, "updated"


def _sync_form(procedure: Procedure, spec: dict[str, Any]) -> bool:
    """Publish ``spec`` as the procedure's next form version unless the latest one equals it."""
    definition = FormDefinition.objects.filter(procedure=procedure).first()
    latest = definition.versions.order_by("-number").first() if definition else None
    if latest is not None and latest.spec == spec:
        return False
    if definition is None:
        definition = FormDefinition.objects.create(procedure=procedure, draft=spec)
    else:
        definition.draft = spec
        definition.save(update_fields=["draft", "updated_at"])
    FormVersion.objects.create(
        definition=definition,
        number=latest.number + 1 if latest else 1,
        spec=spec,
        note=PUBLISH_NOTE,
    )
    return True


def load_procedures(path: Path | None = None, *, library: Path | None = None) -> ProcedureCounts:
    """Check the whole file, then upsert procedures and publish changed forms in one transaction."""
    items = check(path, library=library)
    counts = ProcedureCounts()
    with transaction.atomic():
        department_ids = dict(Department.objects.values_list("code", "id"))
        for item in items:
            procedure, outcome = _upsert_procedure(item, department_ids)
            if item.spec is not None and _sync_form(procedure, item.spec):
                counts.versions += 1
                if outcome == "unchanged":
                    outcome = "updated"
            counts.add(outcome)
    return counts
