"""Which fields are shown: a field's ``condition`` tested against the answers so far.

A condition names a top-level field, or a sibling inside the same group item::

    {"field": "has_spouse", "equals": true}
    {"field": "relation", "in": ["child", "parent"]}
    {"field": "phone", "filled": true}

A multichoice answer ``equals`` a value when that value is ticked, and is ``in`` a list
when any ticked value is in it. A field whose controlling field is itself hidden is
hidden (pass ``spec`` to have that checked against stale answers; the validators walk
the form in order and drop hidden answers, which gives the same result).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cityhall.procedures.formspec.schema import Condition, Field, FormSpec

_TRUE = frozenset({"yes", "true", "on", "1"})
_FALSE = frozenset({"no", "false", "off", "0"})


def filled(value: Any) -> bool:
    """Whether an answer counts as given (for ``{"filled": true}``)."""
    if value is None or value is False:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, Mapping):
        return any(filled(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(filled(v) for v in value)
    return True


def same(answer: Any, expected: Any) -> bool:
    """Loose equality between an answer and a condition's value (``True`` matches ``"yes"``)."""
    if answer is None or expected is None:
        return answer is expected
    if isinstance(answer, bool) or isinstance(expected, bool):
        a = _as_bool(answer)
        b = _as_bool(expected)
        return a is not None and a == b
    if answer == expected:
        return True
    if isinstance(answer, int | float | str) and isinstance(expected, int | float | str):
        return str(answer).strip() == str(expected).strip()
    return False


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        s = value.strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    return None


def matches(condition: Condition, answer: Any) -> bool:
    """Whether one answer satisfies a condition."""
    if condition.filled is not None:
        return filled(answer) == condition.filled
    options: tuple[Any, ...] = (
        condition.among if condition.among is not None else (condition.equals,)
    )
    if isinstance(answer, list | tuple):
        return any(same(a, o) for a in answer for o in options)
    return any(same(answer, o) for o in options)


def is_visible(
    field: Field,
    answers: Mapping[str, Any],
    item: Mapping[str, Any] | None = None,
    *,
    group: Field | None = None,
    spec: FormSpec | None = None,
) -> bool:
    """Whether ``field`` is shown, given top-level ``answers`` (and the group ``item`` it is in).

    Inside a group, a condition on a sibling is tested against ``item``: the sibling is
    found by ``group``'s sub-fields when given, else by the keys present in ``item``.
    With ``spec``, a controlling field that is itself hidden hides this one too.
    """
    condition = field.condition
    if condition is None:
        return True
    name = condition.field
    if item is not None:
        siblings = {f.key: f for f in group.fields} if group is not None else {}
        if name in siblings or (group is None and name in item):
            sibling = siblings.get(name)
            if sibling is not None and not is_visible(
                sibling, answers, item, group=group, spec=spec
            ):
                return False
            return matches(condition, item.get(name))
    if spec is not None:
        controller = spec.field(name)
        if controller is not None and not is_visible(controller, answers, spec=spec):
            return False
    return matches(condition, answers.get(name))


def visible_fields(
    spec: FormSpec, answers: Mapping[str, Any], *, counter: bool = False
) -> list[Field]:
    """The top-level fields shown for these answers (``counter_only`` ones only at the counter)."""
    return [
        f
        for f in spec.fields()
        if (counter or not f.counter_only) and is_visible(f, answers, spec=spec)
    ]
