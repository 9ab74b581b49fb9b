"""Shapes of the news JSON API (``/news``, ``/me/feed``).

Times are ISO 8601 with their offset; language codes are the site's (``ja``, ``ja-easy``,
``pt-br``, ``vi``, ``zh-hans``, ``es``, ``en``).
"""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field


class NewsAttachmentOut(Schema):
    title: str
    content_type: str = Field(description="`application/pdf`, `image/png` or `image/jpeg`.")
    size: int = Field(description="Bytes.")
    url: str


class NewsItemOut(Schema):
    slug: str
    url: str = Field(description="The article's page on the portal.")
    title: str
    summary: str
    body_html: str = Field(description="Sanitised HTML (paragraphs, headings, lists, links).")
    language: str = Field(
        description="The language of this text: the one asked for when an approved "
        "translation exists, else `ja` (the original)."
    )
    translated: bool = Field(description="False when shown in Japanese for want of a translation.")
    topic: str
    topic_label: str = Field(description="In the language of the request.")
    audience: str
    urgent: bool
    districts: list[str] = Field(description="District codes; empty: the whole city.")
    published_at: dt.datetime | None
    valid_until: dt.datetime | None
    attachments: list[NewsAttachmentOut]


class FeedEntryOut(Schema):
    kind: str = Field(
        description="`article`, `alert` (urgent emergency article), or an inbox item's kind "
        "(`message`, `alert`, `application`, `payment`)."
    )
    title: str
    summary: str
    url: str
    published_at: dt.datetime
    urgent: bool
    topic: str
    language: str = Field(description="The language of the title; empty for inbox items.")
    translated: bool
    districts: list[str] = Field(description="District names; empty: whole city or personal.")
    unread: bool
