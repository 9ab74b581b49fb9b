"""The in-app inbox: a delivery becomes an item on the resident's inbox page.

Idempotent: the item's source key is ``delivery:<key>`` and ``(user, source_key)`` is
unique, so a delivery sent again after a worker died adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from cityhall.notices.channels.base import Outcome, Outgoing


class InboxSender:
    channel = "inbox"
    idempotent = True
    name = "inbox"

    def addresses(self, user_ids: Sequence[int]) -> dict[int, list[str]]:
        """Every active resident has an inbox (it needs no address)."""
        from cityhall.people.models import User

        ids = User.objects.filter(id__in=list(user_ids), is_active=True).values_list(
            "id", flat=True
        )
        return {user_id: [] for user_id in ids}

    def send(self, batch: Sequence[Outgoing]) -> list[Outcome]:
        from cityhall.notices.models import Message
        from cityhall.notices.services import preferences

        outcomes: list[Outcome] = []
        for item in batch:
            source_key = f"delivery:{item.key}"
            try:
                preferences.add_inbox_item(
                    item.user_id,
                    kind="alert" if item.urgent else "message",
                    source_key=source_key,
                    title=item.subject,
                    body=item.body,
                    url=item.url,
                    urgent=item.urgent,
                    message=Message(pk=item.message_id) if item.message_id else None,
                )
            except Exception as exc:  # a database error on one item fails that item only
                outcomes.append(
                    Outcome(item.key, False, self.name, error=f"{type(exc).__name__}: {exc}"[:400])
                )
                continue
            outcomes.append(Outcome(item.key, True, self.name, provider_ref=source_key))
        return outcomes
