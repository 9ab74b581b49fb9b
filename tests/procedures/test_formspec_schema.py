"""The form document: parsing, its checks, and ``parse(dump(s)) == s``."""

from __future__ import annotations

from typing import Any

import pytest

from cityhall.procedures.formspec import schema
from cityhall.procedures.formspec.schema import FieldType, SpecError

from .test_formspec_display import FORM as DISPLAY_FORM
from .test_formspec_validate import FORM as VALIDATE_FORM


def one_field(**field: Any) -> dict[str, Any]:
    base = {"key": "f", "type": "text", "label": {"ja": "項目"}}
    base.update(field)
    return {"steps": [{"key": "s", "title": {"ja": "手順"}, "fields": [base]}]}


@pytest.mark.parametrize("form", [DISPLAY_FORM, VALIDATE_FORM])
def test_round_trip(form: dict[str, Any]) -> None:
    spec = schema.parse(form)
    assert schema.parse(schema.dump(spec)) == spec


def test_defaults() -> None:
    f = schema.parse(one_field()).steps[0].fields[0]
    assert f.required
    assert f.max_length == 200
    info = schema.parse(one_field(type="info", required=True)).steps[0].fields[0]
    assert not info.required
    consent = schema.parse(one_field(type="consent", required=False)).steps[0].fields[0]
    assert consent.required
    assert schema.parse(one_field(label="氏名")).steps[0].fields[0].label == {"ja": "氏名"}


@pytest.mark.parametrize(
    ("field", "where"),
    [
        ({"type": "nope"}, "steps[0].fields[0].type"),
        ({"type": None}, "steps[0].fields[0].type"),
        ({"key": "Bad"}, "steps[0].fields[0].key"),
        ({"label": {"en": "x"}}, "steps[0].fields[0].label"),
        ({"label": {"ja": "x", "xx": "y"}}, "steps[0].fields[0].label"),
        ({"type": "choice"}, "steps[0].fields[0].choices"),
        ({"max_length": "long"}, "steps[0].fields[0].max_length"),
        ({"max_length": 0}, "steps[0].fields[0].max_length"),
        ({"type": "number", "min": "1"}, "steps[0].fields[0].min"),
        ({"type": "number", "max": True}, "steps[0].fields[0].max"),
        ({"type": "date", "min": "yesterday"}, "steps[0].fields[0].min"),
        ({"type": "date", "max": 2026}, "steps[0].fields[0].max"),
        ({"type": "date", "calendar": "lunar"}, "steps[0].fields[0].calendar"),
        ({"type": "file", "max_mb": 100}, "steps[0].fields[0].max_mb"),
        ({"condition": {"field": "later", "equals": 1}}, "steps[0].fields[0].condition"),
        (
            {"condition": {"field": "x", "equals": 1, "filled": True}},
            "steps[0].fields[0].condition",
        ),
        (
            {
                "type": "group",
                "fields": [{"key": "a", "type": "text", "label": "a"}],
                "min_items": "1",
            },
            "steps[0].fields[0]",
        ),
        (
            {
                "type": "group",
                "fields": [{"key": "a", "type": "text", "label": "a"}],
                "min_items": 5,
                "max_items": 2,
            },
            "steps[0].fields[0].min_items",
        ),
        (
            {
                "type": "group",
                "fields": [
                    {
                        "key": "g",
                        "type": "group",
                        "label": "g",
                        "fields": [{"key": "a", "type": "text", "label": "a"}],
                    }
                ],
            },
            "steps[0].fields[0].fields[0]",
        ),
    ],
)
def test_problems(field: dict[str, Any], where: str) -> None:
    with pytest.raises(SpecError) as info:
        schema.parse(one_field(**field))
    assert where in [p.path for p in info.value.problems]


def test_date_bounds_accepted() -> None:
    f = schema.parse(one_field(type="date", min="1900-01-01", max="today")).steps[0].fields[0]
    assert (f.type, f.min, f.max) == (FieldType.DATE, "1900-01-01", "today")


def test_duplicate_keys_across_steps() -> None:
    doc = {
        "steps": [
            {"key": "a", "title": "A", "fields": [{"key": "x", "type": "text", "label": "x"}]},
            {"key": "b", "title": "B", "fields": [{"key": "x", "type": "text", "label": "x"}]},
        ]
    }
    with pytest.raises(SpecError, match="earlier step"):
        schema.parse(doc)


def test_not_a_form() -> None:
    with pytest.raises(SpecError):
        schema.parse([])
    with pytest.raises(SpecError):
        schema.parse({"steps": []})
