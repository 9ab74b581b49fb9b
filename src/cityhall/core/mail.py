"""Compose e-mails from templates in the recipient's language and queue them."""

from __future__ import annotations

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


def queue_email(to: str, template: str, context: dict[str, Any], language: str) -> None:
    """Queue after the surrounding transaction commits, so no mail leaves for rolled-back work."""
    subject, text, html = render_email(template, context, language)
    transaction.on_commit(lambda: send_email.enqueue([to], subject, text, html))
