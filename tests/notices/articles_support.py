"""Helpers for the articles, news and feed tests: articles built through the service and
small real files (a minimal PDF, PNG and JPEG drawn by Pillow, a DOS/Windows program
header)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (30, 30, 200)).save(out, format="JPEG")
    return out.getvalue()


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> Any:
    return SimpleUploadedFile(name, data, content_type=content_type)


def make_article(
    *,
    title: str = "ごみ収集日の変更",
    topic: str = "garbage",
    audience: str = "everyone",
    districts: Sequence[Any] = (),
    urgent: bool = False,
    publish: bool = True,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    translations: dict[str, str] | None = None,
    approve: bool = True,
    actor: Any = None,
    body_html: str = "<p>本文です。</p>",
    summary: str = "",
) -> Any:
    """An article with its Japanese text, optional translations ({language: title}), and
    published unless ``publish=False``."""
    from cityhall.notices.services import articles

    article = articles.create_article(
        topic=topic,
        audience=audience,
        districts=list(districts),
        department=None,
        valid_from=valid_from or timezone.now() - dt.timedelta(minutes=5),
        valid_until=valid_until,
        urgent=urgent,
        title=title,
        summary=summary or f"{title}の概要",
        body_html=body_html,
        actor=actor,
    )
    for language, text in (translations or {}).items():
        version = articles.save_version(
            article,
            language,
            title=text,
            summary=f"{text} (summary)",
            body_html=f"<p>{text} body</p>",
            actor=actor,
        )
        if approve:
            articles.approve_version(version, actor)
    if publish:
        articles.publish(article, actor, None)
    article.refresh_from_db()
    return article


def english(client: Any) -> Any:
    client.cookies["cityhall_lang"] = "en"
    return client
