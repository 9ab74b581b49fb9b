"""The chat service: what it answers (best answer, clarify, nothing found), bad questions,
who may see a conversation, feedback counters and the hand-over to a person.

The FAQ rows are real and the real search finds them (``services.search.search``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404
from django.test import RequestFactory
from django.utils import translation

from cityhall.core.models import AuditEvent
from cityhall.inquiries.models import ChatTurn, Conversation, FaqEntry, FaqText, Ticket
from cityhall.inquiries.services import chat, search
from cityhall.inquiries.services.search import Hit
from cityhall.people.models import Department
from tests.conftest import make_resident

pytestmark = pytest.mark.django_db


def make_faq() -> dict[str, FaqEntry]:
    """A small FAQ: garbage days, a bulky-waste pair that reads alike, a passport entry."""
    dept, _ = Department.objects.get_or_create(
        code="shimin-seikatsu", defaults={"name": "市民生活課", "phone": "0595-22-9624"}
    )
    rows = {
        "gomi-001": (
            "燃えるごみの収集日はいつですか",
            "燃えるごみは地区ごとに週2回収集します。ごみカレンダーで収集日を確かめてください。",
            "When is burnable garbage collected?",
            "Burnable garbage is collected twice a week in each district. "
            "Check the garbage calendar.",
            ["gomi-calendar"],
        ),
        "sodai-001": (
            "粗大ごみの出し方を教えてください",
            "粗大ごみは申し込みが必要です。粗大ごみ受付センターに電話してください。",
            "How do I put out bulky waste?",
            "Bulky waste needs an application. Call the bulky waste centre.",
            [],
        ),
        "sodai-002": (
            "粗大ごみの出し方を教えてください（家具）",
            "家具の粗大ごみは申し込みが必要です。粗大ごみ受付センターに電話してください。",
            "How do I put out bulky waste (furniture)?",
            "Furniture as bulky waste needs an application. Call the bulky waste centre.",
            [],
        ),
        "passport-001": (
            "パスポートはどこで申請できますか",
            "パスポートは市役所の市民課窓口で申請できます。戸籍謄本と写真が必要です。",
            "Where can I apply for a passport?",
            "You can apply at the citizens' counter of the city hall. "
            "Bring a family register copy and a photo.",
            [],
        ),
    }
    entries = {}
    for key, (q_ja, a_ja, q_en, a_en, procs) in rows.items():
        entry = FaqEntry.objects.create(
            key=key,
            category="garbage" if key != "passport-001" else "residency",
            department=dept,
            procedures=procs,
            url=f"https://www.city.iga.lg.jp/faq/{key}.html",
        )
        FaqText.objects.create(entry=entry, language="ja", question=q_ja, answer=a_ja)
        FaqText.objects.create(entry=entry, language="en", question=q_en, answer=a_en)
        entries[key] = entry
    search.invalidate()
    return entries


def hit(key: str, score: float) -> Hit:
    return Hit(key=key, score=score, question=key, answer="…", language="ja")


# --- deciding (pure) -----------------------------------------------------------------------


def test_decide_best_answer_clarify_and_nothing(settings: Any) -> None:
    settings.FAQ_MIN_SCORE = 1.0
    settings.FAQ_CLARIFY_MARGIN = 0.12
    answers, clarify, nothing = chat.decide([hit("a", 10.0), hit("b", 5.0), hit("c", 0.5)])
    assert [h.key for h in answers] == ["a", "b"] and not clarify and not nothing
    answers, clarify, nothing = chat.decide([hit("a", 10.0), hit("b", 8.9)])
    assert clarify and not nothing and [h.key for h in answers] == ["a", "b"]
    answers, clarify, nothing = chat.decide([hit("a", 10.0), hit("b", 8.7)])
    assert not clarify  # 13 % apart: outside the margin
    assert chat.decide([hit("a", 0.9)]) == ([], False, True)
    assert chat.decide([]) == ([], False, True)


# --- asking ---------------------------------------------------------------------------------


def test_ask_stores_turns_counts_shown_and_answers_best_first() -> None:
    faq = make_faq()
    reply = chat.ask(question="燃えるごみの収集日", language="ja")
    assert not reply.nothing_found and not reply.clarify
    assert reply.answers[0].key == "gomi-001"
    assert reply.answers[0].question == "燃えるごみの収集日はいつですか"
    assert len(reply.answers) <= chat.SHOWN
    turns = list(reply.conversation.turns.all())
    assert [t.role for t in turns] == [ChatTurn.Role.RESIDENT, ChatTurn.Role.ASSISTANT]
    assert turns[0].text == "燃えるごみの収集日"
    assert turns[1].results[0]["id"] == "gomi-001"
    assert isinstance(turns[1].results[0]["score"], float)
    assert not turns[1].generated  # no LLM configured
    faq["gomi-001"].refresh_from_db()
    assert faq["gomi-001"].shown_count == 1
    # a follow-up in the same conversation, in English
    again = chat.ask(
        question="Where can I apply for a passport?", language="en", conversation=reply.conversation
    )
    assert again.conversation.pk == reply.conversation.pk
    assert again.answers[0].key == "passport-001"
    assert again.answers[0].language == "en"
    assert reply.conversation.turns.count() == 4


def test_two_close_entries_ask_which_one() -> None:
    make_faq()
    reply = chat.ask(question="粗大ごみの出し方", language="ja")
    assert reply.clarify
    assert {h.key for h in reply.answers[:2]} == {"sodai-001", "sodai-002"}
    assert reply.generated is None


def test_nothing_found_says_so() -> None:
    make_faq()
    reply = chat.ask(question="ロケットの打ち上げ", language="ja")
    assert reply.nothing_found and reply.answers == [] and not reply.clarify
    assert FaqEntry.objects.filter(shown_count__gt=0).count() == 0
    assert reply.turn.role == ChatTurn.Role.ASSISTANT


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "Please type your question."),
        ("   \n\t ", "Please type your question."),
        ("🙂🙂🙏", "Please ask your question in words"),
        ("<script></script>", "Please ask your question in words"),
        ("ごみ" * 5000, "shorter than 500 characters"),
    ],
)
def test_bad_questions_get_a_friendly_message(question: str, message: str) -> None:
    with translation.override("en"), pytest.raises(chat.QuestionError, match=message):
        chat.ask(question=question, language="en")
    assert not Conversation.objects.exists()


def test_script_tags_are_searched_as_text_and_stored_as_typed() -> None:
    make_faq()
    reply = chat.ask(question="<script>alert(1)</script> パスポート", language="ja")
    assert reply.question_turn.text == "<script>alert(1)</script> パスポート"
    assert reply.answers and reply.answers[0].key == "passport-001"


def test_a_question_of_exactly_500_characters_is_taken() -> None:
    assert len(chat.clean_question("あ" * 500)) == 500


# --- ownership ------------------------------------------------------------------------------


def _request(user: Any = None, session: dict[str, Any] | None = None) -> Any:
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = user or AnonymousUser()
    request.session = session if session is not None else {}  # type: ignore[assignment]
    return request


def test_conversation_belongs_to_its_user_or_its_session() -> None:
    make_faq()
    hanako = make_resident("hanako@example.jp")
    taro = make_resident("taro@example.jp")
    mine = chat.ask(question="パスポート", language="ja", user=hanako).conversation
    assert mine.user == hanako
    assert chat.conversation_for(_request(hanako), mine.public_id) == mine
    with pytest.raises(Http404):
        chat.conversation_for(_request(taro), mine.public_id)
    with pytest.raises(Http404):
        chat.conversation_for(_request(), mine.public_id)  # logged out

    anonymous = chat.ask(question="パスポート", language="ja").conversation
    assert anonymous.user is None
    request = _request()
    chat.remember(request, anonymous)
    assert chat.conversation_for(request, anonymous.public_id) == anonymous
    with pytest.raises(Http404):
        chat.conversation_for(_request(), anonymous.public_id)  # another browser
    with pytest.raises(Http404):
        chat.conversation_for(_request(taro), anonymous.public_id)
    with pytest.raises(Http404):
        chat.conversation_for(request, "00000000-0000-0000-0000-000000000000")


# --- feedback -------------------------------------------------------------------------------


def test_feedback_counts_once_on_the_first_answer() -> None:
    faq = make_faq()
    reply = chat.ask(question="燃えるごみの収集日", language="ja")
    turn = chat.feedback(reply.conversation, reply.turn.pk, True)
    assert turn.feedback == ChatTurn.Feedback.HELPED
    chat.feedback(reply.conversation, reply.turn.pk, False)  # changes nothing
    faq["gomi-001"].refresh_from_db()
    assert (faq["gomi-001"].helpful_count, faq["gomi-001"].unhelpful_count) == (1, 0)

    other = chat.ask(question="燃えるごみの収集日", language="ja")
    turn = chat.feedback(other.conversation, other.turn.pk, False)
    assert turn.feedback == ChatTurn.Feedback.NOT_HELPED
    faq["gomi-001"].refresh_from_db()
    assert (faq["gomi-001"].helpful_count, faq["gomi-001"].unhelpful_count) == (1, 1)
    # a turn of another conversation, or a resident's turn: not found
    with pytest.raises(Http404):
        chat.feedback(reply.conversation, other.turn.pk, True)
    with pytest.raises(Http404):
        chat.feedback(reply.conversation, reply.question_turn.pk, True)


# --- hand-over ------------------------------------------------------------------------------


def test_handover_opens_a_chat_ticket_with_the_transcript(smtp_server: Any) -> None:
    make_faq()
    hanako = make_resident("hanako@example.jp")
    reply = chat.ask(question="燃えるごみの収集日はいつ？" + "あ" * 100, language="ja", user=hanako)
    chat.ask(question="宇宙旅行の補助金", language="ja", conversation=reply.conversation)
    chat.feedback(reply.conversation, reply.turn.pk, False)
    ticket = chat.handover(reply.conversation, user=hanako, note="地区はどこですか？")
    assert isinstance(ticket, Ticket)
    assert ticket.channel == "chat" and ticket.resident == hanako
    assert ticket.conversation == reply.conversation
    assert ticket.subject == ("燃えるごみの収集日はいつ？" + "あ" * 100)[:80]
    body = ticket.messages.get(kind="resident").body
    assert "燃えるごみの収集日はいつ？" in body
    assert "燃えるごみの収集日はいつですか [gomi-001]" in body
    assert "宇宙旅行の補助金" in body
    assert "地区はどこですか？" in body
    assert body.index("燃えるごみ") < body.index("宇宙旅行") < body.index("地区はどこ")
    assert AuditEvent.objects.filter(action="inquiries.chat.handed_over").exists()


def test_anonymous_handover_needs_an_email_address(smtp_server: Any) -> None:
    make_faq()
    reply = chat.ask(question="パスポート", language="en")
    with pytest.raises(chat.QuestionError):
        chat.handover(reply.conversation, email="  ")
    assert not Ticket.objects.exists()
    ticket = chat.handover(reply.conversation, name="Ana", email="ana@example.com", note="")
    assert ticket.email == "ana@example.com" and ticket.name == "Ana" and ticket.resident is None
    assert ticket.language == "en"
