"""Overdue payment reminders (督促) to residents who agreed to be told.

The payments module hands each waiting :class:`~cityhall.payments.models.Reminder` to
:func:`send_reminder` (registered in ``NoticesConfig.ready``). A reminder reaches the
resident only when the charge is linked to an account whose owner granted the ``notify``
consent and did not switch off ``personal`` (applications and payments): then it goes to
the in-app inbox and, when the resident chose e-mail and has a real address, by e-mail.
Otherwise ``None`` is returned and the reminder stays with the clerk, who posts a letter.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from cityhall.core.i18n import html_lang
from cityhall.core.mail import queue_email
from cityhall.notices.models import PERSONAL, InboxItem
from cityhall.notices.services import preferences
from cityhall.notices.services.common import unsubscribe_url
from cityhall.payments.models import PaymentNotice
from cityhall.people.models import Channel, Consent
from cityhall.people.services import accounts


def _payment_path(installment: Any) -> tuple[str, str]:
    """The resident's page for the installment's valid slip (or their payments), and its number."""
    notice = (
        PaymentNotice.objects.filter(installment=installment, status=PaymentNotice.Status.ACTIVE)
        .order_by("-reissue")
        .first()
    )
    if notice is None:
        return reverse("payments:mine"), ""
    return reverse("payments:notice", args=[notice.notice_number]), notice.notice_number


def send_reminder(reminder: Any) -> str | None:
    """Tell the resident about one overdue installment; the channel used, or ``None``."""
    installment = reminder.installment
    charge = installment.charge
    user = charge.resident
    if user is None or not user.is_active:
        return None
    if not accounts.consents(user)[Consent.Purpose.NOTIFY]:
        return None
    if preferences.personal_muted(user):
        return None
    profile = accounts.profile_of(user)
    language = profile.preferred_language or settings.LANGUAGE_CODE
    path, notice_number = _payment_path(installment)
    due_yen = max(installment.amount_yen - installment.paid_yen, 0)
    with translation.override(language):
        kind_name = charge.kind.localized_name(language)
        title = _("Payment overdue: %(kind)s, ¥%(amount)s (due %(date)s)") % {
            "kind": kind_name,
            "amount": f"{due_yen:,}",
            "date": installment.due_date.isoformat(),
        }
        body = _(
            "We have not yet received this payment. If you have already paid, thank you: "
            "payments at a store can take a few days to reach us. Otherwise please pay as "
            "soon as you can; the payment page shows every way to pay."
        )
    channel = "inbox"
    with transaction.atomic():
        preferences.add_inbox_item(
            user.pk,
            kind=InboxItem.Kind.PAYMENT,
            source_key=f"reminder:{reminder.pk}",
            title=title,
            body=body,
            url=path,
        )
        if Channel.EMAIL in profile.channels and user.has_real_email:
            queue_email(
                user.email,
                "notices/email/reminder",
                {
                    "name": user.display_name,
                    "kind_name": kind_name,
                    "fiscal_year": charge.fiscal_year,
                    "period": installment.period,
                    "amount_text": f"{due_yen:,}",
                    "due_date": installment.due_date,
                    "notice_number": notice_number,
                    "url": settings.SITE_URL.rstrip("/") + path,
                    "unsubscribe_url": unsubscribe_url(user.pk, PERSONAL, Channel.EMAIL),
                    "html_lang": html_lang(language),
                },
                language,
            )
            channel = "email"
    return channel
