"""The chat pages with and without htmx: asking (GET for the first question, POST with
CSRF after), the answers, clarify and nothing found, bad input, feedback, hand-over, the
panel on every resident page, and that nobody else reaches a conversation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from cityhall.inquiries.models import ChatTurn, Conversation, FaqEntry, Ticket
from tests.conftest import login_staff, make_resident, make_staff
from tests.inquiries.test_chat_service import make_faq

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def en(client: Client) -> Client:
    client.cookies["cityhall_lang"] = "en"
    return client


def _ask(client: Client, question: str) -> tuple[Conversation, str]:
    response = client.get("/ask/", {"q": question})
    assert response.status_code == 303
    location = response["Location"]
    conversation = Conversation.objects.order_by("-pk").first()
    assert conversation is not None
    turn = conversation.turns.filter(role=ChatTurn.Role.ASSISTANT).last()
    assert location == f"/ask/?c={conversation.public_id}#turn-{turn.pk}"
    page = client.get(location)
    assert page.status_code == 200
    return conversation, page.content.decode()


def test_empty_ask_page_has_a_get_form_and_no_panel(en: Client) -> None:
    html = en.get("/ask/").content.decode()
    assert "<h1>Ask a question</h1>" in html
    assert 'method="get" action="/ask/" hx-get="/ask/"' in html
    assert 'hx-target="#chat-log" hx-swap="beforeend"' in html
    assert "chat-panel" not in html  # the page itself is the chat


def test_first_question_by_get_then_the_answer_page(en: Client) -> None:
    make_faq()
    conversation, html = _ask(en, "When is burnable garbage collected?")
    assert "Your question:</span> When is burnable garbage collected?" in html
    assert "Burnable garbage is collected twice a week" in html
    assert 'href="/faq/gomi-001/"' in html
    assert 'href="https://www.city.iga.lg.jp/faq/gomi-001.html"' in html
    assert "市民生活課" in html and 'href="tel:0595229624"' in html
    assert "This helped" in html and "This did not help" in html
    assert f'href="/ask/{conversation.public_id}/handover/"' in html
    # follow-ups post with CSRF in this conversation
    assert 'method="post"' in html and "csrfmiddlewaretoken" in html
    assert f'name="c" value="{conversation.public_id}"' in html
    assert FaqEntry.objects.get(key="gomi-001").shown_count == 1


def test_follow_up_is_a_post_with_csrf(en: Client) -> None:
    make_faq()
    conversation, _ = _ask(en, "burnable garbage")
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = en.cookies
    refused = strict.post("/ask/", {"c": str(conversation.public_id), "q": "passport"})
    assert refused.status_code == 403
    page = strict.get(f"/ask/?c={conversation.public_id}")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token
    response = strict.post(
        "/ask/",
        {"c": str(conversation.public_id), "q": "passport", "csrfmiddlewaretoken": token[1]},
    )
    assert response.status_code == 303
    html = strict.get(response["Location"]).content.decode()
    assert "Where can I apply for a passport?" in html
    assert html.index("burnable garbage") < html.index("Where can I apply for a passport?")
    assert conversation.turns.count() == 4


def test_htmx_gets_only_the_new_turn(en: Client) -> None:
    make_faq()
    response = en.get("/ask/", {"q": "passport"}, **HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<main" not in html
    assert html.strip().startswith('<article class="chat-turn"')
    assert "data-chat-ok" in html and "data-chat-focus" in html
    assert "Where can I apply for a passport?" in html
    assert "Continue on the question page" in html  # from the panel
    conversation = Conversation.objects.get()
    follow = en.post("/ask/", {"c": str(conversation.public_id), "q": "burnable garbage"}, **HX)
    assert follow.status_code == 200 and "<html" not in follow.content.decode()
    assert "When is burnable garbage collected?" in follow.content.decode()
    assert "Continue on the question page" not in follow.content.decode()


def test_clarify_offers_both_entries(en: Client) -> None:
    make_faq()
    _, html = _ask(en, "How do I put out bulky waste?")
    assert "Which one did you mean?" in html
    assert '<summary lang="en">How do I put out bulky waste?</summary>' in html
    assert '<summary lang="en">How do I put out bulky waste (furniture)?</summary>' in html


def test_nothing_found_offers_people_and_the_phone(en: Client) -> None:
    make_faq()
    conversation, html = _ask(en, "rocket launch")
    assert "Sorry, we could not find an answer to this question in our FAQ." in html
    assert 'href="/contact/"' in html and 'href="tel:0595222500"' in html
    assert f'href="/ask/{conversation.public_id}/handover/"' in html
    assert "This helped" not in html


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("   ", "Please type your question."),
        ("🙂🙂", "Please ask your question in words"),
        ("x" * 10_000, "shorter than 500 characters"),
    ],
)
def test_bad_questions_on_the_page_and_with_htmx(en: Client, question: str, message: str) -> None:
    response = en.get("/ask/", {"q": question})
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="error-summary"' in html and message in html
    assert 'href="#chat-q"' in html and 'aria-invalid="true"' in html
    if question.strip():
        assert f'value="{question}"' in html  # nothing lost
    response = en.get("/ask/", {"q": question}, **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html and message in html and "<html" not in html
    response = en.post("/ask/", {"q": question})
    assert response.status_code == 422
    assert not Conversation.objects.exists()


def test_script_in_a_question_is_shown_as_text(en: Client) -> None:
    make_faq()
    _, html = _ask(en, "<script>alert(1)</script> passport")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; passport" in html


def test_nobody_else_reaches_a_conversation(en: Client, client: Any) -> None:
    make_faq()
    conversation, _ = _ask(en, "passport")
    turn = conversation.turns.filter(role=ChatTurn.Role.ASSISTANT).get()
    stranger = Client()
    c = str(conversation.public_id)
    assert stranger.get("/ask/", {"c": c}).status_code == 404
    assert stranger.post("/ask/", {"c": c, "q": "passport"}).status_code == 404
    assert (
        stranger.post(f"/ask/{c}/feedback/", {"turn": turn.pk, "helped": "yes"}).status_code == 404
    )
    assert stranger.get(f"/ask/{c}/handover/").status_code == 404
    assert stranger.get("/ask/", {"c": "not-a-uuid"}).status_code == 404
    assert conversation.turns.count() == 2

    hanako = make_resident("hanako@example.jp")
    taro = make_resident("taro@example.jp")
    mine = Client()
    mine.force_login(hanako)
    assert mine.get("/ask/", {"q": "passport"}).status_code == 303
    owned = Conversation.objects.get(user=hanako)
    other = Client()
    other.force_login(taro)
    assert other.get("/ask/", {"c": str(owned.public_id)}).status_code == 404
    assert other.get(f"/ask/{owned.public_id}/handover/").status_code == 404
    assert mine.get("/ask/", {"c": str(owned.public_id)}).status_code == 200


def test_feedback_without_and_with_htmx(en: Client) -> None:
    make_faq()
    conversation, _ = _ask(en, "burnable garbage")
    turn = conversation.turns.filter(role=ChatTurn.Role.ASSISTANT).get()
    url = f"/ask/{conversation.public_id}/feedback/"
    response = en.post(url, {"turn": turn.pk, "helped": "yes"})
    assert response.status_code == 303
    assert response["Location"] == f"/ask/?c={conversation.public_id}#turn-{turn.pk}"
    html = en.get(response["Location"]).content.decode()
    assert "Thank you. We are glad it helped." in html
    assert FaqEntry.objects.get(key="gomi-001").helpful_count == 1

    _ask(en, "burnable garbage")
    conversation = Conversation.objects.order_by("-pk").first()
    turn = conversation.turns.filter(role=ChatTurn.Role.ASSISTANT).get()
    url = f"/ask/{conversation.public_id}/feedback/"
    response = en.post(url, {"turn": turn.pk, "helped": "no"}, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Sorry that it did not help." in html
    assert "Ask again in other words" in html
    assert f'href="/ask/{conversation.public_id}/handover/"' in html
    assert FaqEntry.objects.get(key="gomi-001").unhelpful_count == 1
    assert en.post(url, {"turn": turn.pk, "helped": "maybe"}).status_code == 404
    assert en.post(url, {"turn": "x", "helped": "no"}).status_code == 404
    assert en.get(url).status_code == 405


def test_anonymous_handover_needs_email_then_shows_the_reference(
    en: Client, smtp_server: Any
) -> None:
    make_faq()
    conversation, _ = _ask(en, "rocket launch")
    url = f"/ask/{conversation.public_id}/handover/"
    form = en.get(url).content.decode()
    assert 'name="email"' in form and "rocket launch" in form
    response = en.post(url, {"note": "When can I see it?", "email": "not-an-address"})
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="error-summary"' in html and "When can I see it?" in html
    assert not Ticket.objects.exists()
    response = en.post(
        url, {"note": "When can I see it?", "name": "Ana", "email": "ana@example.com"}
    )
    assert response.status_code == 303
    ticket = Ticket.objects.get()
    assert response["Location"] == f"{url}?ref={ticket.reference}"
    html = en.get(response["Location"]).content.decode()
    assert ticket.reference.startswith("Q-") and ticket.reference in html
    assert "The answer comes by e-mail" in html
    assert ticket.channel == "chat" and ticket.email == "ana@example.com"
    assert "When can I see it?" in ticket.messages.get(kind="resident").body
    assert en.get(f"{url}?ref=Q-0000-000000").status_code == 404


def test_logged_in_handover_links_to_my_inquiries(client: Client, smtp_server: Any) -> None:
    make_faq()
    hanako = make_resident("hanako@example.jp")
    client.force_login(hanako)
    client.cookies["cityhall_lang"] = "en"
    conversation, _ = _ask(client, "passport")
    url = f"/ask/{conversation.public_id}/handover/"
    assert 'name="email"' not in client.get(url).content.decode()
    response = client.post(url, {"note": ""})
    assert response.status_code == 303
    html = client.get(response["Location"]).content.decode()
    assert 'href="/my/inquiries/"' in html
    assert Ticket.objects.get().resident == hanako


def test_panel_on_resident_pages_not_on_staff_pages(client: Client) -> None:
    client.cookies["cityhall_lang"] = "en"
    home = client.get("/").content.decode()
    panel = home[home.index('<section class="chat-panel"') :]
    panel = panel[: panel.index("</section>")]
    assert '<h2 id="chat-panel-title" class="chat-panel__title">Ask a question</h2>' in panel
    assert 'method="get" action="/ask/"' in panel and 'for="chat-panel-q"' in panel
    assert "csrfmiddlewaretoken" not in panel
    assert home.index("chat-panel") < home.index('<footer class="site-footer">')
    assert "cityhall/vendor/htmx-2.0.4.min.js" in home and "defer" in home
    assert (
        '<meta name="htmx-config" content=\'{"includeIndicatorStyles":false,"allowEval":false}\'>'
        in home
    )
    assert "<script>" not in home  # nothing inline (strict CSP)
    staff = make_staff("clerk@city.iga.example", "clerk", "shimin-seikatsu")
    login_staff(client, staff)
    page = client.get("/staff/").content.decode()
    assert "<html" in page and "chat-panel" not in page
