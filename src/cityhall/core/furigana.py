"""Furigana: ruby readings over kanji, generated with pykakasi.

``annotate_text`` turns 「伊賀市役所に行く」 into ruby markup over 伊賀, 市役所 and 行,
keeping okurigana (the く of 行く) outside the ruby.
``FuriganaMiddleware`` applies it to the text of HTML pages (never inside tags,
``<script>``, ``<style>``, ``<title>``, ``<option>``, ``<textarea>`` or existing ruby,
nor inside an element marked ``data-no-furigana``) when the reader turned furigana
on, and by default in やさしい日本語.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

from cityhall.core.i18n import FURIGANA_BY_DEFAULT

COOKIE = "cityhall_furigana"
KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ]")
KANA = re.compile(r"[\u3040-\u30ff]")
TOKEN = re.compile(r"(<!--.*?-->|<[^>]*>)", re.DOTALL)
TAG_NAME = re.compile(r"<\s*(/?)\s*([a-zA-Z0-9-]+)")
SKIP_ELEMENTS = {
    "script",
    "style",
    "title",
    "option",
    "textarea",
    "ruby",
    "rt",
    "rp",
    "code",
    "svg",
}
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


@lru_cache(maxsize=1)
def _kakasi() -> Any:
    import pykakasi

    return pykakasi.kakasi()


def _to_hira(katakana: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in katakana)


def _ruby(base: str, reading: str) -> str:
    return f"<ruby>{base}<rp>(</rp><rt>{reading}</rt><rp>)</rp></ruby>"


def _word(orig: str, hira: str) -> str:
    """Ruby over the kanji core of one word, okurigana left outside."""
    if not KANJI.search(orig) or not hira or hira == orig:
        return html.escape(orig, quote=False)
    # Strip kana the reading shares with the written form, at both ends.
    head = 0
    while (
        head < len(orig)
        and head < len(hira)
        and not KANJI.match(orig[head])
        and _to_hira(orig[head]) == hira[head]
    ):
        head += 1
    tail = 0
    while (
        tail < len(orig) - head
        and tail < len(hira) - head
        and not KANJI.match(orig[-1 - tail])
        and _to_hira(orig[-1 - tail]) == hira[-1 - tail]
    ):
        tail += 1
    core = orig[head : len(orig) - tail]
    core_reading = hira[head : len(hira) - tail]
    if not core or not core_reading:
        return html.escape(orig, quote=False)
    return (
        html.escape(orig[:head], quote=False)
        + _ruby(html.escape(core, quote=False), html.escape(core_reading, quote=False))
        + html.escape(orig[len(orig) - tail :], quote=False)
    )


@lru_cache(maxsize=50_000)
def annotate_text(text: str) -> str:
    """Plain text in, HTML with ruby out (the text is escaped)."""
    if not KANJI.search(text):
        return html.escape(text, quote=False)
    items = _kakasi().convert(text)
    if "".join(item["orig"] for item in items) != text:
        return html.escape(text, quote=False)
    return "".join(_word(item["orig"], item["hira"]) for item in items)


def annotate_html(document: str) -> str:
    """Add ruby to the text nodes of an HTML document or fragment."""
    out: list[str] = []
    skip_depth = 0
    skip_stack: list[str] = []
    for part in TOKEN.split(document):
        if not part:
            continue
        if part.startswith("<"):
            out.append(part)
            if part.startswith("<!"):
                continue
            match = TAG_NAME.match(part)
            if not match:
                continue
            closing, name = match.group(1) == "/", match.group(2).lower()
            if closing:
                if skip_stack and skip_stack[-1] == name:
                    skip_stack.pop()
                    skip_depth -= 1
            elif name not in VOID and not part.endswith("/>"):
                if name in SKIP_ELEMENTS or "data-no-furigana" in part:
                    skip_stack.append(name)
                    skip_depth += 1
                elif skip_stack:
                    # nested element inside a skipped one: track to keep the stack honest
                    skip_stack.append(name)
                    skip_depth += 1
            continue
        if skip_depth or not KANJI.search(part):
            out.append(part)
            continue
        out.append(annotate_text(html.unescape(part)))
    return "".join(out)


def wants_furigana(request: HttpRequest) -> bool:
    cookie = request.COOKIES.get(COOKIE)
    if cookie in {"1", "0"}:
        return cookie == "1"
    return (get_language() or "") in FURIGANA_BY_DEFAULT


class FuriganaMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.furigana = wants_furigana(request)  # type: ignore[attr-defined]
        response = self.get_response(request)
        if (
            request.furigana  # type: ignore[attr-defined]
            and (response.status_code == 200 or 400 <= response.status_code < 500)
            and not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
        ):
            charset = response.charset or "utf-8"
            response.content = annotate_html(response.content.decode(charset)).encode(charset)
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response
