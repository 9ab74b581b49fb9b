"""Background tasks of the shared kernel."""

from __future__ import annotations

import base64

from django.core.mail import EmailMultiAlternatives
from django_tasks import task


@task()
def send_email(
    to: list[str],
    subject: str,
    text: str,
    html: str = "",
    attachments: list[list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    """Send one e-mail (multipart text + HTML) through the configured backend.

    ``attachments``: ``[filename, base64 content, mimetype]`` triples (JSON-serialisable,
    as task arguments must be); see :func:`cityhall.core.mail.encode_attachments`.
    ``headers``: extra header fields (``Message-ID``, ``In-Reply-To``, ``Auto-Submitted``…).
    """
    message = EmailMultiAlternatives(subject=subject, body=text, to=to, headers=headers or None)
    if html:
        message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments or []:
        message.attach(filename, base64.b64decode(content), mimetype)
    return message.send()
