"""Generated answers against an OpenAI-compatible API on loopback: the request carries the
model, the bearer key and a prompt with only the FAQ entries found; cited answers are
shown with links, anything else falls back to the plain FAQ answers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from cityhall.inquiries.services import chat, llm
from tests.inquiries.llm_server import LlmServer
from tests.inquiries.test_chat_service import make_faq

pytestmark = pytest.mark.django_db


@pytest.fixture
def llm_server(settings: Any) -> Iterator[LlmServer]:
    server = LlmServer().start()
    settings.LLM_URL = server.url
    settings.LLM_API_KEY = server.key
    settings.LLM_MODEL = "city-faq-model"
    settings.LLM_TIMEOUT = 1.0
    try:
        yield server
    finally:
        server.stop()


def test_grounded_cited_answer_is_shown_with_its_sources(llm_server: LlmServer) -> None:
    make_faq()
    llm_server.reply("燃えるごみは地区ごとに週2回です[1]。ごみカレンダーを見てください[1]。")
    reply = chat.ask(
        question="燃えるごみの収集日 hanako@example.jp 090-1234-5678 に連絡ください",
        language="ja",
    )
    assert reply.generated is not None
    assert [(c.number, c.key) for c in reply.generated.citations] == [(1, "gomi-001")]
    assert reply.turn.generated and reply.turn.text.startswith("燃えるごみは")
    (request,) = llm_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer test-llm-key"
    assert request.body["model"] == "city-faq-model"
    prompt = request.prompt
    # the FAQ entries found, numbered, with id, question, answer and source
    assert "[1] FAQ id: gomi-001" in prompt
    assert "燃えるごみの収集日はいつですか" in prompt
    assert "燃えるごみは地区ごとに週2回収集します。" in prompt
    assert "https://www.city.iga.lg.jp/faq/gomi-001.html" in prompt
    assert "Japanese" in prompt and "[n]" in prompt
    # nothing else: not the entries that were not found, no personal data
    assert "パスポート" not in prompt and "passport-001" not in prompt
    assert "hanako@example.jp" not in prompt and "090-1234-5678" not in prompt
    assert "[e-mail]" in prompt and "[phone]" in prompt
    assert len([m for m in request.body["messages"] if m["role"] == "system"]) == 1


def test_at_most_five_sources_above_the_minimum_score(settings: Any) -> None:
    from cityhall.inquiries.services.search import Hit

    settings.FAQ_MIN_SCORE = 1.0
    hits = [
        Hit(key=f"k{i}", score=10 - i, question="q", answer="a", language="ja") for i in range(9)
    ]
    assert [h.key for h in llm.sources(hits)] == ["k0", "k1", "k2", "k3", "k4"]
    low = [Hit(key="k", score=0.5, question="q", answer="a", language="ja")]
    assert llm.sources(low) == []


@pytest.mark.parametrize(
    "answer",
    ["燃えるごみは週2回です。", "燃えるごみは週2回です[4]。", "[0] です", "[1] と [9]"],
    ids=["uncited", "cites-a-number-not-given", "cites-zero", "one-bad-citation"],
)
def test_answers_citing_nothing_or_something_not_given_are_dropped(
    llm_server: LlmServer, answer: str, caplog: Any
) -> None:
    make_faq()
    llm_server.reply(answer)
    with caplog.at_level(logging.WARNING, logger="cityhall.inquiries.services.llm"):
        reply = chat.ask(question="燃えるごみの収集日", language="ja")
    assert len(llm_server.requests) == 1
    assert reply.generated is None and not reply.turn.generated and reply.turn.text == ""
    assert reply.answers[0].key == "gomi-001"  # the plain FAQ answers instead
    assert "dropped" in caplog.text


def test_slow_failing_and_garbled_answers_fall_back(
    llm_server: LlmServer, settings: Any, caplog: Any
) -> None:
    make_faq()
    settings.LLM_TIMEOUT = 0.3
    llm_server.slow(1.5)
    llm_server.fail(500)
    llm_server.fail(503)
    llm_server.garbage()
    with caplog.at_level(logging.WARNING, logger="cityhall.inquiries.services.llm"):
        for _ in range(4):
            reply = chat.ask(question="燃えるごみの収集日", language="ja")
            assert reply.generated is None
            assert reply.answers[0].key == "gomi-001"
    assert len(llm_server.requests) == 4
    assert "ReadTimeout" in caplog.text
    assert "HTTP 500" in caplog.text and "HTTP 503" in caplog.text
    assert "not JSON" in caplog.text


def test_a_wrong_key_is_a_fallback_too(llm_server: LlmServer, settings: Any) -> None:
    make_faq()
    settings.LLM_API_KEY = "wrong"
    llm_server.reply("燃えるごみは週2回です[1]。")
    reply = chat.ask(question="燃えるごみの収集日", language="ja")
    assert reply.generated is None
    assert llm_server.requests[0].headers["authorization"] == "Bearer wrong"


def test_nothing_relevant_means_no_request_at_all(llm_server: LlmServer) -> None:
    make_faq()
    reply = chat.ask(question="ロケットの打ち上げ", language="ja")
    assert reply.nothing_found and reply.generated is None
    reply = chat.ask(question="粗大ごみの出し方", language="ja")  # clarify: asks the resident
    assert reply.clarify and reply.generated is None
    assert llm_server.requests == []


def test_off_without_a_url(settings: Any) -> None:
    make_faq()
    server = LlmServer().start()
    try:
        settings.LLM_URL = ""
        reply = chat.ask(question="燃えるごみの収集日", language="ja")
        assert reply.generated is None and server.requests == []
    finally:
        server.stop()


def test_prompt_asks_for_the_residents_language(llm_server: LlmServer) -> None:
    make_faq()
    llm_server.reply("Burnable garbage is collected twice a week [1].")
    with translation.override("en"):
        reply = chat.ask(question="When is burnable garbage collected?", language="en")
    assert reply.generated is not None
    prompt = llm_server.requests[0].prompt
    assert "in English" in prompt
    assert "When is burnable garbage collected?" in prompt  # the English FAQ text


def test_generated_answer_on_the_page_links_its_citations(
    llm_server: LlmServer, client: Any
) -> None:
    make_faq()
    client.cookies["cityhall_lang"] = "en"
    llm_server.reply("Burnable garbage is collected twice a week [1].\n\nSee the calendar [1].")
    response = client.get(
        "/ask/", {"q": "When is burnable garbage collected?"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Generated from the FAQ below — check the sources." in html
    assert 'href="/faq/gomi-001/" class="chat-cite"' in html
    assert "Burnable garbage is collected twice a week" in html
    # reloading the conversation shows the stored generated answer again
    conversation = chat.Conversation.objects.get()
    page = client.get("/ask/", {"c": str(conversation.public_id)}).content.decode()
    assert page.count('class="chat-cite"') == 2


def test_strip_personal_keeps_dates_and_short_numbers() -> None:
    text = "2024-12-31 に 3 袋、電話 0595-22-2500 か +81 90 1234 5678、mail a.b+c@example.co.jp"
    cleaned = llm.strip_personal(text)
    assert "2024-12-31" in cleaned and "3 袋" in cleaned
    assert "0595-22-2500" not in cleaned and "1234 5678" not in cleaned
    assert "example.co.jp" not in cleaned and cleaned.count("[phone]") == 2


def test_procedure_pages_linked_from_the_faq_ground_the_answer(llm_server: LlmServer) -> None:
    from django.urls import reverse

    from cityhall.inquiries.models import FaqEntry
    from cityhall.inquiries.services import search
    from cityhall.inquiries.templatetags.chat_tags import cited_text
    from cityhall.people.seed import load_departments
    from cityhall.procedures.seed import load_procedures

    load_departments()
    load_procedures()
    entries = make_faq()
    FaqEntry.objects.filter(pk=entries["gomi-001"].pk).update(procedures=["katei-gomi"])
    search.invalidate()
    question = "燃えるごみの収集日はいつですか"
    grounding = llm.sources(search.search(question, "ja"), "ja")
    number = 1 + [s.key for s in grounding].index("katei-gomi")  # after the FAQ entries
    assert grounding[number - 1].kind == "procedure" and number > 1
    llm_server.reply(f"燃えるごみは週2回です[1]。出し方は手続きのページにあります[{number}]。")
    reply = chat.ask(question=question, language="ja")
    prompt = llm_server.requests[-1].body["messages"][1]["content"]
    assert "Procedure page: katei-gomi" in prompt
    assert reverse("procedures:detail", args=["katei-gomi"]) in prompt
    assert reply.generated is not None
    cited = {c.number: c for c in reply.generated.citations}
    assert cited[number].kind == "procedure" and cited[number].key == "katei-gomi"
    html = cited_text(reply.generated.text, cited)
    assert reverse("procedures:detail", args=["katei-gomi"]) in html
    assert reverse("inquiries:faq_entry", args=[cited[1].key]) in html
