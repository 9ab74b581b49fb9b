"""Template helpers of the chat: a generated answer with its ``[n]`` citations as links."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()

_CITATION = re.compile(r"\[(\d{1,2})\]")


@register.simple_tag
def cited_text(text: str, citations: dict[int, Any]) -> SafeString:
    """``text`` escaped, paragraphs kept, each ``[n]`` a link to the FAQ entry or the
    procedure page it cites."""

    def link(match: re.Match[str]) -> str:
        citation = citations.get(int(match.group(1)))
        if citation is None:
            return match.group(0)
        return str(
            format_html(
                '<a href="{}" class="chat-cite"><span class="visually-hidden">{} </span>[{}]</a>',
                reverse(
                    "procedures:detail" if citation.kind == "procedure" else "inquiries:faq_entry",
                    args=[citation.key],
                ),
                _("Source"),
                citation.number,
            )
        )

    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", str(text)) if p.strip()]
    html = "".join(
        "<p>" + _CITATION.sub(link, escape(p)).replace("\n", "<br>") + "</p>" for p in paragraphs
    )
    return mark_safe(html)  # noqa: S308 — every piece is escaped above
