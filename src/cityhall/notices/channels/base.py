"""One interface for every channel (e-mail, LINE, web push, in-app inbox).

The delivery engine (``services/delivery.py``) takes a batch of deliveries of one
channel, turns each into an :class:`Outgoing` (addresses looked up once per batch
with :meth:`ChannelSender.addresses`) and hands the batch to the channel's
:class:`ChannelSender`. The sender tries its providers in order (failover: a provider
that raised :class:`ProviderDown` is passed over for ``CITYHALL_NOTICES_PROVIDER_COOLDOWN``
seconds), keeps to its rate limit, and answers one :class:`Outcome` per item.

Outcomes:

- ``ok`` — the provider accepted it (``provider_ref`` is its id when it gives one);
- not ``ok`` and ``permanent`` — never retry (address gone, blocked, refused content);
- not ``ok`` and not ``permanent`` — a passing failure: the engine retries with back-off.

A provider is ``idempotent`` when sending the same ``Outgoing.key`` twice cannot reach
the resident twice (LINE's ``X-Line-Retry-Key``; the inbox's unique source key); the
engine may then retry a delivery whose outcome it never learnt (a worker died).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(slots=True)
class Outgoing:
    """One message for one resident on one channel, ready to send."""

    key: str  # the delivery's UUID (idempotency key)
    delivery_id: int
    message_id: int
    user_id: int
    channel: str
    addresses: list[str]  # e-mail address / LINE user id / push subscription JSONs / [] (inbox)
    language: str
    subject: str
    body: str  # plain text, placeholders filled
    url: str = ""  # absolute link to read more (article, my page …)
    unsubscribe_url: str = ""  # absolute one-click unsubscribe URL ("" for alerts)
    topic: str = ""
    urgent: bool = False
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    key: str
    ok: bool
    provider: str
    provider_ref: str = ""
    permanent: bool = False
    error: str = ""


class ProviderDown(Exception):
    """The provider as a whole failed (connection refused, 5xx, timeout): try the next one."""


class Provider(Protocol):
    name: str
    idempotent: bool

    def send(self, batch: Sequence[Outgoing]) -> list[Outcome]:
        """Send every item; raise :class:`ProviderDown` when none could be tried."""
        ...


class ChannelSender(Protocol):
    channel: str
    idempotent: bool

    def addresses(self, user_ids: Sequence[int]) -> dict[int, list[str]]:
        """Where each resident can be reached on this channel (absent: not reachable)."""
        ...

    def send(self, batch: Sequence[Outgoing]) -> list[Outcome]:
        """Send through the first healthy provider, failing over; one outcome per item."""
        ...
