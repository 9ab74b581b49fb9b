"""Compose e-mails from templates in the recipient's language and queue them."""

from __future__ import annotations

import base64
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from cityhall.core.tasks import send_email


def render_email(template: str, context: dict[str, Any], language: str) -> tuple[str, str, str]:
    """``template`` names ``<template>_subject.txt``, ``<template>.txt`` and optional ``.html``."""
    context = {
        "MUNICIPALITY_NAME": settings.MUNICIPALITY_NAME,
        "SITE_URL": settings.SITE_URL,
        **context,
    }
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        text = render_to_string(f"{template}.txt", context)
        html: str
        try:
            html = render_to_string(f"{template}.html", context)
        except Exception:  # the HTML part is optional
            html = ""
    return subject, text, html


#: An attachment: (filename, content, mimetype); text content is sent as UTF-8.
Attachment = tuple[str, bytes | str, str]


def encode_attachments(attachments: list[Attachment] | None) -> list[list[str]] | None:
    """Attachments as JSON-serialisable task arguments: ``[filename, base64, mimetype]``."""
    if not attachments:
        return None
    encoded = []
    for filename, content, mimetype in attachments:
        raw = content.encode("utf-8") if isinstance(content, str) else content
        encoded.append([filename, base64.b64encode(raw).decode("ascii"), mimetype])
    return encoded


def queue_email(
    to: str,
    template: str,
    context: dict[str, Any],
    language: str,
    attachments: list[Attachment] | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Queue after the surrounding transaction commits, so no mail leaves for rolled-back work.

    ``attachments`` (optional): ``(filename, bytes or str, mimetype)`` tuples.
    ``headers`` (optional): extra header fields, e.g. ``Message-ID``, ``In-Reply-To``,
    ``References``, ``Auto-Submitted`` (RFC 3834).
    """
    subject, text, html = render_email(template, context, language)
    encoded = encode_attachments(attachments)
    extra = clean_headers(headers)
    kwargs: dict[str, Any] = {}
    if encoded is not None:
        kwargs["attachments"] = encoded
    if extra:
        kwargs["headers"] = extra
    transaction.on_commit(lambda: send_email.enqueue([to], subject, text, html, **kwargs))


def clean_headers(headers: dict[str, str] | None) -> dict[str, str] | None:
    """Header fields as plain strings, without empty values or line breaks (no injection)."""
    if not headers:
        return None
    cleaned: dict[str, str] = {}
    for name, value in headers.items():
        name = str(name).strip()
        value = " ".join(str(value).split())
        if not name or not all(33 <= ord(c) <= 126 and c != ":" for c in name):
            raise ValueError(f"bad e-mail header name {name!r}")
        if value:
            cleaned[name] = value
    return cleaned or None
