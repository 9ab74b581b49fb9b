"""Amounts of money in templates: ``{% load money %}{{ amount|yen }}``.

Amounts are integer yen. Japanese pages write ``12,345円``; other languages ``¥12,345``
(the yen sign before the digits, as residents from abroad read prices). No float ever.
"""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

register = template.Library()


def format_yen(amount: int | None, language: str | None = None) -> str:
    if amount is None or amount == "":
        return ""
    value = int(amount)
    digits = f"{abs(value):,}"
    sign = "-" if value < 0 else ""
    language = language or get_language() or "ja"
    if language.startswith("ja"):
        return f"{sign}{digits}円"
    return f"{sign}¥{digits}"


@register.filter
def yen(amount: int | None) -> str:
    return format_yen(amount)
