"""Answers as text: confirmation rows, CSV cells and columns."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityhall.procedures.formspec import schema
from cityhall.procedures.formspec.display import Row, columns, flatten, rows, text
from cityhall.procedures.formspec.schema import FormSpec

TARO = {"family": "伊賀", "given": "太郎", "family_kana": "イガ", "given_kana": "タロウ"}
HANAKO = {"family": "伊賀", "given": "花子", "family_kana": "イガ", "given_kana": "ハナコ"}

FORM: dict[str, Any] = {
    "title": {"ja": "児童手当"},
    "steps": [
        {
            "key": "applicant",
            "title": {"ja": "請求する人", "en": "Claimant"},
            "fields": [
                {"key": "name", "type": "name", "label": {"ja": "氏名", "en": "Name"}},
                {
                    "key": "birthdate",
                    "type": "date",
                    "calendar": "wareki",
                    "label": {"ja": "生年月日", "en": "Date of birth"},
                },
                {"key": "moved_on", "type": "date", "label": {"ja": "転入日"}, "required": False},
                {"key": "note", "type": "info", "label": {"ja": "注意"}},
                {"key": "has_spouse", "type": "yesno", "label": {"ja": "配偶者", "en": "Spouse"}},
                {
                    "key": "spouse_name",
                    "type": "name",
                    "label": {"ja": "配偶者の氏名"},
                    "condition": {"field": "has_spouse", "equals": True},
                },
                {
                    "key": "relation",
                    "type": "choice",
                    "label": {"ja": "続柄", "en": "Relation"},
                    "choices": [
                        {"value": "parent", "label": {"ja": "父母", "en": "Parent"}},
                        {"value": "other", "label": {"ja": "その他"}},
                    ],
                },
                {
                    "key": "needs",
                    "type": "multichoice",
                    "label": {"ja": "必要なもの"},
                    "required": False,
                    "choices": [
                        {"value": "a", "label": {"ja": "通訳", "en": "Interpreter"}},
                        {"value": "b", "label": {"ja": "車いす", "en": "Wheelchair"}},
                    ],
                },
                {"key": "phone", "type": "phone", "label": {"ja": "電話"}, "required": False},
            ],
        },
        {
            "key": "children",
            "title": {"ja": "お子さん", "en": "Children"},
            "fields": [
                {
                    "key": "children",
                    "type": "group",
                    "label": {"ja": "お子さん", "en": "Child"},
                    "max_items": 2,
                    "fields": [
                        {"key": "name", "type": "name", "label": {"ja": "氏名", "en": "Name"}},
                        {
                            "key": "birthdate",
                            "type": "date",
                            "calendar": "wareki",
                            "label": {"ja": "生年月日", "en": "Born"},
                        },
                        {"key": "apart", "type": "yesno", "label": {"ja": "別居"}},
                        {
                            "key": "address",
                            "type": "address",
                            "label": {"ja": "住所"},
                            "condition": {"field": "apart", "equals": True},
                        },
                    ],
                }
            ],
        },
        {
            "key": "end",
            "title": {"ja": "確認"},
            "fields": [
                {"key": "docs", "type": "file", "label": {"ja": "書類"}},
                {"key": "agree", "type": "consent", "label": {"ja": "同意", "en": "Consent"}},
                {"key": "sign", "type": "signature", "label": {"ja": "署名"}, "counter_only": True},
                {"key": "count", "type": "number", "label": {"ja": "人数"}, "required": False},
            ],
        },
    ],
}

ANSWERS: dict[str, Any] = {
    "name": TARO,
    "birthdate": "1990-05-01",
    "has_spouse": False,
    "spouse_name": HANAKO,  # stale: hidden by the condition
    "relation": "parent",
    "needs": ["a", "b"],
    "phone": "",
    "children": [
        {"name": HANAKO, "birthdate": "2019-05-01", "apart": False, "address": "stale"},
        {
            "name": {**TARO, "given": "次郎", "given_kana": "ジロウ"},
            "birthdate": "2021-01-01",
            "apart": True,
            "address": "名張市",
        },
    ],
    "docs": [4, 5],
    "agree": True,
    "sign": {"typed": "伊賀 太郎"},
    "count": 0,
}

JA_WORDS = {"yes": "はい", "no": "いいえ", "signed": "署名済み", "files": "{n}件のファイル"}


@pytest.fixture
def spec() -> FormSpec:
    return schema.parse(FORM)


def test_rows_in_japanese(spec: FormSpec) -> None:
    got = rows(spec, ANSWERS, "ja", words=JA_WORDS)
    assert [(r.path, r.label, r.text) for r in got] == [
        ("name", "氏名", "伊賀 太郎 (イガ タロウ)"),
        ("birthdate", "生年月日", "平成2年5月1日 (1990-05-01)"),
        ("has_spouse", "配偶者", "いいえ"),
        ("relation", "続柄", "父母"),
        ("needs", "必要なもの", "通訳、車いす"),
        ("children.1", "お子さん 1", ""),
        ("children.1.name", "お子さん 1: 氏名", "伊賀 花子 (イガ ハナコ)"),
        ("children.1.birthdate", "お子さん 1: 生年月日", "令和元年5月1日 (2019-05-01)"),
        ("children.1.apart", "お子さん 1: 別居", "いいえ"),
        ("children.2", "お子さん 2", ""),
        ("children.2.name", "お子さん 2: 氏名", "伊賀 次郎 (イガ ジロウ)"),
        ("children.2.birthdate", "お子さん 2: 生年月日", "令和3年1月1日 (2021-01-01)"),
        ("children.2.apart", "お子さん 2: 別居", "はい"),
        ("children.2.address", "お子さん 2: 住所", "名張市"),
        ("docs", "書類", "2件のファイル"),
        ("agree", "同意", "はい"),
        ("count", "人数", "0"),
    ]
    assert got[0].step_title == "請求する人"
    assert got[-1].step_title == "確認"


def test_rows_in_english_use_iso_dates_and_default_words(spec: FormSpec) -> None:
    got = {r.path: r for r in rows(spec, ANSWERS, "en")}
    assert got["birthdate"].text == "1990-05-01"
    assert got["birthdate"].label == "Date of birth"
    assert got["has_spouse"].text == "No"
    assert got["relation"].text == "Parent"
    assert got["needs"].text == "Interpreter, Wheelchair"
    assert got["docs"].text == "2 files"
    assert got["agree"].text == "Yes"
    assert got["children.1.name"].label == "Child 1: Name"
    assert got["children.1.birthdate"].text == "2019-05-01"
    assert got["name"].step_title == "Claimant"
    assert "sign" not in got


def test_rows_easy_japanese_and_fallback(spec: FormSpec) -> None:
    got = {r.path: r for r in rows(spec, ANSWERS, "ja-easy")}
    assert got["birthdate"].text == "平成2年5月1日 (1990-05-01)"
    vi = {r.path: r for r in rows(spec, ANSWERS, "vi")}
    assert vi["relation"].text == "Parent"  # no Vietnamese label: English
    assert vi["name"].label == "Name"


def test_rows_at_the_counter_include_signature(spec: FormSpec) -> None:
    got = {r.path: r for r in rows(spec, ANSWERS, "ja", counter=True, words=JA_WORDS)}
    assert got["sign"].text == "署名済み (伊賀 太郎)"
    only_drawn = rows(spec, {"sign": {"attachment": 3}}, "en", counter=True)
    assert only_drawn == [Row("確認", "sign", "署名", "Signed")]


def test_rows_show_a_hidden_field_when_shown(spec: FormSpec) -> None:
    got = {r.path: r.text for r in rows(spec, {**ANSWERS, "has_spouse": True}, "ja")}
    assert got["spouse_name"] == "伊賀 花子 (イガ ハナコ)"


def test_rows_of_nothing(spec: FormSpec) -> None:
    assert rows(spec, {}, "ja") == []
    assert rows(spec, {"children": [{}], "needs": [], "name": {"family": ""}}, "ja") == []


def test_text_edge_cases(spec: FormSpec) -> None:
    name = spec.field("name")
    relation = spec.field("relation")
    birthdate = spec.field("birthdate")
    assert name and relation and birthdate
    assert text(name, {"family": "伊賀", "given": "太郎"}, "ja") == "伊賀 太郎"
    assert text(relation, "gone", "ja") == "gone"  # a choice removed in a later version
    assert text(relation, "other", "en") == "その他"
    assert text(birthdate, "not-a-date", "ja") == "not-a-date"
    assert text(name, None, "ja") == ""
    docs = spec.field("docs")
    assert docs is not None
    assert text(docs, [1], "en", {"files": "file(s)"}) == "1 file(s)"
    assert text(docs, [1, 2], "en") == "2 files"


def test_flatten(spec: FormSpec) -> None:
    assert flatten(spec, ANSWERS) == {
        "name": "伊賀 太郎",
        "name.kana": "イガ タロウ",
        "birthdate": "1990-05-01",
        "has_spouse": "no",
        "spouse_name": "伊賀 花子",
        "spouse_name.kana": "イガ ハナコ",
        "relation": "parent",
        "needs": "a; b",
        "phone": "",
        "children.1.name": "伊賀 花子",
        "children.1.name.kana": "イガ ハナコ",
        "children.1.birthdate": "2019-05-01",
        "children.1.apart": "no",
        "children.1.address": "stale",
        "children.2.name": "伊賀 次郎",
        "children.2.name.kana": "イガ ジロウ",
        "children.2.birthdate": "2021-01-01",
        "children.2.apart": "yes",
        "children.2.address": "名張市",
        "docs": "4; 5",
        "agree": "yes",
        "sign": "伊賀 太郎",
        "count": "0",
    }


def test_flatten_labels_and_words(spec: FormSpec) -> None:
    flat = flatten(spec, ANSWERS, labels=True, words={"yes": "1", "no": "0"})
    assert flat["relation"] == "父母"
    assert flat["needs"] == "通訳; 車いす"
    assert flat["has_spouse"] == "0"
    assert flat["agree"] == "1"


def test_columns(spec: FormSpec) -> None:
    cols = columns(spec)
    paths = [p for p, _label in cols]
    assert paths[:3] == ["name", "name.kana", "birthdate"]
    assert "note" not in paths
    assert ("children.2.address", "お子さん 2: 住所") in cols
    assert ("children.1.name.kana", "お子さん 1: 氏名（フリガナ）") in cols
    assert "children.3.name" not in paths  # max_items is 2
    assert ("sign", "署名") in cols
    assert len(paths) == len(set(paths))
    # Every cell flatten makes has its column.
    assert set(flatten(spec, ANSWERS)) <= set(paths)


@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "name": st.just(HANAKO),
                "birthdate": st.dates().map(str),
                "apart": st.booleans(),
                "address": st.text(max_size=5),
            },
        ),
        max_size=2,
    )
)
def test_flatten_cells_are_columns(children: list[dict[str, Any]]) -> None:
    spec = schema.parse(FORM)
    assert set(flatten(spec, {**ANSWERS, "children": children})) <= {p for p, _ in columns(spec)}
    for row in rows(spec, {"children": children}, "ja"):
        assert row.path.startswith("children.")
