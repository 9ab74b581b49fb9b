"""Background tasks of notices (Django's tasks API; ``cityhall worker`` runs them).

``cityhall send_notices`` does the same work in a loop of its own, for installations that
want dedicated sending workers.
"""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from cityhall.notices.models import Message
from cityhall.notices.services import delivery, messages


@task()
def queue_message_task(message_id: int) -> int:
    """Queue a scheduled message whose time has come; returns the deliveries created."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None or message.state != Message.State.SCHEDULED:
        return 0
    if message.scheduled_at is not None and message.scheduled_at > timezone.now():
        return 0  # moved later: dispatch_due (or a new task) takes it then
    return messages.queue(message)


@task()
def send_deliveries_task(channel: str) -> int:
    """Send the due deliveries of one channel; returns how many were handled."""
    return delivery.send_pending(channel=channel, worker="task")
