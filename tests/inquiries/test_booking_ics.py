"""The .ics files (RFC 5545), parsed back by hand: CRLF, lines of at most 75 octets,
unfolding, escaping and the required properties."""

from __future__ import annotations

import datetime as dt

from cityhall.inquiries.services import ics


def unfold(text: str) -> list[str]:
    assert text.endswith("\r\n")
    raw_lines = text.split("\r\n")[:-1]
    for line in raw_lines:
        assert "\n" not in line and "\r" not in line
        assert len(line.encode("utf-8")) <= 75, line
    lines: list[str] = []
    for line in raw_lines:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def props(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        out.setdefault(name, value)
    return out


def unescape(value: str) -> str:
    return value.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")


START = dt.datetime(2026, 4, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def event(**extra: object) -> ics.Event:
    values: dict[str, object] = {
        "uid": "B-ABC234@city.example",
        "starts_at": START,
        "ends_at": START + dt.timedelta(minutes=45),
        "summary": "子育て相談 (伊賀市)",
        "location": "本庁 市民課窓口, 〒518-8501 三重県伊賀市四十九町3184",
        "description": "予約番号 B-ABC234; 詳細, キャンセル:\nhttps://city.example/my/bookings/B-ABC234/"
        * 3,
        "stamp": dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    }
    values.update(extra)
    return ics.Event(**values)  # type: ignore[arg-type]


def test_request_has_the_required_properties_in_utc() -> None:
    lines = unfold(ics.calendar(event()))
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert lines.index("BEGIN:VEVENT") < lines.index("END:VEVENT")
    p = props(lines)
    assert p["VERSION"] == "2.0" and p["PRODID"] and p["METHOD"] == "REQUEST"
    assert p["UID"] == "B-ABC234@city.example"
    assert p["DTSTAMP"] == "20260301T000000Z"
    assert p["DTSTART"] == "20260401T010000Z"  # 10:00 in Tokyo
    assert p["DTEND"] == "20260401T014500Z"
    assert p["SEQUENCE"] == "0" and p["STATUS"] == "CONFIRMED"
    assert unescape(p["SUMMARY"]) == "子育て相談 (伊賀市)"
    assert unescape(p["LOCATION"]) == "本庁 市民課窓口, 〒518-8501 三重県伊賀市四十九町3184"
    assert unescape(p["DESCRIPTION"]) == event().description


def test_long_japanese_lines_fold_between_characters() -> None:
    text = ics.calendar(event(summary="あ" * 100))
    raw = text.split("\r\n")
    assert any(line.startswith(" ") for line in raw)
    assert unescape(props(unfold(text))["SUMMARY"]) == "あ" * 100


def test_cancel_has_method_status_and_a_higher_sequence() -> None:
    p = props(unfold(ics.calendar(event(cancelled=True, sequence=1))))
    assert (p["METHOD"], p["STATUS"], p["SEQUENCE"]) == ("CANCEL", "CANCELLED", "1")


def test_escaping() -> None:
    assert ics.escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
