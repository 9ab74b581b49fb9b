"""What happens elsewhere that the resident's inbox shows: application status changes,
messages from the city about an application, and payments received.

Each event adds one inbox item, once (its ``source_key`` names the event, so a repeated
signal adds nothing), in the resident's language, unless the resident switched off the
``personal`` topic. No e-mail is sent here: procedures already e-mails status changes
and messages. A failure here is logged and never breaks the change that sent the signal
(the signals are sent after the change has committed).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.dispatch import receiver
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _

from cityhall.notices.models import InboxItem
from cityhall.notices.services import preferences
from cityhall.payments import signals as payment_signals
from cityhall.payments.models import PaymentNotice
from cityhall.people.services import accounts
from cityhall.procedures import signals as procedure_signals
from cityhall.procedures.models import Status

log = logging.getLogger(__name__)


def _language(user: Any, preferred: str | None = None) -> str:
    if preferred:
        return preferred
    profile = getattr(user, "profile", None)
    if profile is None:
        profile = accounts.profile_of(user)
    return profile.preferred_language or settings.LANGUAGE_CODE


def _application_path(application: Any) -> str:
    try:
        return reverse("procedures:application", args=[application.pk])
    except NoReverseMatch:  # pragma: no cover - procedures' resident pages not installed
        return ""


def _application_name(application: Any, language: str) -> str:
    title = application.procedure.text("title", language)
    if application.reference:
        return f"{title} ({application.reference})"
    return str(title)


@receiver(procedure_signals.application_status_changed, dispatch_uid="notices-status")
def on_status_changed(
    sender: Any, application: Any, from_status: str, to_status: str, **kwargs: Any
) -> None:
    try:
        user = application.applicant
        if to_status == Status.DRAFT or user.is_staff or preferences.personal_muted(user):
            return
        language = _language(user, application.language)
        with translation.override(language):
            status_label = str(dict(Status.choices).get(to_status, to_status))
            title = _("Your application %(name)s: %(status)s") % {
                "name": _application_name(application, language),
                "status": status_label,
            }
            body = _("The status of your application changed to “%(status)s”.") % {
                "status": status_label
            }
        preferences.add_inbox_item(
            user.pk,
            kind=InboxItem.Kind.APPLICATION,
            source_key=f"application:{application.pk}:{to_status}",
            title=title,
            body=body,
            url=_application_path(application),
            urgent=to_status == Status.NEEDS_INFO,
        )
    except Exception:
        log.exception("inbox item for application %s not added", getattr(application, "pk", "?"))


@receiver(procedure_signals.resident_message_posted, dispatch_uid="notices-message")
def on_message_posted(sender: Any, application: Any, event: Any, **kwargs: Any) -> None:
    try:
        user = application.applicant
        if user.is_staff or preferences.personal_muted(user):
            return
        language = _language(user, application.language)
        with translation.override(language):
            title = _("New message from the city about %(name)s") % {
                "name": _application_name(application, language)
            }
            body = _("Read the message and answer it on the page of your application.")
        preferences.add_inbox_item(
            user.pk,
            kind=InboxItem.Kind.APPLICATION,
            source_key=f"application:{application.pk}:message:{event.pk}",
            title=title,
            body=body,
            url=_application_path(application),
        )
    except Exception:
        log.exception("inbox item for message %s not added", getattr(event, "pk", "?"))


@receiver(payment_signals.installment_paid, dispatch_uid="notices-paid")
def on_installment_paid(sender: Any, installment: Any, **kwargs: Any) -> None:
    try:
        charge = installment.charge
        user = charge.resident
        if user is None or preferences.personal_muted(user):
            return
        language = _language(user)
        notice = PaymentNotice.objects.filter(installment=installment).order_by("-reissue").first()
        path = (
            reverse("payments:notice", args=[notice.notice_number])
            if notice is not None
            else reverse("payments:mine")
        )
        provisional = installment.status == "provisional"
        with translation.override(language):
            kind_name = charge.kind.localized_name(language)
            amount = f"{installment.paid_yen or installment.amount_yen:,}"
            if provisional:
                title = _("Payment made: %(kind)s, ¥%(amount)s (being confirmed)") % {
                    "kind": kind_name,
                    "amount": amount,
                }
                body = _(
                    "Thank you. A payment at a store or with a payment app is confirmed when "
                    "the store's report reaches the city, in a few days. You do not need to "
                    "pay again."
                )
            else:
                title = _("Payment received: %(kind)s, ¥%(amount)s") % {
                    "kind": kind_name,
                    "amount": amount,
                }
                body = _("Thank you. The city has received your payment.")
        preferences.add_inbox_item(
            user.pk,
            kind=InboxItem.Kind.PAYMENT,
            source_key=f"payment:{installment.pk}:{installment.status}",
            title=title,
            body=body,
            url=path,
        )
    except Exception:
        log.exception("inbox item for installment %s not added", getattr(installment, "pk", "?"))
