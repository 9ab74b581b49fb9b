"""The channels residents are reached on, behind one interface (:mod:`.base`).

``sender(channel)`` returns the configured :class:`~.base.ChannelSender` for
``"email"``, ``"line"``, ``"push"`` or ``"inbox"``; ``available()`` lists the channels
this installation can use (LINE needs its token, web push its VAPID key).

The push sender lives in :mod:`.push` (imported only when asked for): it is found as the
module's ``sender()`` function or, failing that, its ``PushSender`` class.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings

from cityhall.notices.channels.base import ChannelSender

ORDER = ["email", "line", "push", "inbox"]


def sender(channel: str, **options: Any) -> ChannelSender:
    """A fresh sender for ``channel`` (options go to its constructor, e.g. e-mail's
    ``include_placeholder_addresses``). Raises ``ValueError`` for an unknown channel."""
    if channel == "email":
        from cityhall.notices.channels.email import EmailSender

        return EmailSender(**options)
    if channel == "line":
        from cityhall.notices.channels.line import LineSender

        return LineSender(**options)
    if channel == "inbox":
        from cityhall.notices.channels.inbox import InboxSender

        return InboxSender(**options)
    if channel == "push":
        module = import_module("cityhall.notices.channels.push")
        factory = getattr(module, "sender", None) or module.PushSender
        result: ChannelSender = factory(**options)
        return result
    raise ValueError(f"unknown channel: {channel!r}")


def _push_available() -> bool:
    try:
        from cityhall.notices.services.push_keys import vapid_public_key
    except ImportError:
        return False
    try:
        return bool(vapid_public_key())
    except Exception:  # a key that cannot be read: web push is off
        return False


def available() -> list[str]:
    """The channels this installation can send on, in a stable order."""
    channels = ["email"]
    if settings.LINE_CHANNEL_ACCESS_TOKEN:
        channels.append("line")
    if _push_available():
        channels.append("push")
    channels.append("inbox")
    return channels
