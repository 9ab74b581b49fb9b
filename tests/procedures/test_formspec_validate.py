"""Conditions, step validation, whole-form validation and pruning."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityhall.procedures.formspec import schema
from cityhall.procedures.formspec.conditions import filled, is_visible, matches, visible_fields
from cityhall.procedures.formspec.schema import Condition, FormSpec
from cityhall.procedures.formspec.validate import (
    FieldError,
    clean_all,
    prune,
    validate_all,
    validate_step,
)

TODAY = date(2026, 11, 26)
TARO = {"family": "伊賀", "given": "太郎", "family_kana": "イガ", "given_kana": "タロウ"}
HANAKO = {"family": "伊賀", "given": "花子", "family_kana": "イガ", "given_kana": "ハナコ"}


def ja(text: str) -> dict[str, str]:
    return {"ja": text, "en": text}


FORM: dict[str, Any] = {
    "title": ja("児童手当 認定請求書"),
    "steps": [
        {
            "key": "applicant",
            "title": ja("請求する人"),
            "fields": [
                {"key": "name", "type": "name", "label": ja("氏名"), "prefill": "identity.name"},
                {"key": "phone", "type": "phone", "label": ja("電話"), "required": False},
                {"key": "has_spouse", "type": "yesno", "label": ja("配偶者")},
                {
                    "key": "spouse_name",
                    "type": "name",
                    "label": ja("配偶者の氏名"),
                    "condition": {"field": "has_spouse", "equals": True},
                },
                {
                    "key": "spouse_works",
                    "type": "yesno",
                    "label": ja("配偶者の就労"),
                    "condition": {"field": "spouse_name", "filled": True},
                },
                {"key": "note", "type": "info", "label": ja("お知らせ")},
            ],
        },
        {
            "key": "children",
            "title": ja("お子さん"),
            "fields": [
                {
                    "key": "children",
                    "type": "group",
                    "label": ja("お子さん"),
                    "min_items": 1,
                    "max_items": 3,
                    "fields": [
                        {"key": "name", "type": "name", "label": ja("氏名")},
                        {
                            "key": "birthdate",
                            "type": "date",
                            "calendar": "wareki",
                            "label": ja("生年月日"),
                            "max": "today",
                        },
                        {
                            "key": "lives_apart",
                            "type": "yesno",
                            "label": ja("別居"),
                        },
                        {
                            "key": "address",
                            "type": "address",
                            "label": ja("住所"),
                            "condition": {"field": "lives_apart", "equals": True},
                        },
                        {
                            "key": "spouse_child",
                            "type": "yesno",
                            "label": ja("配偶者の子"),
                            "required": False,
                            "condition": {"field": "has_spouse", "equals": True},
                        },
                    ],
                },
            ],
        },
        {
            "key": "confirm",
            "title": ja("確認"),
            "fields": [
                {
                    "key": "reasons",
                    "type": "multichoice",
                    "label": ja("理由"),
                    "required": False,
                    "choices": [
                        {"value": "birth", "label": ja("出生")},
                        {"value": "move", "label": ja("転入")},
                    ],
                },
                {
                    "key": "moved_from",
                    "type": "text",
                    "label": ja("前住所"),
                    "condition": {"field": "reasons", "equals": "move"},
                },
                {"key": "agree", "type": "consent", "label": ja("同意")},
                {
                    "key": "checked_id",
                    "type": "choice",
                    "label": ja("本人確認書類"),
                    "counter_only": True,
                    "choices": [
                        {"value": "card", "label": ja("マイナンバーカード")},
                        {"value": "license", "label": ja("運転免許証")},
                    ],
                },
                {
                    "key": "signature",
                    "type": "signature",
                    "label": ja("署名"),
                    "counter_only": True,
                },
            ],
        },
    ],
}


@pytest.fixture
def spec() -> FormSpec:
    return schema.parse(FORM)


def child(**extra: Any) -> dict[str, Any]:
    return {"name": HANAKO, "birthdate": "R2.4.1", "lives_apart": "no", **extra}


# --- conditions -----------------------------------------------------------------------------


def test_matches() -> None:
    assert matches(Condition("k", equals=True), True)
    assert matches(Condition("k", equals=True), "yes")
    assert matches(Condition("k", equals="yes"), True)
    assert not matches(Condition("k", equals=True), False)
    assert not matches(Condition("k", equals=True), None)
    assert matches(Condition("k", equals=False), False)
    assert not matches(Condition("k", equals=False), None)
    assert matches(Condition("k", equals=3), "3")
    assert matches(Condition("k", among=("a", "b")), "b")
    assert not matches(Condition("k", among=("a", "b")), "c")
    assert matches(Condition("k", equals="move"), ["birth", "move"])
    assert matches(Condition("k", among=("x", "move")), ["move"])
    assert not matches(Condition("k", among=("x",)), ["move"])
    assert matches(Condition("k", filled=True), "x")
    assert matches(Condition("k", filled=False), "")
    assert matches(Condition("k", filled=False), None)
    assert not matches(Condition("k", filled=True), {"family": "", "given": ""})
    assert matches(Condition("k", filled=True), 0)


def test_filled() -> None:
    assert not filled(None)
    assert not filled(False)
    assert not filled([])
    assert not filled({"a": ""})
    assert filled([{"a": "x"}])
    assert filled(True)


def test_is_visible_top_level(spec: FormSpec) -> None:
    spouse = spec.field("spouse_name")
    assert spouse is not None
    assert is_visible(spouse, {"has_spouse": True})
    assert not is_visible(spouse, {"has_spouse": False})
    assert not is_visible(spouse, {})
    name = spec.field("name")
    assert name is not None
    assert is_visible(name, {})


def test_hidden_controller_hides_with_spec(spec: FormSpec) -> None:
    works = spec.field("spouse_works")
    assert works is not None
    stale = {"has_spouse": False, "spouse_name": TARO}
    assert is_visible(works, stale)  # without the form, only the answer is seen
    assert not is_visible(works, stale, spec=spec)
    assert is_visible(works, {"has_spouse": True, "spouse_name": TARO}, spec=spec)


def test_is_visible_in_group(spec: FormSpec) -> None:
    group = spec.field("children")
    assert group is not None
    address = next(f for f in group.fields if f.key == "address")
    spouse_child = next(f for f in group.fields if f.key == "spouse_child")
    assert is_visible(address, {}, {"lives_apart": True}, group=group)
    assert not is_visible(address, {"lives_apart": True}, {"lives_apart": False}, group=group)
    # A sibling that is absent from the item is unanswered, not looked up at the top level.
    assert not is_visible(address, {"lives_apart": True}, {}, group=group)
    assert is_visible(address, {}, {"lives_apart": True})  # without group: by the item's keys
    # A condition on a top-level field from inside a group.
    assert is_visible(spouse_child, {"has_spouse": True}, {}, group=group)
    assert not is_visible(spouse_child, {"has_spouse": False}, {}, group=group)


def test_visible_fields(spec: FormSpec) -> None:
    keys = [f.key for f in visible_fields(spec, {"has_spouse": True, "spouse_name": TARO})]
    assert "spouse_works" in keys
    assert "checked_id" not in keys
    counter_keys = [f.key for f in visible_fields(spec, {}, counter=True)]
    assert "checked_id" in counter_keys
    assert "spouse_name" not in counter_keys


# --- validate_step --------------------------------------------------------------------------


def test_valid_step(spec: FormSpec) -> None:
    raw = {
        "name": {"family": "伊賀", "given": "太郎", "family_kana": "いが", "given_kana": "たろう"},
        "phone": "",
        "has_spouse": "no",
        "spouse_name": {"family": "stale", "given": "x"},
        "note": "ignored",
    }
    result = validate_step(spec, "applicant", raw, {}, today=TODAY)
    assert result.ok, result.errors
    assert result.values == {"name": TARO, "has_spouse": False}
    assert result.keys == {"name", "phone", "has_spouse", "spouse_name", "spouse_works", "note"}


def test_step_by_index_and_object(spec: FormSpec) -> None:
    raw = {"name": TARO, "has_spouse": "no"}
    assert (
        validate_step(spec, 0, raw, {}).values == validate_step(spec, spec.steps[0], raw, {}).values
    )


def test_unknown_step(spec: FormSpec) -> None:
    with pytest.raises(KeyError):
        validate_step(spec, "nope", {}, {})


def test_required_and_invalid(spec: FormSpec) -> None:
    raw = {"name": {"family": "伊賀"}, "phone": "123", "has_spouse": ""}
    result = validate_step(spec, "applicant", raw, {}, today=TODAY)
    assert result.errors == [
        FieldError("name", "name_incomplete", {"parts": ["given", "family_kana", "given_kana"]}),
        FieldError("phone", "invalid_phone"),
        FieldError("has_spouse", "required"),
    ]
    assert result.values == {}
    assert set(result.errors_by_path()) == {"name", "phone", "has_spouse"}


def test_condition_on_same_step_uses_new_input(spec: FormSpec) -> None:
    raw = {"name": TARO, "has_spouse": "yes", "spouse_name": HANAKO, "spouse_works": "no"}
    # The stored answers still say "no spouse"; the new input wins.
    result = validate_step(spec, "applicant", raw, {"has_spouse": False}, today=TODAY)
    assert result.ok, result.errors
    assert result.values["spouse_name"] == HANAKO
    assert result.values["spouse_works"] is False
    missing = validate_step(spec, "applicant", {**raw, "spouse_name": {}}, {}, today=TODAY)
    assert [e.path for e in missing.errors] == ["spouse_name"]
    assert "spouse_works" not in missing.values  # its controller is empty


def test_chained_hidden_fields_are_dropped(spec: FormSpec) -> None:
    raw = {"name": TARO, "has_spouse": "no", "spouse_name": HANAKO, "spouse_works": "yes"}
    result = validate_step(spec, "applicant", raw, {}, today=TODAY)
    assert result.ok
    assert "spouse_name" not in result.values
    assert "spouse_works" not in result.values


def test_merge_clears_emptied_and_hidden_answers(spec: FormSpec) -> None:
    answers = {"name": TARO, "phone": "0595-22-2500", "has_spouse": True, "spouse_name": HANAKO}
    answers["children"] = [{"name": HANAKO}]
    raw = {"name": TARO, "phone": "", "has_spouse": "no"}
    result = validate_step(spec, "applicant", raw, answers, today=TODAY)
    assert result.merge(answers) == {
        "name": TARO,
        "has_spouse": False,
        "children": [{"name": HANAKO}],
    }


def test_counter_only_fields(spec: FormSpec) -> None:
    answers = {"name": TARO, "has_spouse": False}
    raw = {"agree": "on", "checked_id": "card", "signature": {"typed": "伊賀 太郎"}}
    online = validate_step(spec, "confirm", raw, answers, today=TODAY)
    assert online.ok
    assert online.values == {"agree": True}
    counter = validate_step(spec, "confirm", raw, answers, counter=True, today=TODAY)
    assert counter.ok
    assert counter.values == {
        "agree": True,
        "checked_id": "card",
        "signature": {"typed": "伊賀 太郎"},
    }
    unsigned = validate_step(spec, "confirm", {"agree": "on"}, answers, counter=True)
    assert {e.path: e.code for e in unsigned.errors} == {
        "checked_id": "required",
        "signature": "required",
    }


def test_consent_must_be_given(spec: FormSpec) -> None:
    result = validate_step(spec, "confirm", {}, {}, today=TODAY)
    assert result.errors == [FieldError("agree", "must_consent")]


def test_multichoice_condition(spec: FormSpec) -> None:
    raw = {"reasons": ["move", "birth"], "agree": True}
    result = validate_step(spec, "confirm", raw, {}, today=TODAY)
    assert result.errors == [FieldError("moved_from", "required")]
    raw["moved_from"] = "名張市"
    result = validate_step(spec, "confirm", raw, {}, today=TODAY)
    assert result.values == {"reasons": ["birth", "move"], "moved_from": "名張市", "agree": True}
    assert validate_step(
        spec, "confirm", {"reasons": ["birth"], "moved_from": "x", "agree": True}, {}
    ).values == {
        "reasons": ["birth"],
        "agree": True,
    }


# --- groups ---------------------------------------------------------------------------------


def test_group_valid(spec: FormSpec) -> None:
    raw = {
        "children": [
            child(),
            {"name": {}, "birthdate": {"era": "R", "year": "", "month": "", "day": ""}},
            child(name=TARO, lives_apart="yes", address="名張市"),
        ]
    }
    result = validate_step(spec, "children", raw, {"has_spouse": False}, today=TODAY)
    assert result.ok, result.errors
    assert result.values["children"] == [
        {"name": HANAKO, "birthdate": "2020-04-01", "lives_apart": False},
        {"name": TARO, "birthdate": "2020-04-01", "lives_apart": True, "address": "名張市"},
    ]


def test_group_errors_have_paths(spec: FormSpec) -> None:
    raw = {
        "children": [
            child(),
            {},  # blank: skipped, but it keeps its place in the paths
            child(birthdate="2030-01-01", lives_apart="yes"),
            {"birthdate": "R2.2.30"},
        ]
    }
    result = validate_step(spec, "children", raw, {}, today=TODAY)
    assert result.errors == [
        FieldError("children.2.birthdate", "date_too_late", {"max": "2026-11-26"}),
        FieldError("children.2.address", "required"),
        FieldError("children.3.name", "required"),
        FieldError("children.3.birthdate", "invalid_date"),
        FieldError("children.3.lives_apart", "required"),
    ]


def test_group_counts(spec: FormSpec) -> None:
    empty = validate_step(spec, "children", {"children": [{}, {}]}, {}, today=TODAY)
    assert empty.errors == [FieldError("children", "required")]
    assert validate_step(spec, "children", {}, {}).errors == [FieldError("children", "required")]
    many = validate_step(spec, "children", {"children": [child()] * 4}, {}, today=TODAY)
    assert many.errors == [FieldError("children", "too_many_items", {"max": 3})]
    bad = validate_step(spec, "children", {"children": "nope"}, {}, today=TODAY)
    assert bad.errors == [FieldError("children", "invalid")]
    weird = validate_step(spec, "children", {"children": ["nope"]}, {}, today=TODAY)
    assert weird.errors == [FieldError("children.0", "invalid")]


def test_group_min_items() -> None:
    form = {
        "steps": [
            {
                "key": "s",
                "title": ja("家族"),
                "fields": [
                    {
                        "key": "family",
                        "type": "group",
                        "label": ja("家族"),
                        "required": False,
                        "min_items": 2,
                        "fields": [{"key": "name", "type": "text", "label": ja("氏名")}],
                    }
                ],
            }
        ]
    }
    spec = schema.parse(form)
    assert validate_step(spec, "s", {"family": []}, {}).ok
    one = validate_step(spec, "s", {"family": [{"name": "a"}]}, {})
    assert one.errors == [FieldError("family", "too_few_items", {"min": 2})]
    two = validate_step(spec, "s", {"family": {"0": {"name": "a"}, "1": {"name": "b"}}}, {})
    assert two.ok
    assert two.values == {"family": [{"name": "a"}, {"name": "b"}]}


def test_group_sub_field_conditioned_on_top_level(spec: FormSpec) -> None:
    raw = {"children": [child(spouse_child="yes")]}
    with_spouse = validate_step(spec, "children", raw, {"has_spouse": True}, today=TODAY)
    assert with_spouse.values["children"][0]["spouse_child"] is True
    without = validate_step(spec, "children", raw, {"has_spouse": False}, today=TODAY)
    assert "spouse_child" not in without.values["children"][0]


# --- validate_all, clean_all, prune ---------------------------------------------------------


def complete_answers(spec: FormSpec) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    steps_raw: list[dict[str, Any]] = [
        {
            "name": TARO,
            "phone": "0595222500",
            "has_spouse": "yes",
            "spouse_name": HANAKO,
            "spouse_works": "no",
        },
        {"children": [child(spouse_child="yes")]},
        {
            "reasons": ["move"],
            "moved_from": "名張市",
            "agree": "on",
            "checked_id": "card",
            "signature": {"attachment": 5},
        },
    ]
    for step, raw in zip(spec.steps, steps_raw, strict=True):
        result = validate_step(spec, step, raw, answers, counter=True, today=TODAY)
        assert result.ok, result.errors
        answers = result.merge(answers)
    return answers


def test_validate_all_accepts_its_own_output(spec: FormSpec) -> None:
    answers = complete_answers(spec)
    assert validate_all(spec, answers, counter=True, today=TODAY) == []
    cleaned, errors = clean_all(spec, answers, counter=True, today=TODAY)
    assert errors == []
    assert cleaned == answers


def test_validate_all_finds_problems(spec: FormSpec) -> None:
    answers = complete_answers(spec)
    answers["phone"] = "12"
    del answers["agree"]
    answers["children"][0]["birthdate"] = "2027-01-01"
    errors = validate_all(spec, answers, counter=True, today=TODAY)
    assert [(e.path, e.code) for e in errors] == [
        ("phone", "invalid_phone"),
        ("children.0.birthdate", "date_too_late"),
        ("agree", "must_consent"),
    ]
    # Online, the counter's own fields are not asked for.
    online = validate_all(spec, complete_answers(spec), today=TODAY)
    assert online == []
    assert validate_all(spec, {}, today=TODAY) == [
        FieldError("name", "required"),
        FieldError("has_spouse", "required"),
        FieldError("children", "required"),
        FieldError("agree", "must_consent"),
    ]


def test_prune(spec: FormSpec) -> None:
    answers = complete_answers(spec)
    answers["_meta"] = {"started": "x"}
    answers["unknown"] = 1
    answers["has_spouse"] = False
    answers["note"] = "x"
    pruned = prune(spec, answers)
    assert "spouse_name" not in pruned
    assert "spouse_works" not in pruned  # its controller is hidden
    assert "unknown" not in pruned
    assert "note" not in pruned
    assert "checked_id" not in pruned
    assert "spouse_child" not in pruned["children"][0]
    assert pruned["_meta"] == {"started": "x"}
    assert prune(spec, answers, counter=True)["checked_id"] == "card"
    assert prune(spec, {"phone": "", "reasons": []}) == {}
    assert prune(spec, {"children": [{}, {"name": HANAKO, "address": "x"}]}) == {
        "children": [{"name": HANAKO}]
    }


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.one_of(st.none(), st.text(max_size=10), st.just(TARO)),
            "phone": st.text(alphabet="0123456789-+ ", max_size=14),
            "has_spouse": st.sampled_from(["yes", "no", "", True, False, "maybe"]),
            "spouse_name": st.just(HANAKO),
            "spouse_works": st.sampled_from(["yes", "no", ""]),
            "children": st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "name": st.just(HANAKO),
                        "birthdate": st.dates().map(str),
                        "lives_apart": st.sampled_from(["yes", "no"]),
                        "address": st.text(max_size=5),
                    },
                ),
                max_size=4,
            ),
        },
    )
)
def test_step_values_always_revalidate_cleanly(raw: dict[str, Any]) -> None:
    spec = schema.parse(FORM)
    answers: dict[str, Any] = {}
    for step in spec.steps[:2]:
        result = validate_step(spec, step, raw, answers, today=TODAY)
        answers = result.merge(answers)
        # Whatever was accepted is accepted again, unchanged.
        again = validate_step(spec, step, answers, answers, today=TODAY)
        assert again.values == result.values
        # Blank group items are dropped, so positions may move; an answer refused the first
        # time is missing the second time; nothing that was accepted is refused.
        assert {_shape(e) for e in again.errors} <= {_shape(e) for e in result.errors} | {
            "children",
            "name",
            "has_spouse",
            "spouse_name",
            "spouse_works",
        }
    assert prune(spec, answers) == answers


def _shape(error: FieldError) -> str:
    return ".".join(p for p in error.path.split(".") if not p.isdigit())
