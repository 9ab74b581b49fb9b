"""Tickets (問い合わせ): a resident's question for a person, with its thread.

After Open Klant's contact moments and internal tasks: a ticket opens from the web form,
a chat hand-over or an e-mail, is routed (:mod:`~cityhall.inquiries.services.routing`),
gets its SLA due date in working days, and is answered by a clerk of its department.
Every change runs in a transaction with an audit entry; every read by staff is audited
(the thread holds the resident's personal data).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cityhall.core import audit
from cityhall.core.i18n import html_lang
from cityhall.core.mail import queue_email
from cityhall.inquiries import permissions
from cityhall.inquiries.models import (
    Conversation,
    ReplyTemplate,
    RoutingRule,
    Ticket,
    TicketChannel,
    TicketMessage,
    TicketStatus,
)
from cityhall.inquiries.services import routing
from cityhall.notices.models import InboxItem
from cityhall.notices.services import preferences
from cityhall.people.models import Consent, Department, Role, StaffAssignment, User
from cityhall.people.services import accounts
from cityhall.procedures.services.cases import add_working_days, is_working_day

log = logging.getLogger(__name__)

REFERENCE_RE = re.compile(r"Q-\d{4}-\d{6}")
#: Statuses a clerk still has to act on (the board's badge).
WORK_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN)
#: Statuses of a ticket that is not closed (the resident's "open" ones).
OPEN_STATUSES = (
    TicketStatus.NEW,
    TicketStatus.OPEN,
    TicketStatus.WAITING,
    TicketStatus.ANSWERED,
)
PER_PAGE = 25
MAX_BODY = 10_000


class TicketError(Exception):
    """A change the ticket cannot take (shown to the clerk)."""


# --- references and due dates ----------------------------------------------------------------


def _next_reference(year: int) -> str:
    prefix = f"Q-{year}-"
    last = (
        Ticket.objects.filter(reference__startswith=prefix)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{number:06d}"


def due_at_for(created: dt.datetime, days: int | None = None) -> dt.datetime:
    """End of the ``INQUIRIES_SLA_DAYS``-th working day after ``created`` (weekends, Japanese
    holidays and the year-end closure do not count)."""
    days = int(settings.INQUIRIES_SLA_DAYS if days is None else days)
    start = timezone.localtime(created).date()
    due = add_working_days(start, days) if days > 0 else start
    if not is_working_day(due):
        due = add_working_days(due, 1)
    return timezone.make_aware(dt.datetime.combine(due, dt.time(23, 59, 59)))


def is_overdue(ticket: Ticket, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return bool(
        ticket.due_at
        and ticket.first_answer_at is None
        and ticket.status != TicketStatus.CLOSED
        and ticket.due_at < now
    )


# --- opening a ticket -----------------------------------------------------------------------


def _resident_email(ticket: Ticket) -> str:
    if ticket.email:
        return ticket.email
    user = ticket.resident
    if user is not None and user.has_real_email:
        return str(user.email)
    return ""


def thread_url(ticket: Ticket) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("inquiries:my_ticket", args=[ticket.reference])


def _email_context(ticket: Ticket, language: str) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "reference": ticket.reference,
        "subject": ticket.subject,
        "name": ticket.name or (ticket.resident.display_name if ticket.resident else ""),
        "thread_url": thread_url(ticket) if ticket.resident_id else "",
        "due_date": timezone.localtime(ticket.due_at).date() if ticket.due_at else None,
        "sla_days": settings.INQUIRIES_SLA_DAYS,
        "reply_address": settings.INQUIRIES_EMAIL_ADDRESS,
        "html_lang": html_lang(language),
    }


def _percent(confidence: float | None) -> int:
    return round((confidence or 0.0) * 100)


def _department_name(department: Department | None) -> str:
    if department is None:
        return _("the triage queue")
    return department.localized_name()


def event_text(result: routing.Routing) -> str:
    """The routing event of a new ticket, readable in the history (the city's language)."""
    with translation.override(settings.LANGUAGE_CODE):
        if result.department is not None and result.routed_by == Ticket.RoutedBy.RULE:
            return _("Routed to %(department)s by a routing rule.") % {
                "department": _department_name(result.department)
            }
        if result.department is not None:
            return _("Routed to %(department)s by the classifier (%(percent)d %% sure).") % {
                "department": _department_name(result.department),
                "percent": _percent(result.confidence),
            }
        if result.suggested is not None:
            return _(
                "Waiting in the triage queue. Suggested department: %(department)s "
                "(%(percent)d %%)."
            ) % {
                "department": _department_name(result.suggested),
                "percent": _percent(result.confidence),
            }
        return _("Waiting in the triage queue.")


def _routing_event(ticket: Ticket, result: routing.Routing) -> None:
    TicketMessage.objects.create(
        ticket=ticket, kind=TicketMessage.Kind.EVENT, body=event_text(result)
    )


# --- e-mail threading and loops (RFC 3834, RFC 5322 §3.6.4) ------------------------------------

#: Acknowledgements to one address per :data:`ACK_WINDOW`, so that two autoresponders
#: cannot ping-pong (RFC 3834 §2).
ACK_LIMIT = 5
ACK_WINDOW = dt.timedelta(hours=1)
#: Our own Message-IDs: ``<Q-YYYY-NNNNNN.received@domain>`` (acknowledgement) and
#: ``<Q-YYYY-NNNNNN.<message pk>.answer@domain>`` (a clerk's answer).
OUR_MESSAGE_ID_RE = re.compile(r"^<(Q-\d{4}-\d{6})\.(?:received|\d+\.answer)@([^<>\s]+)>$")


def mail_domain() -> str:
    """The domain of our Message-IDs: the inquiry mailbox's, else the site's host."""
    address = str(settings.INQUIRIES_EMAIL_ADDRESS or "")
    if "@" in address:
        return address.rsplit("@", 1)[1].strip(" <>").lower()
    return (urlsplit(settings.SITE_URL).hostname or "localhost").lower()


def ack_message_id(ticket: Ticket) -> str:
    return f"<{ticket.reference}.received@{mail_domain()}>"


def answer_message_id(message: TicketMessage) -> str:
    return f"<{message.ticket.reference}.{message.pk}.answer@{mail_domain()}>"


def reference_of_message_id(message_id: str) -> str:
    """The ticket reference named by one of our Message-IDs, else ``""``."""
    match = OUR_MESSAGE_ID_RE.match(message_id.strip())
    if match and match.group(2).lower() == mail_domain():
        return match.group(1)
    return ""


def _real_message_id(message_id: str | None) -> str:
    """A resident's Message-ID worth referring to (not one we made up for a mail without)."""
    if not message_id or message_id.endswith("@no-message-id>"):
        return ""
    return message_id


def ack_headers(ticket: Ticket) -> dict[str, str]:
    """The acknowledgement is an automatic reply (``Auto-Submitted: auto-replied``)."""
    headers = {
        "Message-ID": ack_message_id(ticket),
        "Auto-Submitted": "auto-replied",
        "Reply-To": str(settings.INQUIRIES_EMAIL_ADDRESS or ""),
    }
    source = _real_message_id(ticket.source_message_id)
    if source:
        headers["In-Reply-To"] = source
        headers["References"] = source
    return headers


def answer_headers(ticket: Ticket, message: TicketMessage) -> dict[str, str]:
    """A clerk's answer is written by a person: no ``Auto-Submitted``; it threads under the
    resident's last e-mail (or our acknowledgement)."""
    ids = list(
        ticket.messages.filter(kind=TicketMessage.Kind.RESIDENT, email_message_id__isnull=False)
        .order_by("created_at", "pk")
        .values_list("email_message_id", flat=True)
    )
    resident_ids = [i for i in (_real_message_id(i) for i in ids) if i]
    source = _real_message_id(ticket.source_message_id)
    references: list[str] = []
    for candidate in [source, ack_message_id(ticket), *resident_ids]:
        if candidate and candidate not in references:
            references.append(candidate)
    in_reply_to = resident_ids[-1] if resident_ids else ack_message_id(ticket)
    return {
        "Message-ID": answer_message_id(message),
        "In-Reply-To": in_reply_to,
        "References": " ".join(references[-10:]),
        "Reply-To": str(settings.INQUIRIES_EMAIL_ADDRESS or ""),
    }


def may_acknowledge(ticket: Ticket, to: str, now: dt.datetime | None = None) -> bool:
    """Fewer than :data:`ACK_LIMIT` other tickets from this address in :data:`ACK_WINDOW`."""
    since = (now or timezone.now()) - ACK_WINDOW
    recent = (
        Ticket.objects.filter(created_at__gte=since)
        .filter(Q(email__iexact=to) | Q(resident__email__iexact=to))
        .exclude(pk=ticket.pk)
        .count()
    )
    return recent < ACK_LIMIT


def _acknowledge(ticket: Ticket) -> None:
    to = _resident_email(ticket)
    if not to:
        return
    if not may_acknowledge(ticket, to, ticket.created_at):
        log.info("no acknowledgement for %s: too many to the same address", ticket.reference)
        return
    queue_email(
        to,
        "inquiries/email/ticket_received",
        _email_context(ticket, ticket.language),
        ticket.language,
        headers=ack_headers(ticket),
    )


# --- telling the department ----------------------------------------------------------------------


def staff_url(ticket: Ticket) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("inqstaff:ticket", args=[ticket.pk])


def notify_department(ticket: Ticket, department: Department | None) -> bool:
    """One e-mail to the department's address (the triage department's for the triage
    queue): reference, subject and the staff link only — no other personal data."""
    if department is None:
        department = Department.objects.filter(
            code=settings.INQUIRIES_TRIAGE_DEPARTMENT, is_active=True
        ).first()
    if department is None or not department.email:
        return False
    language = settings.LANGUAGE_CODE
    with translation.override(language):
        department_name = department.localized_name()
    queue_email(
        department.email,
        "inquiries/email/ticket_routed",
        {
            "reference": ticket.reference,
            "subject": ticket.subject,
            "department": department_name,
            "triage": ticket.department_id is None,
            "staff_url": staff_url(ticket),
        },
        language,
        headers={"Auto-Submitted": "auto-generated"},
    )
    return True


def create_ticket(
    *,
    subject: str,
    body: str,
    channel: str,
    language: str = "ja",
    resident: Any = None,
    name: str = "",
    email: str = "",
    conversation: Conversation | None = None,
    source_message_id: str = "",
    request: Any = None,
) -> Ticket:
    """Open a ticket, route it (rules, classifier, triage), notify; in one transaction."""
    subject = " ".join(subject.split())[:200] or _("(no subject)")
    body = body.strip()[:MAX_BODY]
    if channel not in TicketChannel.values:
        raise ValueError(f"unknown channel {channel!r}")
    result = routing.route(subject, body)  # outside the transaction: the model may train
    now = timezone.now()
    with transaction.atomic():
        ticket = None
        for _attempt in range(20):
            try:
                with transaction.atomic():
                    ticket = Ticket.objects.create(
                        reference=_next_reference(timezone.localtime(now).year),
                        resident=resident if getattr(resident, "pk", None) else None,
                        name=name[:120],
                        email=email[:254],
                        language=language or "ja",
                        channel=channel,
                        subject=subject,
                        status=TicketStatus.NEW,
                        department=result.department,
                        routed_by=result.routed_by,
                        confidence=result.confidence,
                        suggested_department=(
                            result.suggested if result.department is None else None
                        ),
                        conversation=conversation,
                        source_message_id=source_message_id[:300],
                        created_at=now,
                        due_at=due_at_for(now),
                    )
                break
            except IntegrityError:
                continue  # another ticket took the reference meanwhile: take the next one
        if ticket is None:
            raise IntegrityError("no free inquiry reference")
        TicketMessage.objects.create(
            ticket=ticket,
            kind=TicketMessage.Kind.RESIDENT,
            author=ticket.resident,
            body=body,
            email_message_id=source_message_id[:300] or None,
            created_at=now,
        )
        _routing_event(ticket, result)
        audit.record(
            "inquiries.ticket.created",
            request=request,
            actor=resident if getattr(resident, "pk", None) else None,
            target=ticket,
            subject=ticket.resident_id,
            details={
                "reference": ticket.reference,
                "channel": channel,
                "routing": result.as_details(),
            },
        )
        _acknowledge(ticket)
        notify_department(ticket, ticket.department)
    return ticket


# --- who sees what --------------------------------------------------------------------------


def visible(user: Any) -> QuerySet[Ticket]:
    """Tickets the member of staff may work on: their departments', all for triage staff."""
    qs = Ticket.objects.all()
    if not permissions.can_work_tickets(user):
        return qs.none()
    if permissions.is_admin(user) or permissions.can_triage(user):
        return qs
    return qs.filter(department_id__in=permissions.department_ids(user))


def _work_queue(user: Any) -> Q:
    """The user's own queue: their departments, plus the triage queue for triage staff."""
    condition = Q(department_id__in=permissions.department_ids(user))
    if permissions.can_triage(user):
        condition |= Q(department__isnull=True)
    return condition


def open_count(user: Any) -> int:
    """Open inquiries the member of staff may work on (the case board tab's badge)."""
    if not permissions.can_work_tickets(user):
        return 0
    return Ticket.objects.filter(_work_queue(user), status__in=WORK_STATUSES).count()


def mypage_overview(user: Any) -> dict[str, Any]:
    """What my page shows of the resident's inquiries."""
    if not getattr(user, "is_authenticated", False):
        return {"open": [], "count": 0}
    mine = Ticket.objects.filter(resident=user)
    open_tickets = list(mine.filter(status__in=OPEN_STATUSES).order_by("-created_at")[:5])
    return {"open": open_tickets, "count": mine.count()}


def residents_tickets(user: Any) -> QuerySet[Ticket]:
    return Ticket.objects.filter(resident=user).order_by("-created_at", "-pk")


def resident_ticket(user: Any, reference: str) -> Ticket | None:
    """The resident's own ticket by reference, else ``None`` (no hint that it exists)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Ticket.objects.filter(resident=user, reference=reference.strip().upper())
        .select_related("department")
        .first()
    )


def public_thread(ticket: Ticket) -> QuerySet[TicketMessage]:
    """What the resident sees: their messages and the city's answers — never notes."""
    return ticket.messages.filter(
        kind__in=[TicketMessage.Kind.RESIDENT, TicketMessage.Kind.STAFF]
    ).order_by("created_at", "pk")


def staff_thread(ticket: Ticket) -> QuerySet[TicketMessage]:
    return ticket.messages.select_related("author").order_by("created_at", "pk")


@dataclass
class BoardFilters:
    department: int | None = None
    status: str = ""
    overdue: bool = False
    triage: bool = False
    q: str = ""
    channel: str = ""

    def as_details(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v}


def board(user: Any, filters: BoardFilters | None = None, page: int = 1) -> Page[Ticket]:
    """One page of the staff list: filtered, soonest due first (the audit notes the read)."""
    filters = filters or BoardFilters()
    qs = visible(user).select_related("department", "assignee", "suggested_department")
    if filters.department:
        qs = qs.filter(department_id=filters.department)
    if filters.triage:
        qs = qs.filter(department__isnull=True)
    if filters.status == "all":
        pass
    elif filters.status:
        qs = qs.filter(status=filters.status)
    else:
        qs = qs.exclude(status=TicketStatus.CLOSED)
    if filters.overdue:
        qs = qs.filter(due_at__lt=timezone.now(), first_answer_at__isnull=True).exclude(
            status=TicketStatus.CLOSED
        )
    if filters.q:
        qs = qs.filter(Q(subject__icontains=filters.q) | Q(reference__iexact=filters.q.strip()))
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    qs = qs.order_by("due_at", "pk")
    result = Paginator(qs, PER_PAGE).get_page(page)
    audit.record(
        "inquiries.ticket.list",
        actor=user,
        details={"filters": filters.as_details(), "tickets": [t.pk for t in result]},
    )
    return result


def staff_ticket(user: Any, pk: int) -> Ticket | None:
    """The ticket for a member of staff; ``None`` when it does not exist or is not theirs."""
    ticket = (
        Ticket.objects.select_related(
            "department", "assignee", "resident", "conversation", "suggested_department"
        )
        .filter(pk=pk)
        .first()
    )
    if ticket is None or not permissions.can_work_ticket(user, ticket):
        return None
    return ticket


def record_view(ticket: Ticket, request: HttpRequest | None, *, actor: Any = None) -> None:
    """Audit that staff read this ticket (the resident's personal data)."""
    actor = actor if actor is not None else getattr(request, "user", None)
    if not permissions.can_work_ticket(actor, ticket):
        raise PermissionDenied
    audit.record(
        "inquiries.ticket.view",
        request=request,
        actor=actor,
        target=ticket,
        subject=ticket.resident_id,
        details={"reference": ticket.reference},
    )


def assignable_staff(ticket: Ticket) -> QuerySet[User]:
    qs = StaffAssignment.objects.filter(role__in=[Role.CLERK, Role.MANAGER])
    if ticket.department_id:
        qs = qs.filter(department_id=ticket.department_id)
    else:
        qs = qs.filter(department__code=settings.INQUIRIES_TRIAGE_DEPARTMENT)
    return User.objects.filter(is_staff=True, is_active=True, pk__in=qs.values("user_id")).order_by(
        "display_name", "email"
    )


def reply_templates(ticket: Ticket) -> QuerySet[ReplyTemplate]:
    return ReplyTemplate.objects.filter(active=True).filter(
        Q(department__isnull=True) | Q(department_id=ticket.department_id)
    )


def template_text(template: ReplyTemplate, language: str) -> str:
    bodies = template.bodies or {}
    for code in (language, language.split("-")[0], "ja"):
        if bodies.get(code):
            return str(bodies[code])
    return str(next(iter(bodies.values()), ""))


# --- clerk actions -----------------------------------------------------------------------------


def _locked(ticket: Ticket, actor: Any) -> Ticket:
    fresh = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if actor is not None and not permissions.can_work_ticket(actor, fresh):
        raise PermissionDenied
    return fresh


def _may_notify(user: Any) -> bool:
    """The resident agreed to be told (``notify`` consent) and did not mute personal news."""
    return bool(
        user is not None
        and user.is_active
        and accounts.consents(user)[Consent.Purpose.NOTIFY]
        and not preferences.personal_muted(user)
    )


def _notify_answer(ticket: Ticket, message: TicketMessage) -> None:
    """Inbox item (when the resident agreed to be told) and the answer by e-mail."""
    language = ticket.language or "ja"
    user = ticket.resident
    if user is not None and _may_notify(user):
        with translation.override(language):
            title = _("Answer to your inquiry %(reference)s") % {"reference": ticket.reference}
        preferences.add_inbox_item(
            user.pk,
            kind=InboxItem.Kind.INQUIRY,
            source_key=f"ticket-message:{message.pk}",
            title=title,
            body=message.body[:500],
            url=reverse("inquiries:my_ticket", args=[ticket.reference]),
        )
    to = _resident_email(ticket)
    if to:
        queue_email(
            to,
            "inquiries/email/ticket_answer",
            {**_email_context(ticket, language), "answer": message.body},
            language,
            headers=answer_headers(ticket, message),
        )


def reply(
    ticket: Ticket,
    actor: Any,
    body: str,
    *,
    request: HttpRequest | None = None,
    waiting: bool = False,
) -> TicketMessage:
    """A clerk's answer: the resident is told (inbox + e-mail); status ANSWERED or WAITING."""
    body = body.strip()
    if not body:
        raise TicketError(_("Write the answer."))
    with transaction.atomic():
        ticket = _locked(ticket, actor)
        if ticket.department_id is None:
            raise TicketError(_("Route the inquiry to a department before answering."))
        now = timezone.now()
        message = TicketMessage.objects.create(
            ticket=ticket, kind=TicketMessage.Kind.STAFF, author=actor, body=body[:MAX_BODY]
        )
        ticket.status = TicketStatus.WAITING if waiting else TicketStatus.ANSWERED
        ticket.first_answer_at = ticket.first_answer_at or now
        if ticket.assignee_id is None:
            ticket.assignee = actor
        ticket.save(update_fields=["status", "first_answer_at", "assignee", "updated_at"])
        audit.record(
            "inquiries.ticket.replied",
            request=request,
            actor=actor,
            target=ticket,
            subject=ticket.resident_id,
            details={"reference": ticket.reference, "status": ticket.status},
        )
        _notify_answer(ticket, message)
    return message


def add_note(
    ticket: Ticket, actor: Any, body: str, *, request: HttpRequest | None = None
) -> TicketMessage:
    body = body.strip()
    if not body:
        raise TicketError(_("Write the note."))
    with transaction.atomic():
        ticket = _locked(ticket, actor)
        message = TicketMessage.objects.create(
            ticket=ticket, kind=TicketMessage.Kind.NOTE, author=actor, body=body[:MAX_BODY]
        )
        audit.record(
            "inquiries.ticket.note",
            request=request,
            actor=actor,
            target=ticket,
            subject=ticket.resident_id,
            details={"reference": ticket.reference},
        )
    return message


def route(
    ticket: Ticket, actor: Any, department: Department, request: HttpRequest | None = None
) -> Ticket:
    """Send the ticket to a department by hand (triage staff, or its own department)."""
    with transaction.atomic():
        ticket = _locked(ticket, actor)
        if not (
            permissions.can_triage(actor)
            or permissions.is_admin(actor)
            or ticket.department_id in permissions.department_ids(actor)
        ):
            raise PermissionDenied
        before = ticket.department.code if ticket.department else None
        previous = ticket.department
        suggested = ticket.suggested_department_id
        ticket.department = department
        ticket.routed_by = Ticket.RoutedBy.STAFF
        ticket.suggested_department = None
        if (
            ticket.assignee_id
            and not StaffAssignment.objects.filter(
                user_id=ticket.assignee_id, department=department
            ).exists()
        ):
            ticket.assignee = None
        ticket.save(
            update_fields=[
                "department",
                "routed_by",
                "assignee",
                "suggested_department",
                "updated_at",
            ]
        )
        accepted = suggested is not None and suggested == department.pk
        with translation.override(settings.LANGUAGE_CODE):
            names = {"from": _department_name(previous), "to": _department_name(department)}
            text = (
                _("Routed from %(from)s to the suggested department %(to)s.")
                if accepted
                else _("Routed from %(from)s to %(to)s.")
            ) % names
        TicketMessage.objects.create(
            ticket=ticket, kind=TicketMessage.Kind.EVENT, author=actor, body=text
        )
        audit.record(
            "inquiries.ticket.routed",
            request=request,
            actor=actor,
            target=ticket,
            subject=ticket.resident_id,
            details={
                "reference": ticket.reference,
                "from": before,
                "to": department.code,
                "suggestion": accepted,
            },
        )
        if previous is None or previous.pk != department.pk:
            notify_department(ticket, department)
    return ticket


def set_status(
    ticket: Ticket, actor: Any, status: str, *, request: HttpRequest | None = None
) -> Ticket:
    if status not in TicketStatus.values:
        raise TicketError(_("Choose a status."))
    with transaction.atomic():
        ticket = _locked(ticket, actor)
        before = ticket.status
        ticket.status = status
        ticket.closed_at = timezone.now() if status == TicketStatus.CLOSED else None
        ticket.save(update_fields=["status", "closed_at", "updated_at"])
        audit.record(
            "inquiries.ticket.status",
            request=request,
            actor=actor,
            target=ticket,
            subject=ticket.resident_id,
            details={"reference": ticket.reference, "from": before, "to": status},
        )
    return ticket


def close(ticket: Ticket, actor: Any, *, request: HttpRequest | None = None) -> Ticket:
    return set_status(ticket, actor, TicketStatus.CLOSED, request=request)


def assign(
    ticket: Ticket, actor: Any, assignee: User | None, *, request: HttpRequest | None = None
) -> Ticket:
    with transaction.atomic():
        ticket = _locked(ticket, actor)
        if assignee is not None and not assignable_staff(ticket).filter(pk=assignee.pk).exists():
            raise TicketError(_("This member of staff cannot take this inquiry."))
        ticket.assignee = assignee
        ticket.save(update_fields=["assignee", "updated_at"])
        audit.record(
            "inquiries.ticket.assigned",
            request=request,
            actor=actor,
            target=ticket,
            subject=ticket.resident_id,
            details={"reference": ticket.reference, "assignee": assignee.pk if assignee else None},
        )
    return ticket


def resident_reply(
    ticket: Ticket,
    user: Any,
    body: str,
    *,
    request: HttpRequest | None = None,
    email_message_id: str = "",
) -> TicketMessage:
    """The resident writes again (form or e-mail): the ticket opens again."""
    body = body.strip()
    if not body:
        raise TicketError(_("Write your message."))
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if user is not None and getattr(user, "pk", None) and ticket.resident_id != user.pk:
            raise PermissionDenied
        message = TicketMessage.objects.create(
            ticket=ticket,
            kind=TicketMessage.Kind.RESIDENT,
            author=user if getattr(user, "pk", None) else None,
            body=body[:MAX_BODY],
            email_message_id=email_message_id[:300] or None,
        )
        ticket.status = TicketStatus.OPEN
        ticket.closed_at = None
        ticket.save(update_fields=["status", "closed_at", "updated_at"])
        audit.record(
            "inquiries.ticket.resident_reply",
            request=request,
            actor=user if getattr(user, "pk", None) else None,
            target=ticket,
            subject=ticket.resident_id,
            details={"reference": ticket.reference, "email": bool(email_message_id)},
        )
    return message


# --- rules and templates (triage and admin staff) ----------------------------------------------


def can_manage_routing(user: Any) -> bool:
    return permissions.can_triage(user) or permissions.is_admin(user)


def save_rule(actor: Any, rule: RoutingRule, *, request: HttpRequest | None = None) -> RoutingRule:
    if not can_manage_routing(actor):
        raise PermissionDenied
    with transaction.atomic():
        created = rule.pk is None
        rule.save()
        audit.record(
            "inquiries.rule.created" if created else "inquiries.rule.changed",
            request=request,
            actor=actor,
            target=rule,
            details={
                "words": rule.words,
                "department": rule.department.code,
                "priority": rule.priority,
                "active": rule.active,
            },
        )
    return rule


def save_template(
    actor: Any, template: ReplyTemplate, *, request: HttpRequest | None = None
) -> ReplyTemplate:
    if not can_manage_routing(actor):
        raise PermissionDenied
    with transaction.atomic():
        created = template.pk is None
        template.save()
        audit.record(
            "inquiries.template.created" if created else "inquiries.template.changed",
            request=request,
            actor=actor,
            target=template,
            details={"title": template.title, "active": template.active},
        )
    return template


def department_choices() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).order_by("code")


def faq_question(key: str, language: str) -> str:
    """The question of a published FAQ entry (the contact form's "about FAQ …" note)."""
    from cityhall.inquiries.models import FaqText

    texts = {
        t.language: t.question
        for t in FaqText.objects.filter(entry__key=key[:64], entry__published=True)
    }
    return texts.get(language) or texts.get("ja") or ""


def sla_days() -> int:
    return int(settings.INQUIRIES_SLA_DAYS)


def by_reference(reference: str) -> Ticket | None:
    return Ticket.objects.filter(reference=reference.strip().upper()).first()
