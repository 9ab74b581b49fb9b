"""Checking a step's input, or a whole set of answers, against a form.

Error paths name the field: ``"name"`` at the top level, ``"children.0.birthdate"``
inside a group, where the number is the item's position in the *raw* list as
submitted, counted from 0 (so the web layer can put the message next to the input it
came from; blank items are dropped from the values but keep their position for paths).
Display and CSV paths (:mod:`.display`) count items from 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cityhall.procedures.formspec import values
from cityhall.procedures.formspec.conditions import is_visible
from cityhall.procedures.formspec.schema import Field, FieldType, FormSpec, Step


@dataclass(frozen=True)
class FieldError:
    """A problem with one answer: where (``path``), a stable ``code`` and message ``params``."""

    path: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepResult:
    """The normalised answers of a step's shown fields, and what is wrong.

    ``values`` holds every shown field of the step that has an answer; ``keys`` every
    field key of the step (shown or not), so :meth:`merge` can clear answers of fields
    that were emptied or hidden.
    """

    values: dict[str, Any]
    errors: list[FieldError]
    keys: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return not self.errors

    def errors_by_path(self) -> dict[str, list[FieldError]]:
        out: dict[str, list[FieldError]] = {}
        for error in self.errors:
            out.setdefault(error.path, []).append(error)
        return out

    def merge(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """``answers`` with this step's answers replaced by :attr:`values`."""
        merged = {k: v for k, v in answers.items() if k not in self.keys}
        merged.update(self.values)
        return merged


def _error(path: str, problem: values.ValueProblem) -> FieldError:
    return FieldError(path, problem.code, dict(problem.params))


def _group(
    f: Field,
    raw: Any,
    answers: Mapping[str, Any],
    *,
    counter: bool,
    today: date,
) -> tuple[list[dict[str, Any]] | None, list[FieldError]]:
    errors: list[FieldError] = []
    try:
        items = values.group_items(raw)
    except values.ValueProblem:
        return None, [FieldError(f.key, "invalid")]
    out: list[dict[str, Any]] = []
    for index, raw_item in enumerate(items):
        if values.item_is_blank(f, raw_item):
            continue
        item, problems = values.normalize_item(f, raw_item, answers, today=today, counter=counter)
        for key, problem in problems:
            path = f"{f.key}.{index}.{key}" if key else f"{f.key}.{index}"
            errors.append(_error(path, problem))
        kept = {k: v for k, v in item.items() if v is not None}
        if kept:
            out.append(kept)
    if not out:
        if f.required and not errors:
            errors.append(FieldError(f.key, "required"))
        return None, errors
    if len(out) > f.max_items:
        errors.append(FieldError(f.key, "too_many_items", {"max": f.max_items}))
    elif len(out) < f.min_items:
        errors.append(FieldError(f.key, "too_few_items", {"min": f.min_items}))
    return out, errors


def _check_fields(
    fields: tuple[Field, ...],
    raw: Mapping[str, Any],
    current: dict[str, Any],
    *,
    counter: bool,
    today: date,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Normalise ``fields`` in order, updating ``current`` (the answers conditions see)."""
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    for f in fields:
        shown = f.has_value and (counter or not f.counter_only) and is_visible(f, current)
        if not shown:
            current.pop(f.key, None)
            continue
        value: Any
        if f.type == FieldType.GROUP:
            value, problems = _group(f, raw.get(f.key), current, counter=counter, today=today)
            errors.extend(problems)
        else:
            try:
                value = values.normalize(f, raw.get(f.key), today=today)
            except values.ValueProblem as problem:
                errors.append(_error(f.key, problem))
                current.pop(f.key, None)
                continue
            if value is None and f.required:
                errors.append(FieldError(f.key, values.missing_code(f)))
        if value is None:
            current.pop(f.key, None)
        else:
            current[f.key] = value
            out[f.key] = value
    return out, errors


def _step(spec: FormSpec, step: Step | str | int) -> Step:
    if isinstance(step, Step):
        return step
    if isinstance(step, int):
        return spec.steps[step]
    found = next((s for s in spec.steps if s.key == step), None)
    if found is None:
        raise KeyError(f"no step {step!r} in this form")
    return found


def validate_step(
    spec: FormSpec,
    step: Step | str | int,
    raw: Mapping[str, Any],
    answers: Mapping[str, Any],
    *,
    counter: bool = False,
    today: date | None = None,
) -> StepResult:
    """Check the raw input of one step (a :class:`Step`, its key or its index).

    ``raw`` maps each field key to its input (see :func:`values.normalize`);
    ``answers`` are the answers so far (earlier steps, and possibly this step's old
    ones), against which conditions are tested; fields of this step see the new input of
    the fields before them. Only shown fields are checked (``counter_only`` ones only
    when ``counter``); hidden ones are left out of ``values``.
    """
    today = today or date.today()
    s = _step(spec, step)
    keys = frozenset(f.key for f in s.fields)
    current = {k: v for k, v in answers.items() if k not in keys}
    out, errors = _check_fields(s.fields, raw, current, counter=counter, today=today)
    return StepResult(values=out, errors=errors, keys=keys)


def validate_all(
    spec: FormSpec,
    answers: Mapping[str, Any],
    *,
    counter: bool = False,
    today: date | None = None,
) -> list[FieldError]:
    """Every problem with a complete set of (normalised) answers, step by step."""
    today = today or date.today()
    current: dict[str, Any] = {}
    errors: list[FieldError] = []
    for s in spec.steps:
        _values, problems = _check_fields(s.fields, answers, current, counter=counter, today=today)
        errors.extend(problems)
    return errors


def clean_all(
    spec: FormSpec,
    answers: Mapping[str, Any],
    *,
    counter: bool = False,
    today: date | None = None,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Like :func:`validate_all`, also returning the normalised, pruned answers."""
    today = today or date.today()
    current: dict[str, Any] = {}
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    for s in spec.steps:
        step_values, problems = _check_fields(
            s.fields, answers, current, counter=counter, today=today
        )
        out.update(step_values)
        errors.extend(problems)
    return out, errors


def prune(spec: FormSpec, answers: Mapping[str, Any], counter: bool = False) -> dict[str, Any]:
    """The answers of shown, known fields only (inside groups too); nothing is validated.

    Empty answers are dropped; keys starting with ``_`` (bookkeeping kept beside the
    answers) are kept as they are.
    """
    out: dict[str, Any] = {k: v for k, v in answers.items() if k.startswith("_")}
    current: dict[str, Any] = {}
    for f in spec.fields():
        value = answers.get(f.key)
        shown = f.has_value and (counter or not f.counter_only) and is_visible(f, current)
        if not shown or values.is_empty(f, value):
            continue
        if f.type == FieldType.GROUP and isinstance(value, list):
            items: list[dict[str, Any]] = []
            for raw_item in value:
                if not isinstance(raw_item, Mapping):
                    continue
                item: dict[str, Any] = {}
                for sub in f.fields:
                    sub_value = raw_item.get(sub.key)
                    if (
                        sub.has_value
                        and (counter or not sub.counter_only)
                        and is_visible(sub, current, item, group=f)
                        and not values.is_empty(sub, sub_value)
                    ):
                        item[sub.key] = sub_value
                if item:
                    items.append(item)
            if not items:
                continue
            value = items
        current[f.key] = value
        out[f.key] = value
    return out
