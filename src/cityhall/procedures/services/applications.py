"""An application's life on the resident's side: start (prefilled), fill in step by step,
save and resume, submit exactly once, withdraw, talk with the clerk.

The same functions serve the counter (``via=counter``, the clerk as ``actor``) and
the API. Staff-side changes (status, assignment, notes) live in :mod:`.cases`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cityhall.core import audit
from cityhall.core.mail import queue_email
from cityhall.people.models import User
from cityhall.procedures import signals
from cityhall.procedures.formspec import display, validate
from cityhall.procedures.formspec.schema import FieldType, FormSpec, parse
from cityhall.procedures.formspec.validate import FieldError
from cityhall.procedures.models import (
    RESIDENT_WITHDRAWABLE,
    Application,
    ApplicationEvent,
    FormVersion,
    Procedure,
    Status,
)
from cityhall.procedures.services import prefill

RESUME_SALT = "cityhall.procedures.resume"
UNCHECKED = "_unchecked"  # data key holding a step's input that did not pass validation yet


class ApplicationError(Exception):
    """A request the application cannot follow; ``code`` is stable, ``message`` translated."""

    def __init__(self, code: str, message: str, errors: list[FieldError] | None = None) -> None:
        self.code = code
        self.message = message
        self.errors = errors or []
        super().__init__(message)


# --- forms ------------------------------------------------------------------------------


def published_version(procedure: Procedure) -> FormVersion | None:
    return FormVersion.objects.filter(definition__procedure=procedure).order_by("-number").first()


@lru_cache(maxsize=512)
def _parsed(version_id: int) -> FormSpec:
    return parse(FormVersion.objects.values_list("spec", flat=True).get(pk=version_id))


def spec_of(version: FormVersion | int) -> FormSpec:
    """The parsed form of a published version (versions never change, so this is cached)."""
    return _parsed(version if isinstance(version, int) else version.pk)


def is_counter(application: Application) -> bool:
    return application.via == Application.Via.COUNTER


# --- starting and filling in --------------------------------------------------------------


def open_draft(procedure: Procedure, applicant: User) -> Application | None:
    return (
        Application.objects.filter(
            procedure=procedure,
            applicant=applicant,
            status=Status.DRAFT,
            via=Application.Via.ONLINE,
            created_at__gte=timezone.now() - dt.timedelta(days=settings.DRAFT_DAYS),
        )
        .order_by("-updated_at")
        .first()
    )


def start(
    procedure: Procedure,
    applicant: User,
    *,
    assurance: str,
    language: str = "ja",
    via: str = Application.Via.ONLINE,
    actor: User | None = None,
    counter_session: Any = None,
    request: Any = None,
) -> Application:
    """A draft for ``procedure``, prefilled from what the city already knows.

    Online, an unfinished draft of the same procedure is resumed instead of starting again.
    """
    if not procedure.is_active:
        raise ApplicationError("inactive", _("This procedure is not available."))
    version = published_version(procedure)
    if version is None:
        raise ApplicationError("no_form", _("This procedure cannot be done online yet."))
    if via == Application.Via.ONLINE:
        if not procedure.online:
            raise ApplicationError("counter_only", _("This procedure is done at the counter."))
        draft = open_draft(procedure, applicant)
        if draft is not None:
            return draft
    filled = prefill.fill(spec_of(version), prefill.Context(applicant, assurance))
    with transaction.atomic():
        application = Application.objects.create(
            procedure=procedure,
            department_id=procedure.department_id,
            version=version,
            applicant=applicant,
            via=via,
            data=filled.values,
            prefill_sources=sorted(set(filled.sources.values())),
            language=language,
            fee_yen=procedure.fee_yen,
            counter_session=counter_session,
        )
        audit.record(
            "application.start",
            request=request,
            actor=actor or applicant,
            target=application,
            subject=applicant,
            details={"procedure": procedure.slug, "via": via, "prefill": filled.sources},
        )
    return application


def save_step(application: Application, step_key: str, values: dict[str, Any]) -> Application:
    """Keep a step's checked answers; the next step to fill in moves on past it."""
    if application.status != Status.DRAFT:
        raise ApplicationError("not_draft", _("This application has already been sent."))
    spec = spec_of(application.version_id)
    index = spec.step_index(step_key)
    data = dict(application.data or {})
    for f in spec.steps[index].fields:
        data.pop(f.key, None)
    data.update(values)
    unchecked = dict(data.get(UNCHECKED) or {})
    unchecked.pop(step_key, None)
    if unchecked:
        data[UNCHECKED] = unchecked
    else:
        data.pop(UNCHECKED, None)
    application.data = data
    application.step = max(application.step, index + 1)
    application.save(update_fields=["data", "step", "updated_at"])
    return application


def save_unchecked(application: Application, step_key: str, raw: dict[str, Any]) -> Application:
    """Keep what was typed in a step even though it does not pass yet ("save and finish later")."""
    if application.status != Status.DRAFT:
        raise ApplicationError("not_draft", _("This application has already been sent."))
    data = dict(application.data or {})
    unchecked = dict(data.get(UNCHECKED) or {})
    unchecked[step_key] = raw
    data[UNCHECKED] = unchecked
    application.data = data
    application.save(update_fields=["data", "updated_at"])
    return application


def unchecked_input(application: Application, step_key: str) -> dict[str, Any] | None:
    return (application.data or {}).get(UNCHECKED, {}).get(step_key)


def answers(application: Application) -> dict[str, Any]:
    """The checked answers (without the unchecked input kept for drafts)."""
    return {k: v for k, v in (application.data or {}).items() if not k.startswith("_")}


def problems(application: Application) -> list[FieldError]:
    """What still stops submission (missing or invalid answers), in form order."""
    spec = spec_of(application.version_id)
    data = validate.prune(spec, answers(application), counter=is_counter(application))
    return validate.validate_all(
        spec, data, counter=is_counter(application), today=timezone.localdate()
    )


def discard(application: Application, *, actor: User, request: Any = None) -> None:
    """Throw a draft away (a broken or unwanted draft never blocks the resident)."""
    if application.status != Status.DRAFT:
        raise ApplicationError("not_draft", _("Only an unfinished application can be deleted."))
    with transaction.atomic():
        audit.record(
            "application.discard",
            request=request,
            actor=actor,
            target=application,
            subject=application.applicant_id,
        )
        application.delete()


# --- submission ---------------------------------------------------------------------------


def reference_for(pk: int, year: int) -> str:
    """Receipt number ``YYYY-NNNNNNN-C``: the year, the id and a Luhn check digit,
    so a number read out at the counter or typed by a resident is checked."""
    body = f"{year}{pk:07d}"
    return f"{year}-{pk:07d}-{luhn_digit(body)}"


def luhn_digit(digits: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def is_valid_reference(reference: str) -> bool:
    parts = reference.strip().split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return False
    return luhn_digit(parts[0] + parts[1]) == int(parts[2])


def applicant_name(spec: FormSpec, data: dict[str, Any]) -> str:
    """The applicant's name as given in the form (the first name field), for the board."""
    for f in spec.fields():
        if f.type == FieldType.NAME and isinstance(data.get(f.key), dict):
            value = data[f.key]
            return " ".join(p for p in (value.get("family", ""), value.get("given", "")) if p)
    return ""


def _due_date(procedure: Procedure, submitted_at: dt.datetime) -> dt.date:
    from cityhall.procedures.services import cases

    return cases.due_date_for(procedure, submitted_at)


def submit(
    application: Application,
    *,
    actor: User,
    assurance: str,
    request: Any = None,
    idempotency_key: str | None = None,
    counter_seconds: int | None = None,
) -> Application:
    """Submit a draft exactly once.

    Pressing the button twice, or a retried request, finds the application already
    submitted and returns it unchanged. Raises :class:`ApplicationError` when answers
    are missing or the procedure needs the card step-up this session has not done.
    """
    with transaction.atomic():
        app = (
            Application.objects.select_for_update(of=("self",))
            .select_related("procedure", "applicant")
            .get(pk=application.pk)
        )
        if app.status != Status.DRAFT:
            return app
        procedure = app.procedure
        counter = is_counter(app)
        if (
            procedure.requires_identity
            and not counter
            and prefill.RANK.get(assurance, 0) < prefill.RANK["card"]
        ):
            raise ApplicationError(
                "identity_required",
                _("This procedure needs you to prove who you are with your My Number Card."),
            )
        spec = spec_of(app.version_id)
        data, errors = validate.clean_all(
            spec, answers(app), counter=counter, today=timezone.localdate()
        )
        if errors:
            raise ApplicationError(
                "incomplete", _("Some answers are missing or need correcting."), errors
            )
        now = timezone.now()
        app.data = data
        app.status = Status.SUBMITTED
        app.submitted_at = now
        app.reference = reference_for(app.pk, timezone.localtime(now).year)
        app.due_date = _due_date(procedure, now)
        app.applicant_name = applicant_name(spec, data)
        app.assurance = assurance
        app.idempotency_key = idempotency_key
        app.counter_seconds = counter_seconds
        app.fee_status = "due" if app.fee_yen else ""
        app.save()
        ApplicationEvent.objects.create(
            application=app,
            kind=ApplicationEvent.Kind.SUBMITTED,
            to_status=Status.SUBMITTED,
            actor=actor,
            visible_to_resident=True,
        )
        audit.record(
            "application.submit",
            request=request,
            actor=actor,
            target=app,
            subject=app.applicant_id,
            details={
                "reference": app.reference,
                "via": app.via,
                "counter_seconds": counter_seconds,
            },
        )
        send_receipt(app)
        transaction.on_commit(
            lambda: signals.application_submitted.send(sender=Application, application=app)
        )
    return app


def set_fee_status(
    application_id: int, status: str, *, actor: User | None = None, request: Any = None
) -> bool:
    """Record the state of the fee (``due``, ``paid``, ``waived``, ``refunded``), for the
    payments module; ``True`` when it changed. A paid fee shows in the resident's history."""
    if status not in ("due", "paid", "waived", "refunded"):
        raise ValueError(f"unknown fee status {status!r}")
    with transaction.atomic():
        app = Application.objects.select_for_update().filter(pk=application_id).first()
        if app is None or app.fee_status == status:
            return False
        previous = app.fee_status
        app.fee_status = status
        app.save(update_fields=["fee_status", "updated_at"])
        if status == "paid":
            ApplicationEvent.objects.create(
                application=app,
                kind=ApplicationEvent.Kind.FEE_PAID,
                actor=actor,
                visible_to_resident=True,
            )
        audit.record(
            "application.fee_status",
            request=request,
            actor=actor,
            target=app,
            subject=app.applicant_id,
            details={"from": previous, "to": status},
        )
    return True


def by_idempotency_key(key: str) -> Application | None:
    return Application.objects.filter(idempotency_key=key).first()


def submit_with_key(
    application: Application, *, idempotency_key: str, **kwargs: Any
) -> Application:
    """:func:`submit` for API clients that send an ``Idempotency-Key``: a race on the same
    key ends with both callers getting the one application."""
    try:
        return submit(application, idempotency_key=idempotency_key, **kwargs)
    except IntegrityError:
        existing = by_idempotency_key(idempotency_key)
        if existing is None:
            raise
        return existing


def application_url(application: Application) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("procedures:application", args=[application.pk])


def send_receipt(application: Application) -> None:
    """The receipt e-mail (受付のお知らせ), in the language the application was made in."""
    if not application.applicant.has_real_email:
        return
    spec = spec_of(application.version_id)
    queue_email(
        application.applicant.email,
        "procedures/email/receipt",
        {
            "application": application,
            "procedure_title": application.procedure.text("title", application.language),
            "url": application_url(application),
            "spec_title": spec.title,
        },
        application.language,
    )


# --- after submission (resident side) -------------------------------------------------------


def for_resident(user: User) -> QuerySet[Application]:
    return (
        Application.objects.filter(applicant=user)
        .select_related("procedure", "procedure__department")
        .order_by("-created_at")
    )


@dataclass(frozen=True)
class Overview:
    recent: list[Application]
    needs_you: int


def overview(user: User) -> Overview:
    """For my page: the latest applications and how many wait for the resident."""
    recent = list(for_resident(user)[:5])
    needs_you = Application.objects.filter(applicant=user, status=Status.NEEDS_INFO).count()
    return Overview(recent, needs_you)


def withdraw(application: Application, *, actor: User, request: Any = None) -> Application:
    with transaction.atomic():
        app = Application.objects.select_for_update().get(pk=application.pk)
        if app.status not in RESIDENT_WITHDRAWABLE:
            raise ApplicationError(
                "not_withdrawable", _("This application can no longer be withdrawn.")
            )
        previous = app.status
        app.status = Status.WITHDRAWN
        app.decided_at = timezone.now()
        app.save(update_fields=["status", "decided_at", "updated_at"])
        ApplicationEvent.objects.create(
            application=app,
            kind=ApplicationEvent.Kind.STATUS,
            from_status=previous,
            to_status=Status.WITHDRAWN,
            actor=actor,
            visible_to_resident=True,
        )
        audit.record(
            "application.withdraw", request=request, actor=actor, target=app, subject=actor
        )
        transaction.on_commit(
            lambda: signals.application_status_changed.send(
                sender=Application,
                application=app,
                from_status=previous,
                to_status=Status.WITHDRAWN,
                actor=actor,
            )
        )
    return app


def reply(application: Application, text: str, *, actor: User, request: Any = None) -> None:
    """The resident answers the clerk. A reply to "more information needed" puts the
    application back in review."""
    text = text.strip()
    if not text:
        raise ApplicationError("empty", _("Write a message."))
    if application.status in (Status.DRAFT, Status.WITHDRAWN):
        raise ApplicationError("closed", _("Messages cannot be sent for this application."))
    with transaction.atomic():
        app = Application.objects.select_for_update().get(pk=application.pk)
        ApplicationEvent.objects.create(
            application=app,
            kind=ApplicationEvent.Kind.MESSAGE_FROM_RESIDENT,
            text=text,
            actor=actor,
            visible_to_resident=True,
        )
        if app.status == Status.NEEDS_INFO:
            app.status = Status.IN_REVIEW
            app.save(update_fields=["status", "updated_at"])
            ApplicationEvent.objects.create(
                application=app,
                kind=ApplicationEvent.Kind.STATUS,
                from_status=Status.NEEDS_INFO,
                to_status=Status.IN_REVIEW,
                actor=actor,
                visible_to_resident=True,
            )
        audit.record("application.reply", request=request, actor=actor, target=app, subject=actor)


def resident_events(application: Application) -> QuerySet[ApplicationEvent]:
    """The history the resident sees: status changes and messages, never internal notes."""
    return application.events.filter(visible_to_resident=True).select_related("actor")


# --- resume links ---------------------------------------------------------------------------


def resume_token(application: Application) -> str:
    return signing.dumps({"a": application.pk, "u": application.applicant_id}, salt=RESUME_SALT)


def from_resume_token(token: str, user: User) -> Application | None:
    """The draft a resume link points at, if the link is valid and ``user`` made the draft."""
    try:
        payload = signing.loads(token, salt=RESUME_SALT, max_age=settings.DRAFT_DAYS * 86400)
    except signing.BadSignature:
        return None
    if payload.get("u") != user.pk:
        return None
    return Application.objects.filter(pk=payload.get("a"), applicant=user).first()


def send_resume_link(application: Application, url: str) -> None:
    """E-mail the resident a link back to their unfinished application."""
    if not application.applicant.has_real_email:
        return
    queue_email(
        application.applicant.email,
        "procedures/email/resume",
        {
            "application": application,
            "procedure_title": application.procedure.text("title", application.language),
            "url": url,
            "days": settings.DRAFT_DAYS,
        },
        application.language,
    )


def summary(application: Application, language: str, words: dict[str, str]) -> list[Any]:
    """The answers as rows for the confirmation page, the receipt PDF and the case page."""
    spec = spec_of(application.version_id)
    return display.rows(
        spec, answers(application), language, counter=is_counter(application), words=words
    )
