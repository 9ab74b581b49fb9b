"""The default CITYHALL_FAQ_MIN_SCORE against the city's real FAQ: resident questions get
answers, off-topic ones get "nothing found" and the offer of a person."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from cityhall.inquiries.services import chat, search

pytestmark = pytest.mark.django_db

DEFAULT_MIN_SCORE = 40.0


@pytest.fixture
def city_faq(settings: Any) -> None:
    from cityhall.people.seed import load_departments

    settings.FAQ_MIN_SCORE = DEFAULT_MIN_SCORE
    load_departments()
    call_command("seed_faq", stdout=StringIO())
    search.invalidate()


def test_the_shipped_default_is_the_calibrated_one() -> None:
    from cityhall.core.env import REGISTRY

    assert float(REGISTRY["CITYHALL_FAQ_MIN_SCORE"].default) == DEFAULT_MIN_SCORE


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("粗大ごみを出したい", "gomi-010"),
        ("じゅうみんひょう とりたい", None),
        ("子どもが生まれたら何をすればいい", None),
    ],
)
def test_resident_questions_are_answered(city_faq: None, question: str, expected: Any) -> None:
    reply = chat.ask(question=question, language="ja")
    assert not reply.nothing_found
    assert reply.answers
    if expected:
        assert expected in [hit.key for hit in reply.answers]


@pytest.mark.parametrize(
    "question", ["ピザを注文したい", "好きな食べ物", "hello", "こんにちは", "ありがとう", "株価"]
)
def test_off_topic_questions_find_nothing(city_faq: None, question: str) -> None:
    reply = chat.ask(question=question, language="ja")
    assert reply.nothing_found
