"""Small rules shared by the delivery engine, the preferences and the pages.

- :func:`quiet_until`: when a resident's quiet hours hold at ``at``, the moment they end
  (local time, Asia/Tokyo); else ``None``. Emergency alerts ignore it.
- :func:`unsubscribe_token` / :func:`read_unsubscribe_token`: a signed, non-expiring
  token naming (resident, topic, channel) for one-click unsubscribe (RFC 8058) — the
  link in every e-mail's ``List-Unsubscribe`` header and footer works without a login.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core import signing
from django.urls import reverse
from django.utils import timezone

from cityhall.core.http import absolute_url

_SALT = "cityhall.notices.unsubscribe"


def quiet_until(
    start: dt.time | None, end: dt.time | None, at: dt.datetime | None = None
) -> dt.datetime | None:
    """The end of the quiet window containing ``at``, or ``None`` when ``at`` is not quiet.

    A window may cross midnight (21:00–07:00). ``start == end`` or a missing bound means
    no quiet hours.
    """
    if start is None or end is None or start == end:
        return None
    now = timezone.localtime(at or timezone.now())
    t = now.time()
    if start < end:
        quiet = start <= t < end
        end_day = now.date()
    else:  # crosses midnight
        quiet = t >= start or t < end
        end_day = now.date() + dt.timedelta(days=1) if t >= start else now.date()
    if not quiet:
        return None
    naive = dt.datetime.combine(end_day, end)
    return timezone.make_aware(naive, timezone.get_current_timezone())


@dataclass(frozen=True)
class UnsubscribeRequest:
    user_id: int
    topic: str
    channel: str


def unsubscribe_token(user_id: int, topic: str, channel: str) -> str:
    return signing.dumps([user_id, topic, channel], salt=_SALT, compress=True)


def read_unsubscribe_token(token: str) -> UnsubscribeRequest | None:
    try:
        user_id, topic, channel = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return UnsubscribeRequest(int(user_id), str(topic), str(channel))


def unsubscribe_url(user_id: int, topic: str, channel: str) -> str:
    token = unsubscribe_token(user_id, topic, channel)
    return absolute_url(reverse("notices:unsubscribe", args=[token]))
