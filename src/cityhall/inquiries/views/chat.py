"""The chat pages (チャット): ask, say whether it helped, hand over to a person.

GET or POST? Asking writes turns, so:

- ``GET /ask/?q=…`` *starts a new conversation* — the first question. This is what the
  chat panel on every page sends: a plain GET form without a CSRF token, so the panel can
  sit on cached public pages. Without htmx the answer page is reached by a redirect
  (``/ask/?c=<uuid>#turn-<id>``), so reloading it asks nothing again.
- ``POST /ask/`` (with CSRF and ``c``) asks a follow-up in an existing conversation: the
  form on the ask page, once a conversation exists, posts.
- ``GET /ask/?c=<uuid>`` shows the conversation so far (only to its owner; else 404).

With the ``HX-Request`` header the same view answers with just the new turn (appended to
the transcript by htmx); without it, with the whole page.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods

from cityhall.core import i18n
from cityhall.inquiries.forms_chat import AskForm, HandoverForm
from cityhall.inquiries.models import ChatTurn, Conversation, Ticket
from cityhall.inquiries.services import chat
from cityhall.people.models import Department
from cityhall.procedures.services import catalogue


def language() -> str:
    return (get_language() or "ja").lower()


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _uuid(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise Http404 from exc


def _answer(hit: Any, departments: dict[int, Department], procs: dict[str, Any]) -> dict[str, Any]:
    return {
        "hit": hit,
        "lang": i18n.html_lang(hit.language),
        "department": departments.get(hit.department_id) if hit.department_id else None,
        "procedures": [procs[slug] for slug in hit.procedures if slug in procs],
    }


def decorate(replies: list[chat.Reply]) -> list[dict[str, Any]]:
    """What the templates show of each reply: answers with department and procedures."""
    hits = [hit for reply in replies for hit in (*reply.answers, *reply.more)]
    departments = {
        d.pk: d
        for d in Department.objects.filter(
            pk__in={h.department_id for h in hits if h.department_id}
        )
    }
    procs = catalogue.by_slugs(sorted({slug for h in hits for slug in h.procedures}))
    out = []
    for reply in replies:
        answers = [_answer(hit, departments, procs) for hit in reply.answers]
        out.append(
            {
                "reply": reply,
                "turn": reply.turn,
                "answers": answers,
                "first": answers[0] if answers else None,
                "others": answers[1:],
                "more": [_answer(hit, departments, procs) for hit in reply.more],
                "citations": {
                    c.number: c for c in (reply.generated.citations if reply.generated else [])
                },
            }
        )
    return out


def _page_url(conversation: Conversation, turn: ChatTurn | None = None) -> str:
    url = reverse("inquiries:ask") + "?" + urlencode({"c": str(conversation.public_id)})
    return url + (f"#turn-{turn.pk}" if turn is not None else "")


def _render_page(
    request: HttpRequest,
    conversation: Conversation | None,
    form: AskForm,
    status: int = 200,
) -> HttpResponse:
    replies = chat.transcript(conversation, language()) if conversation else []
    return render(
        request,
        "inquiries/chat/ask.html",
        {
            "conversation": conversation,
            "items": decorate(replies),
            "form": form,
            "html_lang": i18n.html_lang(language()),
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    conversation = None
    if request.method == "POST":
        raw = request.POST.get("c", "")
        conversation = chat.conversation_for(request, _uuid(raw)) if raw else None
        form = AskForm(request.POST, auto_id="chat-%s")
    else:
        raw = request.GET.get("c", "")
        if "q" not in request.GET:
            conversation = chat.conversation_for(request, _uuid(raw)) if raw else None
            return _render_page(request, conversation, AskForm(auto_id="chat-%s"))
        form = AskForm(
            request.GET, auto_id="chat-%s"
        )  # a first question: always a new conversation
    if not form.is_valid():
        if is_htmx(request):
            # htmx swaps only 2xx answers: the message is a turn of its own.
            return render(
                request, "inquiries/chat/error.html", {"errors": form.errors.get("q", [])}
            )
        return _render_page(request, conversation, form, status=422)
    reply = chat.ask(
        question=form.cleaned_data["q"],
        language=language(),
        conversation=conversation,
        user=request.user,
    )
    chat.remember(request, reply.conversation)
    if is_htmx(request):
        return render(
            request,
            "inquiries/chat/turn.html",
            {
                "item": decorate([reply])[0],
                "conversation": reply.conversation,
                "in_panel": request.method == "GET",
                "fragment": True,
            },
        )
    return HttpResponseRedirect(_page_url(reply.conversation, reply.turn), status=303)


def _replay(conversation: Conversation, turn: ChatTurn) -> dict[str, Any]:
    question = (
        conversation.turns.filter(role=ChatTurn.Role.RESIDENT, pk__lt=turn.pk).last()
        or ChatTurn(text="")
    ).text
    return decorate([chat.replay(turn, question, language())])[0]


@require_http_methods(["POST"])
def feedback(request: HttpRequest, conversation: uuid.UUID) -> HttpResponse:
    conv = chat.conversation_for(request, conversation)
    raw_turn = request.POST.get("turn", "")
    helped = request.POST.get("helped", "")
    if not raw_turn.isdigit() or len(raw_turn) > 12 or helped not in {"yes", "no"}:
        raise Http404
    turn = chat.feedback(conv, int(raw_turn), helped == "yes")
    if is_htmx(request):
        return render(
            request,
            "inquiries/chat/feedback.html",
            {"item": _replay(conv, turn), "conversation": conv, "fragment": True},
        )
    return HttpResponseRedirect(_page_url(conv, turn), status=303)


@require_http_methods(["GET", "HEAD", "POST"])
def handover(request: HttpRequest, conversation: uuid.UUID) -> HttpResponse:
    conv = chat.conversation_for(request, conversation)
    resident = request.user if chat.is_resident(request.user) else None
    context: dict[str, Any] = {"conversation": conv, "resident": resident}
    reference = request.GET.get("ref", "")
    if request.method != "POST" and reference:
        ticket = Ticket.objects.filter(reference=reference[:20], conversation=conv).first()
        if ticket is None:
            raise Http404
        return render(request, "inquiries/chat/handover_sent.html", {**context, "ticket": ticket})
    questions = list(conv.turns.filter(role=ChatTurn.Role.RESIDENT).values_list("text", flat=True))
    context["questions"] = questions
    if not questions:
        raise Http404
    if request.method != "POST":
        context["form"] = HandoverForm(anonymous=resident is None)
        return render(request, "inquiries/chat/handover.html", context)
    form = HandoverForm(request.POST, anonymous=resident is None)
    context["form"] = form
    if not form.is_valid():
        return render(request, "inquiries/chat/handover.html", context, status=422)
    ticket = chat.handover(
        conv,
        user=resident,
        name=form.cleaned_data.get("name", ""),
        email=form.cleaned_data.get("email", ""),
        note=form.cleaned_data["note"],
        request=request,
    )
    url = reverse("inquiries:ask_handover", args=[conv.public_id])
    return HttpResponseRedirect(url + "?" + urlencode({"ref": ticket.reference}), status=303)
