"""Background tasks of the shared kernel."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django_tasks import task


@task()
def send_email(to: list[str], subject: str, text: str, html: str = "") -> int:
    """Send one e-mail (multipart text + HTML) through the configured backend."""
    message = EmailMultiAlternatives(subject=subject, body=text, to=to)
    if html:
        message.attach_alternative(html, "text/html")
    return message.send()
