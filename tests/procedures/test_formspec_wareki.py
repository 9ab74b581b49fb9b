"""The Japanese calendar: eras, round trips and the forgiving date parser."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityhall.procedures.formspec import wareki
from cityhall.procedures.formspec.wareki import (
    ERAS,
    era,
    format_wareki,
    from_wareki,
    parse_date,
    to_wareki,
)

DATES = st.dates(min_value=date(1873, 1, 1), max_value=date(2100, 12, 31))


def test_eras_are_contiguous_and_official() -> None:
    starts = [(e.kanji, e.letter, e.name, e.start) for e in ERAS]
    assert starts == [
        ("明治", "M", "Meiji", date(1868, 10, 23)),
        ("大正", "T", "Taisho", date(1912, 7, 30)),
        ("昭和", "S", "Showa", date(1926, 12, 25)),
        ("平成", "H", "Heisei", date(1989, 1, 8)),
        ("令和", "R", "Reiwa", date(2019, 5, 1)),
    ]
    for before, after in pairwise(ERAS):
        assert before.end == after.start - timedelta(days=1)
    assert ERAS[-1].end is None


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2026, 11, 26), "令和8年11月26日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1912, 7, 29), "明治45年7月29日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1873, 1, 1), "明治6年1月1日"),
    ],
)
def test_format_wareki(d: date, expected: str) -> None:
    assert format_wareki(d) == expected


def test_to_wareki() -> None:
    e, year = to_wareki(date(2026, 11, 26))
    assert (e.kanji, year) == ("令和", 8)
    with pytest.raises(ValueError):
        to_wareki(date(1868, 10, 22))


@pytest.mark.parametrize("code", ["令和", "R", "r", "Reiwa", "reiwa", "㋿", "Ｒ"])
def test_era_codes(code: str) -> None:
    assert era(code).kanji == "令和"


def test_era_alternative_romaji() -> None:
    assert era("Shouwa").kanji == "昭和"
    assert era("taishou").kanji == "大正"
    assert era("㍻").kanji == "平成"
    with pytest.raises(ValueError):
        era("X")


def test_from_wareki_is_strict_about_era_bounds() -> None:
    assert from_wareki("H", 31, 4, 30) == date(2019, 4, 30)
    assert from_wareki("令和", 1, 5, 1) == date(2019, 5, 1)
    for args in [
        ("H", 31, 5, 1),  # that is 令和元年
        ("平成", 32, 1, 1),
        ("R", 1, 4, 30),  # before 令和 began
        ("S", 64, 1, 8),
        ("R", 0, 5, 1),
        ("R", 8, 2, 30),
        ("R", 8, 13, 1),
        ("Q", 1, 1, 1),
    ]:
        with pytest.raises(ValueError):
            from_wareki(*args)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26", date(2026, 11, 26)),
        ("2026/11/26", date(2026, 11, 26)),
        ("2026/1/5", date(2026, 1, 5)),
        ("2026.11.26", date(2026, 11, 26)),
        ("2026年11月26日", date(2026, 11, 26)),
        ("西暦2026年11月26日", date(2026, 11, 26)),
        ("20261126", date(2026, 11, 26)),
        ("令和8年11月26日", date(2026, 11, 26)),
        ("令和８年１１月２６日", date(2026, 11, 26)),
        ("　令和 8 年 11 月 26 日　", date(2026, 11, 26)),
        ("R8.11.26", date(2026, 11, 26)),
        ("R08/11/26", date(2026, 11, 26)),
        ("r8-11-26", date(2026, 11, 26)),
        ("Ｒ８．１１．２６", date(2026, 11, 26)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("令和1年5月1日", date(2019, 5, 1)),
        ("H31.4.30", date(2019, 4, 30)),
        ("㍼64年1月7日", date(1989, 1, 7)),
        ("S64.1.7", date(1989, 1, 7)),
        ("Heisei 1.1.8", date(1989, 1, 8)),
        ("２０２６－１１－２６", date(2026, 11, 26)),
        ("2026ー11ー26", date(2026, 11, 26)),
        ("令和8年11月26", date(2026, 11, 26)),
    ],
)
def test_parse_date_accepts(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "tomorrow",
        "2026-13-01",
        "2026-02-30",
        "平成32年1月1日",
        "平成31年5月1日",
        "R8.2.30",
        "X8.1.1",
        "26/11/2026",
        "令和年5月1日",
        "2026-11",
        "令和8年11月26日2",
    ],
)
def test_parse_date_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


def test_parse_date_refuses_non_text() -> None:
    with pytest.raises(ValueError):
        parse_date(20261126)  # type: ignore[arg-type]


@given(DATES)
def test_round_trip_through_era_year(d: date) -> None:
    e, year = to_wareki(d)
    assert from_wareki(e.letter, year, d.month, d.day) == d
    assert from_wareki(e.kanji, year, d.month, d.day) == d
    assert from_wareki(e, year, d.month, d.day) == d


@given(DATES)
def test_parse_formatted(d: date) -> None:
    assert parse_date(format_wareki(d)) == d
    e, year = to_wareki(d)
    assert parse_date(f"{e.letter}{year:02d}.{d.month}.{d.day}") == d
    assert parse_date(d.isoformat()) == d
    assert parse_date(d.strftime("%Y/%m/%d")) == d
    assert parse_date(f"{d.year}年{d.month}月{d.day}日") == d


@given(DATES)
def test_parse_full_width(d: date) -> None:
    full = format_wareki(d).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert parse_date(full) == d


@given(st.sampled_from(ERAS[1:]))
def test_era_boundaries(e: wareki.Era) -> None:
    previous = ERAS[ERAS.index(e) - 1]
    last_day = e.start - timedelta(days=1)
    assert to_wareki(e.start) == (e, 1)
    assert to_wareki(last_day)[0] == previous
    assert format_wareki(e.start).startswith(f"{e.kanji}元年")
    # The first day of an era cannot be written in the old era, nor the day before in the new.
    with pytest.raises(ValueError):
        from_wareki(previous, previous.year_of(e.start), e.start.month, e.start.day)
    with pytest.raises(ValueError):
        from_wareki(e, 1, last_day.month, last_day.day)


@given(DATES, st.integers(min_value=1, max_value=99))
def test_any_era_year_either_parses_to_its_date_or_is_refused(d: date, year: int) -> None:
    e = wareki.era_of(d)
    try:
        result = from_wareki(e, year, d.month, d.day)
    except ValueError:
        return
    assert to_wareki(result) == (e, year)
