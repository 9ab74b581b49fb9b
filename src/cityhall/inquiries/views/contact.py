"""Residents' pages of the inquiries: the contact form, its receipt, my inquiries.

お問い合わせ: a visitor leaves a name and an e-mail address; a logged-in resident's
inquiry joins their account and its thread is on my page. A resident sees only their own
inquiries (anything else is a 404, with no hint that it exists).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cityhall.core import ratelimit
from cityhall.inquiries.forms_tickets import ContactForm, MessageForm
from cityhall.inquiries.models import TicketChannel
from cityhall.inquiries.services import tickets
from cityhall.procedures.views.common import language, resident_required

SESSION_KEY = "inquiries_sent"
#: Inquiries one address may send through the form (the rest wait for the next window).
CONTACT_RATE = "10/h"


def _rate() -> str:
    return str(getattr(settings, "INQUIRIES_CONTACT_RATE", CONTACT_RATE))


def _resident(request: HttpRequest) -> Any:
    user = request.user
    if user.is_authenticated and not user.is_staff:
        return user
    return None


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponseBase:
    resident = _resident(request)
    faq_key = (request.POST.get("faq") or request.GET.get("faq") or "").strip()[:64]
    faq_question = tickets.faq_question(faq_key, language()) if faq_key else ""
    if request.method == "POST":
        form = ContactForm(request.POST, anonymous=resident is None)
        if form.is_bot():
            return redirect("inquiries:contact")  # a bot filled the hidden field: nothing kept
        if form.is_valid():
            allowed, retry = ratelimit.hit(
                "inquiries-contact", ratelimit.client_key(request), _rate()
            )
            if not allowed:
                from cityhall.core.views import too_many_requests

                return too_many_requests(request, retry)
            data = form.cleaned_data
            body = data["body"]
            if faq_question:
                body = f"{body}\n\n(FAQ {faq_key}: {faq_question})"
            ticket = tickets.create_ticket(
                subject=data["subject"],
                body=body,
                channel=TicketChannel.WEB,
                language=language(),
                resident=resident,
                name=data.get("name", ""),
                email=data.get("email", ""),
                request=request,
            )
            sent = [ref for ref in request.session.get(SESSION_KEY, []) if isinstance(ref, str)]
            request.session[SESSION_KEY] = [*sent[-19:], ticket.reference]
            return redirect("inquiries:contact_sent", reference=ticket.reference)
    else:
        form = ContactForm(anonymous=resident is None)
    return render(
        request,
        "inquiries/tickets/contact.html",
        {
            "form": form,
            "faq_key": faq_question and faq_key,
            "faq_question": faq_question,
            "inquiry_address": settings.INQUIRIES_EMAIL_ADDRESS,
            "sla_days": tickets.sla_days(),
        },
        status=422 if form.errors else 200,
    )


def contact_sent(request: HttpRequest, reference: str) -> HttpResponse:
    resident = _resident(request)
    ticket = tickets.resident_ticket(resident, reference) if resident else None
    if ticket is None and reference in request.session.get(SESSION_KEY, []):
        ticket = tickets.by_reference(reference)
        if (
            ticket is not None
            and ticket.resident_id
            and ticket.resident_id != getattr(resident, "pk", None)
        ):
            ticket = None
    if ticket is None:
        raise Http404
    return render(
        request,
        "inquiries/tickets/sent.html",
        {
            "ticket": ticket,
            "sla_days": tickets.sla_days(),
            "mailed_to": ticket.email
            or (resident.email if resident and resident.has_real_email else ""),
        },
    )


@resident_required
def my_tickets(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "inquiries/tickets/my_list.html",
        {"tickets": list(tickets.residents_tickets(request.user)[:200])},
    )


@resident_required
@require_http_methods(["GET", "POST"])
def my_ticket(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = tickets.resident_ticket(request.user, reference)
    if ticket is None:
        raise Http404
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        tickets.resident_reply(ticket, request.user, form.cleaned_data["body"], request=request)
        return redirect(reverse("inquiries:my_ticket", args=[ticket.reference]) + "#thread-end")
    return render(
        request,
        "inquiries/tickets/my_thread.html",
        {"ticket": ticket, "messages_": list(tickets.public_thread(ticket)), "form": form},
        status=422 if form.errors else 200,
    )
