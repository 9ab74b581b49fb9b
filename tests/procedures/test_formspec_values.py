"""Each field type's answer: normalisation, problems, idempotence and prefill coercion."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityhall.procedures.formspec import schema
from cityhall.procedures.formspec.schema import Field, FieldType
from cityhall.procedures.formspec.values import (
    ValueProblem,
    coerce,
    format_phone,
    is_empty,
    kana,
    nfkc,
    normalize,
)

TODAY = date(2026, 11, 26)


def make(type_: str, **extra: Any) -> Field:
    """A field parsed from JSON, as a staff-built form would have it."""
    doc: dict[str, Any] = {"key": "f", "type": type_, "label": {"ja": "項目", "en": "Item"}}
    if type_ in ("choice", "select", "multichoice") and "choices" not in extra:
        extra["choices"] = [
            {"value": "a", "label": {"ja": "あ", "en": "A"}},
            {"value": "b", "label": {"ja": "い", "en": "B"}},
            {"value": "c", "label": {"ja": "う", "en": "C"}},
        ]
    if type_ == "group" and "fields" not in extra:
        extra["fields"] = [
            {"key": "name", "type": "name", "label": {"ja": "氏名"}},
            {"key": "birthdate", "type": "date", "label": {"ja": "生年月日"}},
        ]
    doc.update(extra)
    spec = schema.parse({"steps": [{"key": "s", "title": {"ja": "手順"}, "fields": [doc]}]})
    return spec.steps[0].fields[0]


def problem(field: Field, raw: Any, **kw: Any) -> ValueProblem:
    with pytest.raises(ValueProblem) as info:
        normalize(field, raw, **kw)
    return info.value


# --- text -----------------------------------------------------------------------------------


def test_text_is_nfkc_and_stripped_but_japanese_kept() -> None:
    f = make("text")
    assert normalize(f, "  ＡＢＣ１２３　伊賀市ｶﾀｶﾅ  ") == "ABC123 伊賀市カタカナ"
    assert normalize(f, "line\nbreak\tand\x00control") == "line break andcontrol"
    assert normalize(f, "   ") is None
    assert normalize(f, None) is None
    assert normalize(f, "") is None


def test_text_keeps_name_variant_kanji() -> None:
    # 神 (U+FA19) is a CJK compatibility ideograph that NFKC would turn into 神 (U+795E).
    assert normalize(make("text"), "\ufa19田") == "\ufa19田"
    assert nfkc("\ufa19１") == "\ufa191"


def test_textarea_keeps_lines() -> None:
    f = make("textarea")
    assert normalize(f, "一行目\r\n二行目  \r\n\r\n四行目") == "一行目\n二行目\n\n四行目"


def test_too_long() -> None:
    f = make("text", max_length=5)
    assert normalize(f, "１２３４５") == "12345"
    p = problem(f, "123456")
    assert (p.code, p.params) == ("too_long", {"max": 5})
    assert problem(make("text"), "x" * 201).params == {"max": 200}
    assert problem(make("address"), "x" * 301).params == {"max": 300}
    assert normalize(make("textarea"), "x" * 2000) == "x" * 2000


def test_text_refuses_structures() -> None:
    assert problem(make("text"), {"a": 1}).code == "invalid_text"
    assert normalize(make("text"), ["one"]) == "one"
    assert normalize(make("text"), 42) == "42"


# --- email, phone, postal code ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("taro@example.jp", "taro@example.jp"),
        ("  Taro.Iga+x@Example.JP ", "Taro.Iga+x@example.jp"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp"),
    ],
)
def test_email(raw: str, expected: str) -> None:
    assert normalize(make("email"), raw) == expected


@pytest.mark.parametrize(
    "raw", ["taro", "taro@", "@example.jp", "taro@example", "a@b..jp", "a b@c.jp", "a@-x.jp"]
)
def test_invalid_email(raw: str) -> None:
    assert problem(make("email"), raw).code == "invalid_email"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0595-22-2500", "0595-22-2500"),
        ("0595222500", "0595-22-2500"),
        ("０５９５－２２－２５００", "0595-22-2500"),
        ("0595ー22ー2500", "0595-22-2500"),
        ("(0595) 22-2500", "0595-22-2500"),
        ("0595 22 2500", "0595-22-2500"),
        ("09012345678", "090-1234-5678"),
        ("090-1234-5678", "090-1234-5678"),
        ("+81 90 1234 5678", "090-1234-5678"),
        ("+81-595-22-2500", "0595-22-2500"),
        ("+81 (0)595-22-2500", "0595-22-2500"),
        ("0312345678", "03-1234-5678"),
        ("059-224-1234", "059-224-1234"),  # well-formed: kept as typed
        ("0592241234", "059-224-1234"),
        ("0120123456", "0120-123-456"),
        ("08001234567", "0800-123-4567"),
        ("0595--22--2500", "0595-22-2500"),
    ],
)
def test_phone(raw: str, expected: str) -> None:
    assert normalize(make("phone"), raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "12345",
        "595222500",
        "1595222500",
        "059522250012",
        "0595-22-25OO",
        "+1 212 555 0100",
        "0012345678",
    ],
)
def test_invalid_phone(raw: str) -> None:
    assert problem(make("phone"), raw).code == "invalid_phone"


@given(st.from_regex(r"0[1-9][0-9]{8,9}", fullmatch=True))
def test_phone_formats_every_valid_number_and_is_idempotent(digits: str) -> None:
    f = make("phone")
    value = normalize(f, digits)
    assert value.replace("-", "") == digits
    assert value.count("-") == 2
    assert normalize(f, value) == value
    assert format_phone(digits) == value


@pytest.mark.parametrize(
    "raw", ["518-8501", "5188501", "〒518-8501", "〒５１８－８５０１", " 518 8501 ", "518ー8501"]
)
def test_postal_code(raw: str) -> None:
    assert normalize(make("postal_code"), raw) == "518-8501"


@pytest.mark.parametrize("raw", ["518-850", "51885011", "abc-defg", "518_8501"])
def test_invalid_postal_code(raw: str) -> None:
    assert problem(make("postal_code"), raw).code == "invalid_postal_code"


# --- number ---------------------------------------------------------------------------------


def test_number() -> None:
    f = make("number", min=0, max=10)
    assert normalize(f, "３") == 3
    assert normalize(f, 7) == 7
    assert normalize(f, 7.0) == 7
    assert normalize(f, "") is None
    assert normalize(make("number"), "1,234") == 1234
    assert normalize(make("number"), "-5") == -5
    assert problem(f, "-1").code == "too_small"
    assert problem(f, "-1").params == {"min": 0}
    assert problem(f, "11").params == {"max": 10}
    for bad in ("1.5", "abc", "1e3", True, 2.5, [1, 2]):
        assert problem(f, bad).code == "not_a_number"


# --- date -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2026-11-26",
        "2026/11/26",
        "令和8年11月26日",
        "R8.11.26",
        "２０２６年１１月２６日",
        {"era": "R", "year": "8", "month": "11", "day": "26"},
        {"era": "令和", "year": "８", "month": "11", "day": "26"},
        {"era": "", "year": "2026", "month": "11", "day": "26"},
        {"era": "AD", "year": "2026", "month": "11", "day": "26"},
        {"year": 2026, "month": 11, "day": 26},
        date(2026, 11, 26),
    ],
)
def test_date(raw: Any) -> None:
    assert normalize(make("date"), raw, today=TODAY) == "2026-11-26"


def test_date_first_year_of_era_in_parts() -> None:
    assert normalize(make("date"), {"era": "R", "year": "元", "month": "5", "day": "1"}) == (
        "2019-05-01"
    )


@pytest.mark.parametrize(
    "raw",
    [
        "2026-02-30",
        "someday",
        {"era": "H", "year": "32", "month": "1", "day": "1"},
        {"era": "R", "year": "8", "month": "", "day": "26"},
        {"era": "X", "year": "8", "month": "1", "day": "1"},
        {"era": "", "year": "26", "month": "1", "day": "1"},
        12,
    ],
)
def test_invalid_date(raw: Any) -> None:
    assert problem(make("date"), raw).code == "invalid_date"


def test_empty_date() -> None:
    f = make("date")
    assert normalize(f, "") is None
    assert normalize(f, {"era": "R", "year": "", "month": "", "day": ""}) is None
    assert normalize(f, None) is None


def test_date_bounds_with_today() -> None:
    f = make("date", min="2000-01-01", max="today")
    assert normalize(f, "2026-11-26", today=TODAY) == "2026-11-26"
    p = problem(f, "2026-11-27", today=TODAY)
    assert (p.code, p.params) == ("date_too_late", {"max": "2026-11-26"})
    p = problem(f, "1999-12-31", today=TODAY)
    assert (p.code, p.params) == ("date_too_early", {"min": "2000-01-01"})
    g = make("date", min="today")
    assert problem(g, "2026-11-25", today=TODAY).code == "date_too_early"


# --- name -----------------------------------------------------------------------------------

TARO = {"family": "伊賀", "given": "太郎", "family_kana": "イガ", "given_kana": "タロウ"}


def test_name() -> None:
    f = make("name")
    raw = {"family": " 伊賀 ", "given": "太郎", "family_kana": "いが", "given_kana": "ﾀﾛｳ"}
    assert normalize(f, raw) == TARO
    assert normalize(f, TARO) == TARO
    assert normalize(f, {"family": "", "given": ""}) is None


def test_name_readings_must_be_kana() -> None:
    f = make("name")
    assert problem(f, {**TARO, "given_kana": "Taro"}).code == "kana_only"
    assert problem(f, {**TARO, "given_kana": "太郎"}).code == "kana_only"
    ok = normalize(f, {**TARO, "family_kana": "スミス", "given_kana": "ジョン・ポール"})
    assert ok["given_kana"] == "ジョン・ポール"
    assert normalize(f, {**TARO, "given_kana": "ゆーすけ"})["given_kana"] == "ユースケ"


def test_kana_helper() -> None:
    assert kana("  いが　たろう ") == "イガ タロウ"
    assert kana("ｲｶﾞ") == "イガ"
    assert kana("") == ""
    with pytest.raises(ValueProblem):
        kana("iga")


def test_name_incomplete() -> None:
    f = make("name")
    p = problem(f, {"family": "伊賀", "given": "", "family_kana": "", "given_kana": ""})
    assert p.code == "name_incomplete"
    assert p.params["parts"] == ["given", "family_kana", "given_kana"]
    optional = make("name", required=False)
    assert normalize(optional, {"family": "伊賀", "given": "太郎"}) == {
        "family": "伊賀",
        "given": "太郎",
        "family_kana": "",
        "given_kana": "",
    }
    assert problem(optional, {"family": "伊賀"}).code == "name_incomplete"
    assert problem(f, ["伊賀"]).code == "name_incomplete"


# --- choices --------------------------------------------------------------------------------


def test_choice_and_select() -> None:
    for t in ("choice", "select"):
        f = make(t)
        assert normalize(f, "b") == "b"
        assert normalize(f, ["b"]) == "b"
        assert normalize(f, "") is None
        assert problem(f, "z").code == "invalid_choice"


def test_multichoice() -> None:
    f = make("multichoice")
    assert normalize(f, ["c", "a", "a"]) == ["a", "c"]  # the form's order, once each
    assert normalize(f, "b") == ["b"]
    assert normalize(f, []) is None
    assert normalize(f, ["", " "]) is None
    assert problem(f, ["a", "z"]).code == "invalid_choice"
    assert problem(f, [1]).code == "invalid_choice"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("yes", True), ("no", False), (True, False), ("はい", True), ("いいえ", False), ("", None)],
)
def test_yesno(raw: Any, expected: bool | None) -> None:
    if raw is True:
        expected = True
    assert normalize(make("yesno"), raw) is expected


def test_yesno_invalid() -> None:
    assert problem(make("yesno"), "maybe").code == "invalid_choice"
    assert problem(make("yesno"), 3).code == "invalid_choice"


def test_consent() -> None:
    f = make("consent")
    assert f.required
    assert normalize(f, "on") is True
    assert normalize(f, True) is True
    assert normalize(f, None) is None
    assert normalize(f, False) is None
    assert normalize(f, "") is None


# --- file, signature ------------------------------------------------------------------------


def test_file() -> None:
    f = make("file")
    assert normalize(f, [3, 1, 3]) == [3, 1]
    assert normalize(f, ["4"]) == [4]
    assert normalize(f, 5) == [5]
    assert normalize(f, []) is None
    for bad in (["x"], [0], [True], [-1], [1.5]):
        assert problem(f, bad).code == "invalid_file"
    assert problem(f, list(range(1, 12))).code == "too_many_items"


def test_signature() -> None:
    f = make("signature")
    assert normalize(f, {"typed": " 伊賀　太郎 "}) == {"typed": "伊賀 太郎"}
    assert normalize(f, {"attachment": 12}) == {"attachment": 12}
    assert normalize(f, {"typed": "伊賀 太郎", "attachment": "12"}) == {
        "typed": "伊賀 太郎",
        "attachment": 12,
    }
    assert normalize(f, "伊賀 太郎") == {"typed": "伊賀 太郎"}
    assert normalize(f, {}) is None
    assert normalize(f, {"typed": ""}) is None
    for bad in ({"attachment": "x"}, {"drawn": "data:"}, {"typed": 3}, 7, {"attachment": [1, 2]}):
        assert problem(f, bad).code == "invalid_signature"


# --- group ----------------------------------------------------------------------------------


def test_group() -> None:
    f = make("group", min_items=1, max_items=2)
    child = {"name": TARO, "birthdate": "R2.4.1"}
    assert normalize(f, [child, {}]) == [{"name": TARO, "birthdate": "2020-04-01"}]
    assert normalize(f, {"0": child}) == [{"name": TARO, "birthdate": "2020-04-01"}]
    assert normalize(f, []) is None
    assert problem(f, [child, child, child]).code == "too_many_items"
    p = problem(f, [{}, {"name": TARO, "birthdate": "never"}])
    assert (p.code, p.path) == ("invalid_date", "1.birthdate")
    p = problem(f, [{"birthdate": "2020-01-01"}])
    assert (p.code, p.path) == ("required", "0.name")
    three = make("group", min_items=2, max_items=3)
    assert problem(three, [child]).params == {"min": 2}


def test_info_has_no_value() -> None:
    assert normalize(make("info"), "anything") is None


# --- idempotence ----------------------------------------------------------------------------

SAMPLES: list[tuple[str, dict[str, Any], Any]] = [
    ("text", {}, "ＡＢＣ　伊賀"),
    ("textarea", {}, "一\r\n二"),
    ("address", {}, "三重県伊賀市上野丸之内１１６"),
    ("email", {}, "Taro@Example.JP"),
    ("phone", {}, "+81 595 22 2500"),
    ("postal_code", {}, "〒５１８８５０１"),
    ("number", {}, "１,０００"),
    ("date", {"calendar": "wareki"}, "令和元年5月1日"),
    (
        "name",
        {},
        {"family": "伊賀", "given": "太郎", "family_kana": "いが", "given_kana": "たろう"},
    ),
    ("choice", {}, "a"),
    ("select", {}, "c"),
    ("multichoice", {}, ["c", "a"]),
    ("yesno", {}, "no"),
    ("consent", {}, "on"),
    ("file", {}, ["2", 1]),
    ("signature", {}, {"typed": "伊賀 太郎", "attachment": "9"}),
    ("group", {}, [{"name": TARO, "birthdate": "H1.1.8"}]),
]


@pytest.mark.parametrize(("type_", "extra", "raw"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_normalize_is_idempotent(type_: str, extra: dict[str, Any], raw: Any) -> None:
    f = make(type_, **extra)
    once = normalize(f, raw, today=TODAY)
    assert once is not None
    assert normalize(f, once, today=TODAY) == once
    assert not is_empty(f, once)


@given(st.text(max_size=300))
def test_text_normalize_never_crashes_and_is_idempotent(raw: str) -> None:
    f = make("textarea")
    value = normalize(f, raw)
    if value is not None:
        assert value == value.strip()
        assert normalize(f, value) == value


@given(st.dates(min_value=date(1873, 1, 1), max_value=date(2100, 12, 31)))
def test_date_normalize_round_trip(d: date) -> None:
    f = make("date", calendar="wareki")
    assert normalize(f, d.isoformat()) == d.isoformat()


@given(
    st.one_of(
        st.none(),
        st.text(max_size=30),
        st.integers(),
        st.booleans(),
        st.lists(st.text(max_size=5), max_size=3),
        st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4),
    ),
    st.sampled_from([s[0] for s in SAMPLES] + ["info"]),
)
def test_normalize_raises_only_value_problem(raw: Any, type_: str) -> None:
    f = make(type_)
    try:
        value = normalize(f, raw, today=TODAY)
    except ValueProblem:
        return
    if value is not None:
        assert normalize(f, value, today=TODAY) == value
    assert coerce(f, raw) is None or True  # coerce never raises either


# --- is_empty -------------------------------------------------------------------------------


def test_is_empty() -> None:
    assert is_empty(make("text"), None)
    assert is_empty(make("text"), "  ")
    assert not is_empty(make("text"), "x")
    assert is_empty(make("name"), {"family": "", "given": ""})
    assert not is_empty(make("name"), TARO)
    assert is_empty(make("multichoice"), [])
    assert not is_empty(make("yesno"), False)
    assert is_empty(make("consent"), False)
    assert not is_empty(make("number"), 0)
    assert is_empty(make("group"), [{}, {"name": {"family": ""}}])
    assert not is_empty(make("group"), [{"name": TARO}])
    assert is_empty(make("date"), {"era": "R", "year": "", "month": "", "day": ""})


# --- coerce (prefill) -----------------------------------------------------------------------


def test_coerce_name_from_full_name() -> None:
    f = make("name")
    expected = {"family": "伊賀", "given": "太郎", "family_kana": "", "given_kana": ""}
    assert coerce(f, "伊賀 太郎") == expected
    assert coerce(f, "伊賀　太郎") == expected
    assert coerce(f, "  伊賀   太郎 ") == expected
    assert coerce(f, "Smith John Paul")["given"] == "John Paul"
    assert coerce(f, "伊賀")["given"] == ""
    assert coerce(f, TARO) == TARO
    assert coerce(f, {**TARO, "given_kana": "たろう"})["given_kana"] == "タロウ"
    assert coerce(f, {**TARO, "given_kana": "Taro"})["given_kana"] == ""
    assert coerce(f, "") is None
    assert coerce(f, 12) is None


def test_coerce_dates_and_codes() -> None:
    assert coerce(make("date"), "1980-04-01") == "1980-04-01"
    assert coerce(make("date"), date(1980, 4, 1)) == "1980-04-01"
    assert coerce(make("date"), "昭和55年4月1日") == "1980-04-01"
    assert coerce(make("date"), "") is None
    assert coerce(make("date"), "unknown") is None
    assert coerce(make("date", max="2000-01-01"), "2026-01-01") is None
    assert coerce(make("postal_code"), "5188501") == "518-8501"
    assert coerce(make("postal_code"), "〒518-8501") == "518-8501"
    assert coerce(make("postal_code"), "518") is None
    assert coerce(make("phone"), "0595222500") == "0595-22-2500"
    assert coerce(make("phone"), "n/a") is None
    assert coerce(make("email"), "taro@example.jp") == "taro@example.jp"
    assert coerce(make("email"), "") is None


def test_coerce_text_and_choices() -> None:
    assert coerce(make("text"), "三重県伊賀市") == "三重県伊賀市"
    assert coerce(make("text"), 5) == "5"
    assert coerce(make("text"), TARO) == "伊賀 太郎"
    assert coerce(make("text", max_length=3), "too long") is None
    assert coerce(make("address"), "三重県伊賀市上野丸之内116") == "三重県伊賀市上野丸之内116"
    assert coerce(make("choice"), "b") == "b"
    assert coerce(make("choice"), "い") == "b"  # by its Japanese label
    assert coerce(make("choice"), "C") == "c"  # by its English label
    assert coerce(make("choice"), "zzz") is None
    assert coerce(make("multichoice"), ["a", "zzz", "う"]) == ["a", "c"]
    assert coerce(make("multichoice"), ["zzz"]) is None
    assert coerce(make("yesno"), True) is True
    assert coerce(make("yesno"), "no") is False
    assert coerce(make("number"), "42") == 42
    assert coerce(make("number"), "many") is None


def test_coerce_never_carries_consent_files_or_signatures() -> None:
    assert coerce(make("consent"), True) is None
    assert coerce(make("file"), [1, 2]) is None
    assert coerce(make("signature"), {"typed": "伊賀 太郎"}) is None
    assert coerce(make("info"), "x") is None


def test_coerce_group() -> None:
    f = make("group", max_items=2)
    items = [{"name": "伊賀 花子", "birthdate": "2020-04-01"}, "junk", {"other": 1}]
    assert coerce(f, items) == [
        {
            "name": {"family": "伊賀", "given": "花子", "family_kana": "", "given_kana": ""},
            "birthdate": "2020-04-01",
        }
    ]
    assert coerce(f, "nope") is None


@given(
    st.one_of(
        st.none(),
        st.text(max_size=30),
        st.integers(),
        st.floats(allow_nan=True),
        st.booleans(),
        st.dates().map(date.isoformat),
        st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
        st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=8), st.none())),
    ),
    st.sampled_from([t.value for t in FieldType]),
)
def test_coerce_never_raises_and_fits(value: Any, type_: str) -> None:
    f = make(type_)
    result = coerce(f, value)
    if result is not None and f.type not in (FieldType.NAME, FieldType.GROUP):
        # Whatever prefill gives is already a valid answer (a name may lack its reading).
        assert normalize(f, result) == result
