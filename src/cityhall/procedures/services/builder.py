"""The form builder's use cases: edit a procedure's draft form, publish it, restore, import.

A clerk edits the draft (:attr:`FormDefinition.draft`, a formspec JSON document)
one change at a time. Every change goes through :func:`edit`: in a transaction,
with the row locked, checked against the ``stamp`` (the draft's ``updated_at``) the
clerk's page was made from — a stale change is refused, so two clerks never
silently overwrite each other — and written to the audit log (``form.edit``).

The changes themselves are small pure functions on the draft dictionary
(``add_step``, ``move_field`` …) that raise :class:`BuilderError` with a message
for the clerk. The draft may be incomplete while it is being built (a step with no
fields yet); :func:`publish` parses it with :func:`formspec.schema.parse` and
freezes it as a new immutable :class:`FormVersion` only if it is valid and differs
from the latest version (``form.publish``).
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from cityhall.core import audit
from cityhall.people.models import User
from cityhall.procedures import permissions
from cityhall.procedures.formspec.schema import (
    KEY_RE,
    FieldType,
    SpecError,
    SpecProblem,
    dump,
    parse,
)
from cityhall.procedures.models import FormDefinition, FormVersion, Procedure

Draft = dict[str, Any]
MAX_IMPORT_BYTES = 1024 * 1024


class BuilderError(Exception):
    """A change the builder refuses; ``message`` is for the clerk, ``problems`` from the parser."""

    def __init__(self, message: str, problems: list[SpecProblem] | None = None) -> None:
        self.message = message
        self.problems = problems or []
        super().__init__(message)


class StaleDraft(BuilderError):
    """The draft changed since the clerk's page was made (someone else saved first)."""


# --- reading -------------------------------------------------------------------------------


def definition_of(procedure: Procedure) -> FormDefinition | None:
    return FormDefinition.objects.filter(procedure=procedure).first()


def empty_draft(procedure: Procedure) -> Draft:
    title = dict(procedure.texts.get("title") or {}) or {"ja": procedure.title_ja}
    return {"title": title, "steps": []}


def draft_of(procedure: Procedure) -> Draft:
    definition = definition_of(procedure)
    if definition is None or not definition.draft:
        return empty_draft(procedure)
    return copy.deepcopy(definition.draft)


def stamp_of(definition: FormDefinition | None) -> str:
    """The concurrency token a page carries: when the draft was last saved ("" if never)."""
    if definition is None:
        return ""
    return definition.updated_at.isoformat()


def latest_version(definition: FormDefinition | None) -> FormVersion | None:
    if definition is None:
        return None
    return definition.versions.order_by("-number").first()


def normalised(document: Any) -> Draft | None:
    """The canonical JSON of a valid document, or None when it does not parse."""
    try:
        return dump(parse(document))
    except SpecError:
        return None


def has_unpublished_changes(definition: FormDefinition | None) -> bool:
    """Whether the draft differs from what residents see now (the latest version)."""
    if definition is None or not definition.draft:
        return False
    latest = latest_version(definition)
    if latest is None:
        return True
    draft = normalised(definition.draft)
    if draft is None:
        return True
    return draft != normalised(latest.spec)


@dataclass
class FormRow:
    procedure: Procedure
    definition: FormDefinition | None
    latest: FormVersion | None
    unpublished: bool
    steps: int
    fields: int


def editable_procedures(user: User) -> QuerySet[Procedure]:
    procedures = Procedure.objects.select_related("department").order_by(
        "department__code", "order", "title_ja"
    )
    ids = permissions.case_department_ids(user)
    if ids is not None:
        procedures = procedures.filter(department_id__in=ids)
    if not permissions.can_use_cases(user):
        return procedures.none()
    return procedures


def form_rows(user: User) -> list[FormRow]:
    """The builder's list: every procedure the user may build, with its form's state."""
    procedures = list(editable_procedures(user))
    definitions = {
        d.procedure_id: d
        for d in FormDefinition.objects.filter(procedure__in=procedures).prefetch_related(
            "versions"
        )
    }
    rows = []
    for procedure in procedures:
        if not permissions.can_edit_form(user, procedure):
            continue
        definition = definitions.get(procedure.pk)
        versions = sorted(definition.versions.all(), key=lambda v: -v.number) if definition else []
        latest = versions[0] if versions else None
        draft = (definition.draft if definition else None) or {}
        steps = [s for s in draft.get("steps") or [] if isinstance(s, dict)]
        unpublished = False
        if definition is not None and draft:
            current = normalised(draft)
            unpublished = latest is None or current is None or current != normalised(latest.spec)
        rows.append(
            FormRow(
                procedure=procedure,
                definition=definition,
                latest=latest,
                unpublished=unpublished,
                steps=len(steps),
                fields=sum(len(s.get("fields") or []) for s in steps),
            )
        )
    return rows


def check_can_edit(user: User, procedure: Procedure) -> None:
    if not permissions.can_edit_form(user, procedure):
        raise PermissionDenied


# --- problems in words ---------------------------------------------------------------------

_FIXED_MESSAGES: dict[str, Callable[[], str]] = {
    "a Japanese text ('ja') is required": lambda: _("A Japanese text is required."),
    "expected {language: text}": lambda: _("The text is not in the right shape."),
    "a condition needs a 'field'": lambda: _("The condition does not name a question."),
    "a condition needs exactly one of 'equals', 'in', 'filled'": lambda: _(
        "The condition needs one test (equals, one of, or answered)."
    ),
    "'in' must be a list": lambda: _("The condition's list of values is not a list."),
    "a field must be an object": lambda: _("The question is not in the right shape."),
    "a key is lower-case letters, digits and _ (max 60)": lambda: _(
        "A key is made of lower-case letters a–z, digits and _ and starts with a letter "
        "(at most 60)."
    ),
    "groups do not nest": lambda: _("A group cannot contain another group."),
    "choices are required for this type": lambda: _("This type of question needs choices."),
    "a choice needs a string 'value'": lambda: _("Each choice needs a value."),
    "prefill is a source name or a list of them": lambda: _(
        "The prefill sources are not in the right shape."
    ),
    "a group needs fields": lambda: _("A group needs at least one question inside it."),
    "calendar is 'wareki' or 'seireki'": lambda: _(
        "The calendar is Japanese era (和暦) or Western (西暦)."
    ),
    "accept is a list of content types": lambda: _("The accepted file types are not a list."),
    "a form must be an object": lambda: _("The form is not in the right shape."),
    "a form needs at least one step": lambda: _("A form needs at least one step."),
    "a step must be an object": lambda: _("The step is not in the right shape."),
    "step keys are unique lower-case names": lambda: _(
        "Each step needs its own key of lower-case letters, digits and _."
    ),
    "a step needs at least one field": lambda: _("A step needs at least one question."),
}

_PATTERN_MESSAGES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"^duplicate key '(.+)'$"),
        lambda m: _("The key “%(key)s” is used twice.") % {"key": m.group(1)},
    ),
    (
        re.compile(r"^key '(.+)' is used in an earlier step$"),
        lambda m: _("The key “%(key)s” is already used in an earlier step.") % {"key": m.group(1)},
    ),
    (
        re.compile(r"^'(.+)' is not an earlier field$"),
        lambda m: (
            _("The condition uses “%(key)s”, which is not a question that comes before this one.")
            % {"key": m.group(1)}
        ),
    ),
    (
        re.compile(r"^duplicate value '(.+)'$"),
        lambda m: _("The choice value “%(value)s” is used twice.") % {"value": m.group(1)},
    ),
    (
        re.compile(r"^unknown field type (.+)$"),
        lambda m: _("Unknown type of question %(type)s.") % {"type": m.group(1)},
    ),
    (
        re.compile(r"^unknown language\(s\): (.+)$"),
        lambda m: _("Unknown language(s): %(codes)s.") % {"codes": m.group(1)},
    ),
    (
        re.compile(r"^max_mb is a whole number from 1 to (\d+)$"),
        lambda m: (
            _("The largest file size is a whole number of MB from 1 to %(max)s.")
            % {"max": m.group(1)}
        ),
    ),
]


def problem_message(problem: SpecProblem) -> str:
    """The parser's message in the clerk's language where it is a known one."""
    fixed = _FIXED_MESSAGES.get(problem.message)
    if fixed is not None:
        return fixed()
    for pattern, make in _PATTERN_MESSAGES:
        match = pattern.match(problem.message)
        if match:
            return make(match)
    return problem.message


_PATH_PART = re.compile(r"(\w+)(?:\[(\d+)\])?")


def problem_place(document: Any, path: str, language: str = "ja") -> str:
    """Where a problem is, in words: ``Step 1 “申請者” › Question 3 “氏名” › label``."""
    from cityhall.procedures.formspec.text import pick

    if not path:
        return _("The whole form")
    words: list[str] = []
    node: Any = document
    for part in path.split("."):
        match = _PATH_PART.fullmatch(part)
        if match is None:
            words.append(part)
            node = None
            continue
        name, index = match.group(1), match.group(2)
        child = node.get(name) if isinstance(node, dict) else None
        if index is None:
            words.append(
                {
                    "title": _("title"),
                    "label": _("label"),
                    "help": _("help text"),
                    "key": _("key"),
                    "type": _("type"),
                    "condition": _("condition"),
                    "choices": _("choices"),
                    "fields": _("questions"),
                    "prefill": _("prefill"),
                    "calendar": _("calendar"),
                    "accept": _("file types"),
                    "max_mb": _("largest file size"),
                    "intro": _("introduction"),
                    "steps": _("steps"),
                }.get(name, name)
            )
            node = child
            continue
        position = int(index)
        item = child[position] if isinstance(child, list) and position < len(child) else None
        title = ""
        if isinstance(item, dict):
            title = pick(item.get("title") or item.get("label") or {}, language)
        if name == "steps":
            text = _("Step %(number)s") % {"number": position + 1}
        elif name == "choices":
            text = _("Choice %(number)s") % {"number": position + 1}
        else:
            text = _("Question %(number)s") % {"number": position + 1}
        words.append(f"{text} “{title}”" if title else text)
        node = item
    return " › ".join(words)


# --- keys ----------------------------------------------------------------------------------


def suggest_key(text: str, taken: set[str], *, fallback: str = "field") -> str:
    """A key from an (English) label: ``"Date of birth"`` → ``date_of_birth``, made unique."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:40].strip("_")
    if not base or not base[0].isalpha():
        base = f"{fallback}_{base}" if base else fallback
    base = base[:50]
    if base not in taken and KEY_RE.match(base):
        return base
    number = 2
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def steps_of(draft: Draft) -> list[dict[str, Any]]:
    steps = draft.setdefault("steps", [])
    if not isinstance(steps, list):
        raise BuilderError(_("The draft is broken: its steps are not a list."))
    return steps


def step_keys(draft: Draft) -> set[str]:
    return {str(s.get("key")) for s in steps_of(draft) if isinstance(s, dict)}


def top_keys(draft: Draft) -> set[str]:
    """Every top-level question key of the form (they are unique across all steps)."""
    return {
        str(f.get("key"))
        for s in steps_of(draft)
        if isinstance(s, dict)
        for f in s.get("fields") or []
        if isinstance(f, dict)
    }


def iter_fields(draft: Draft) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(step, field) for every top-level field, in form order."""
    for step in steps_of(draft):
        if isinstance(step, dict):
            for f in step.get("fields") or []:
                if isinstance(f, dict):
                    yield step, f


def find_step(draft: Draft, step_key: str) -> tuple[int, dict[str, Any]]:
    for index, step in enumerate(steps_of(draft)):
        if isinstance(step, dict) and step.get("key") == step_key:
            return index, step
    raise BuilderError(_("There is no such step (it may have been deleted)."))


def field_list(draft: Draft, step_key: str, group_key: str | None = None) -> list[dict[str, Any]]:
    """The list a field lives in: a step's questions, or a group's sub-questions."""
    _index, step = find_step(draft, step_key)
    fields = step.setdefault("fields", [])
    if group_key is None:
        return fields
    group = next((f for f in fields if f.get("key") == group_key), None)
    if group is None or group.get("type") != FieldType.GROUP:
        raise BuilderError(_("There is no such group (it may have been deleted)."))
    return group.setdefault("fields", [])


def find_field(
    draft: Draft, step_key: str, field_key: str, group_key: str | None = None
) -> tuple[int, dict[str, Any]]:
    for index, f in enumerate(field_list(draft, step_key, group_key)):
        if f.get("key") == field_key:
            return index, f
    raise BuilderError(_("There is no such question (it may have been deleted)."))


def earlier_fields(
    draft: Draft, step_key: str, field_key: str | None, group_key: str | None = None
) -> list[dict[str, Any]]:
    """Questions a condition may name: the top-level ones before this one (or before its
    group), and for a group's sub-question also its earlier siblings. ``field_key`` None
    means a new question, added at the end of its step (or group)."""
    anchor = group_key or field_key
    step_index, _step = find_step(draft, step_key)
    out: list[dict[str, Any]] = []
    for index, step in enumerate(steps_of(draft)[: step_index + 1]):
        stop = False
        for f in step.get("fields") or []:
            if index == step_index and anchor is not None and f.get("key") == anchor:
                stop = True
                break
            if isinstance(f, dict):
                out.append(f)
        if stop:
            break
    if group_key is not None:
        for sub in field_list(draft, step_key, group_key):
            if field_key is not None and sub.get("key") == field_key:
                break
            out.append(sub)
    return [f for f in out if f.get("type") not in (FieldType.INFO, FieldType.GROUP)]


def _conditions_on(fields: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The questions among ``fields`` whose condition names ``key``."""
    out = []
    for f in fields:
        condition = f.get("condition")
        if isinstance(condition, dict) and condition.get("field") == key:
            out.append(f)
    return out


def _all_questions(draft: Draft) -> list[dict[str, Any]]:
    """Every question, top-level and inside groups."""
    out: list[dict[str, Any]] = []
    for _step, f in iter_fields(draft):
        out.append(f)
        if f.get("type") == FieldType.GROUP:
            out.extend(sub for sub in f.get("fields") or [] if isinstance(sub, dict))
    return out


# --- changes (pure functions on a draft) ---------------------------------------------------


def set_title(draft: Draft, title: dict[str, str]) -> None:
    draft["title"] = {k: v for k, v in title.items() if v}


def add_step(draft: Draft, title: dict[str, str], key: str = "", intro: Any = None) -> str:
    taken = step_keys(draft)
    if key:
        if key in taken:
            raise BuilderError(_("Another step already has this key."))
    else:
        key = suggest_key(title.get("en", ""), taken, fallback="step")
    step: dict[str, Any] = {"key": key, "title": {k: v for k, v in title.items() if v}}
    if intro:
        step["intro"] = intro
    step["fields"] = []
    steps_of(draft).append(step)
    return key


def update_step(
    draft: Draft, step_key: str, *, title: dict[str, str], key: str, intro: dict[str, str]
) -> str:
    _index, step = find_step(draft, step_key)
    key = key or step_key
    if key != step_key and key in step_keys(draft):
        raise BuilderError(_("Another step already has this key."))
    step["key"] = key
    step["title"] = {k: v for k, v in title.items() if v}
    intro = {k: v for k, v in intro.items() if v}
    if intro:
        step["intro"] = intro
    else:
        step.pop("intro", None)
    return key


def move_step(draft: Draft, step_key: str, delta: int) -> None:
    index, _step = find_step(draft, step_key)
    steps = steps_of(draft)
    target = index + delta
    if not 0 <= target < len(steps):
        raise BuilderError(_("The step cannot move further."))
    steps.insert(target, steps.pop(index))


def delete_step(draft: Draft, step_key: str) -> None:
    index, step = find_step(draft, step_key)
    own = step.get("fields") or []
    inside = {id(f) for f in own} | {
        id(sub) for f in own if f.get("type") == FieldType.GROUP for sub in f.get("fields") or []
    }
    for key in {f.get("key") for f in own}:
        for dependent in _conditions_on(_all_questions(draft), str(key)):
            if id(dependent) not in inside:
                raise BuilderError(
                    _(
                        "The question “%(key)s” in another step depends on this step. "
                        "Change it first."
                    )
                    % {"key": dependent.get("key")}
                )
    steps_of(draft).pop(index)


def add_field(
    draft: Draft,
    step_key: str,
    field: dict[str, Any],
    group_key: str | None = None,
    *,
    keep_key: bool = False,
) -> str:
    """Append a question; returns its key. A taken key is made unique, unless ``keep_key``
    (the clerk typed it): then the change is refused."""
    fields = field_list(draft, step_key, group_key)
    if group_key is not None and field.get("type") == FieldType.GROUP:
        raise BuilderError(_("A group cannot contain another group."))
    taken = {str(f.get("key")) for f in fields} if group_key else top_keys(draft)
    key = str(field.get("key") or "")
    if keep_key and key in taken:
        raise BuilderError(_("Another question already has this key."))
    if not key or key in taken:
        key = suggest_key(key or str(field.get("type") or "field"), taken)
    field = dict(field, key=key)
    fields.append(field)
    return key


def update_field(
    draft: Draft,
    step_key: str,
    field_key: str,
    new: dict[str, Any],
    group_key: str | None = None,
) -> str:
    """Replace a question; a changed key is followed by the conditions that name it."""
    fields = field_list(draft, step_key, group_key)
    index, _old = find_field(draft, step_key, field_key, group_key)
    key = str(new.get("key") or field_key)
    if key != field_key:
        taken = {str(f.get("key")) for f in fields} if group_key else top_keys(draft)
        if key in taken:
            raise BuilderError(_("Another question already has this key."))
        for dependent in _dependents(draft, fields, field_key, group_key):
            dependent["condition"] = dict(dependent["condition"], field=key)
    fields[index] = dict(new, key=key)
    return key


def _dependents(
    draft: Draft, siblings: list[dict[str, Any]], key: str, group_key: str | None
) -> list[dict[str, Any]]:
    """The questions whose condition names the question ``key`` (a sub-question's condition
    names a sibling first, a top-level question otherwise)."""
    if group_key is not None:
        return _conditions_on(siblings, key)
    scope: list[dict[str, Any]] = []
    for _step, f in iter_fields(draft):
        scope.append(f)
        subs = [sub for sub in f.get("fields") or [] if isinstance(sub, dict)]
        if f.get("type") == FieldType.GROUP and not any(sub.get("key") == key for sub in subs):
            scope.extend(subs)
    return _conditions_on(scope, key)


def move_field(
    draft: Draft, step_key: str, field_key: str, delta: int, group_key: str | None = None
) -> str:
    """Move a question up or down; past the top or bottom of a step it goes to the
    neighbouring step. Returns the key of the step it is in afterwards."""
    fields = field_list(draft, step_key, group_key)
    index, f = find_field(draft, step_key, field_key, group_key)
    target = index + delta
    if 0 <= target < len(fields):
        fields.insert(target, fields.pop(index))
        return step_key
    if group_key is not None:
        raise BuilderError(_("The question cannot move further."))
    steps = steps_of(draft)
    step_index, _step = find_step(draft, step_key)
    neighbour = step_index + (1 if delta > 0 else -1)
    if not 0 <= neighbour < len(steps):
        raise BuilderError(_("The question cannot move further."))
    fields.pop(index)
    other = steps[neighbour].setdefault("fields", [])
    if delta > 0:
        other.insert(0, f)
    else:
        other.append(f)
    return str(steps[neighbour]["key"])


def delete_field(draft: Draft, step_key: str, field_key: str, group_key: str | None = None) -> None:
    fields = field_list(draft, step_key, group_key)
    index, f = find_field(draft, step_key, field_key, group_key)
    dependents = [d for d in _dependents(draft, fields, field_key, group_key) if d is not f]
    if dependents:
        raise BuilderError(
            _("The question “%(key)s” is shown depending on this one. Change its condition first.")
            % {"key": dependents[0].get("key")}
        )
    fields.pop(index)


# --- saving --------------------------------------------------------------------------------


def _locked_definition(procedure: Procedure, actor: User | None) -> FormDefinition:
    definition = FormDefinition.objects.select_for_update().filter(procedure=procedure).first()
    if definition is None:
        definition = FormDefinition.objects.create(
            procedure=procedure, draft=empty_draft(procedure), updated_by=actor
        )
        # A page made before the definition existed carries the stamp "".
        definition._builder_new = True  # type: ignore[attr-defined]
    return definition


def _check_stamp(definition: FormDefinition, stamp: str) -> None:
    current = "" if getattr(definition, "_builder_new", False) else stamp_of(definition)
    if stamp != current:
        raise StaleDraft(
            _(
                "Someone else changed this form after you opened the page, so your change "
                "was not saved. Check the form as it is now and make your change again."
            )
        )


def edit(
    actor: User,
    procedure: Procedure,
    stamp: str,
    change: Callable[[Draft], Any],
    *,
    action: str,
    details: dict[str, Any] | None = None,
    request: Any = None,
) -> tuple[FormDefinition, Any]:
    """Apply ``change`` to a copy of the draft and save it, or change nothing.

    Refuses (``StaleDraft``) when ``stamp`` is not the draft's current one. Returns the
    definition and what ``change`` returned.
    """
    check_can_edit(actor, procedure)
    with transaction.atomic():
        definition = _locked_definition(procedure, actor)
        _check_stamp(definition, stamp)
        draft = copy.deepcopy(definition.draft) or empty_draft(procedure)
        result = change(draft)
        definition.draft = draft
        definition.updated_by = actor
        definition.save()
        audit.record(
            "form.edit",
            request=request,
            actor=actor,
            target=definition,
            details={"procedure": procedure.slug, "change": action, **(details or {})},
        )
    return definition, result


def check(document: Any) -> list[SpecProblem]:
    """Every problem of a document (empty when it would publish)."""
    try:
        parse(document)
    except SpecError as exc:
        return list(exc.problems)
    return []


def publish(
    actor: User,
    procedure: Procedure,
    stamp: str,
    *,
    note: str = "",
    request: Any = None,
) -> FormVersion | None:
    """Freeze the draft as the next version. ``None`` when it equals the latest version.

    Raises :class:`BuilderError` with every problem when the draft does not parse;
    nothing changes then.
    """
    check_can_edit(actor, procedure)
    with transaction.atomic():
        definition = _locked_definition(procedure, actor)
        _check_stamp(definition, stamp)
        try:
            spec = parse(definition.draft)
        except SpecError as exc:
            raise BuilderError(
                _("The form cannot be published yet. Correct these problems first."),
                exc.problems,
            ) from exc
        document = dump(spec)
        latest = latest_version(definition)
        if latest is not None and normalised(latest.spec) == document:
            return None
        version = FormVersion.objects.create(
            definition=definition,
            number=(latest.number if latest else 0) + 1,
            spec=document,
            published_by=actor,
            note=note.strip()[:200],
        )
        audit.record(
            "form.publish",
            request=request,
            actor=actor,
            target=version,
            details={"procedure": procedure.slug, "version": version.number, "note": version.note},
        )
    return version


def version_of(procedure: Procedure, number: int) -> FormVersion | None:
    return FormVersion.objects.filter(definition__procedure=procedure, number=number).first()


def restore(
    actor: User, procedure: Procedure, stamp: str, number: int, *, request: Any = None
) -> FormDefinition:
    """Put a published version back into the draft (publish again to make it current)."""
    version = version_of(procedure, number)
    if version is None:
        raise BuilderError(_("There is no such version."))
    spec = copy.deepcopy(version.spec)

    def change(draft: Draft) -> None:
        draft.clear()
        draft.update(spec)

    definition, _result = edit(
        actor,
        procedure,
        stamp,
        change,
        action="restore",
        details={"version": number},
        request=request,
    )
    return definition


def export_json(procedure: Procedure) -> str:
    return json.dumps(draft_of(procedure), ensure_ascii=False, indent=2) + "\n"


def import_json(
    actor: User, procedure: Procedure, stamp: str, text: str | bytes, *, request: Any = None
) -> FormDefinition:
    """Replace the draft with an uploaded document, checked whole: a document with any
    problem changes nothing."""
    if isinstance(text, bytes):
        if len(text) > MAX_IMPORT_BYTES:
            raise BuilderError(_("The file is too large (at most 1 MB)."))
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BuilderError(_("The file is not UTF-8 text.")) from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BuilderError(
            _("The file is not JSON (line %(line)s, column %(column)s: %(error)s).")
            % {"line": exc.lineno, "column": exc.colno, "error": exc.msg}
        ) from exc
    try:
        spec = parse(document)
    except SpecError as exc:
        raise BuilderError(
            _("The file was not imported: it has problems. Nothing was changed."), exc.problems
        ) from exc
    clean = dump(spec)

    def change(draft: Draft) -> None:
        draft.clear()
        draft.update(clean)

    definition, _result = edit(actor, procedure, stamp, change, action="import", request=request)
    return definition


# --- the field library (common questions, ready-made) -------------------------------------

LIBRARY_FILE = Path(__file__).resolve().parent.parent / "data" / "field_library.json"


def _library_entries(raw: Any) -> list[tuple[str, dict[str, Any], Any]]:
    """(id, question, name) from the library file: ``{"fields": {id: question}}`` (or a list)."""
    items = raw.get("fields", raw) if isinstance(raw, dict) else raw
    if isinstance(items, dict):
        items = [
            {"id": k, **v}
            for k, v in items.items()
            if isinstance(v, dict) and not k.startswith("_")
        ]
    out: list[tuple[str, dict[str, Any], Any]] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        question = item.get("field") if isinstance(item.get("field"), dict) else item
        if not isinstance(question, dict) or "type" not in question:
            continue
        ident = str(item.get("id") or question.get("key") or "")
        if not ident:
            continue
        name = item.get("name") or item.get("title") or question.get("label") or ident
        clean = {k: v for k, v in question.items() if k not in ("id", "name", "title")}
        clean.pop("description", None)
        out.append((ident, clean, name))
    return out


def library() -> list[tuple[str, dict[str, Any], Any]]:
    """The common questions of ``data/field_library.json`` (empty if there is no such file)."""
    try:
        raw = json.loads(LIBRARY_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return _library_entries(raw)


def library_choices(language: str, *, in_group: bool = False) -> list[tuple[str, str]]:
    from cityhall.procedures.formspec.text import pick

    out = []
    for ident, question, name in library():
        if in_group and question.get("type") == FieldType.GROUP:
            continue
        out.append((ident, pick(name, language) if isinstance(name, dict) else str(name)))
    return out


def library_field(ident: str) -> dict[str, Any] | None:
    for key, question, _name in library():
        if key == ident:
            return copy.deepcopy(question)
    return None
