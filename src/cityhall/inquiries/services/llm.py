"""Generated chat answers, grounded on the FAQ and procedure pages (生成回答): optional,
off by default.

An OpenAI-compatible Chat Completions API (``POST {CITYHALL_LLM_URL}/chat/completions``)
writes a short answer from the FAQ entries the search found and the procedure pages they
link to — and from nothing else:

- the prompt holds ONLY the retrieved entries (id, question, answer, source URL), at most
  :data:`MAX_SOURCES`, each scoring at least ``CITYHALL_FAQ_MIN_SCORE``, the procedures
  those entries name (title, summary, who, what to bring, fee, where, hours; at most
  :data:`MAX_PROCEDURES`), and the resident's question with e-mail addresses and phone
  numbers removed;
- nothing relevant found: the model is not called at all (the chat says so itself);
- the answer must cite its sources as ``[n]``; an answer that cites nothing, or cites a
  number that was not given, is dropped and the plain FAQ answers are shown instead;
- timeouts, HTTP errors and malformed replies fall back to the FAQ answers silently
  (a warning goes to the log).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.urls import reverse

from cityhall.inquiries.services.search import Hit
from cityhall.procedures.services import catalogue

log = logging.getLogger(__name__)

MAX_SOURCES = 5
MAX_PROCEDURES = 3
#: The parts of a procedure page the model sees, in this order.
PROCEDURE_PARTS = ("summary", "eligibility", "bring", "fee", "where", "hours")
MAX_TOKENS = 600

#: How the prompt names the resident's language (the UI language codes).
LANGUAGE_NAMES = {
    "ja": "Japanese",
    "ja-easy": "Easy Japanese (やさしい日本語: short sentences, simple words, no difficult kanji)",
    "pt-br": "Brazilian Portuguese",
    "vi": "Vietnamese",
    "zh-hans": "Simplified Chinese",
    "es": "Spanish",
    "en": "English",
}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Japanese and international phone numbers: 0595-22-2500, 090 1234 5678, +81-90-…, 0120…
_PHONE = re.compile(r"(?<!\w)(?:\+\d{1,3}[\s‐-]?)?\(?\d{2,5}\)?(?:[\s‐-]?\d{2,4}){2,3}(?!\w)")
_CITATION = re.compile(r"\[(\d{1,2})\]")

SYSTEM_PROMPT = (
    "You answer residents' questions for a Japanese city hall. Answer ONLY from the "
    "numbered sources given below (the city's FAQ entries and procedure pages); do not "
    "use any other knowledge. Write the answer in {language}. Keep it short (at most "
    "five sentences) and plain. After each statement, cite the source it comes from as "
    "[n], the number of the source. If the sources do not answer the question, say that "
    "you do not know and that the resident can ask a member of staff; do not guess. "
    "Never ask for or repeat personal data."
)


@dataclass(frozen=True)
class Source:
    """One numbered source the model sees: an FAQ entry or a procedure page."""

    kind: str  # "faq" | "procedure"
    key: str  # FAQ id or procedure slug
    title: str
    text: str
    url: str = ""


@dataclass(frozen=True)
class Citation:
    number: int
    key: str
    question: str
    kind: str = "faq"


@dataclass(frozen=True)
class Generated:
    """A generated answer that passed the checks, with the sources it cites."""

    text: str
    citations: list[Citation]


def enabled() -> bool:
    return bool(settings.LLM_URL)


def strip_personal(text: str) -> str:
    """The question without e-mail addresses and phone numbers (they never leave)."""
    text = _EMAIL.sub("[e-mail]", text)
    return _PHONE.sub(_phone, text)


def _phone(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group(0))
    return "[phone]" if 10 <= digits <= 13 else match.group(0)


def sources(hits: Sequence[Hit], language: str = "ja") -> list[Source]:
    """What the model may see: the best hits above the minimum score (at most five), then
    the procedure pages those entries name (at most three), in the resident's language."""
    minimum = float(settings.FAQ_MIN_SCORE)
    faq_hits = [hit for hit in hits if hit.score >= minimum][:MAX_SOURCES]
    found: list[Source] = [
        Source("faq", hit.key, hit.question, hit.answer, hit.url) for hit in faq_hits
    ]
    slugs: list[str] = []
    for hit in faq_hits:
        slugs += [slug for slug in hit.procedures if slug not in slugs]
    if slugs:
        procedures = catalogue.by_slugs(slugs[:MAX_PROCEDURES])
        for slug in slugs[:MAX_PROCEDURES]:
            procedure = procedures.get(slug)
            if procedure is None:
                continue
            parts = [procedure.text(part, language) for part in PROCEDURE_PARTS]
            found.append(
                Source(
                    "procedure",
                    slug,
                    procedure.text("title", language),
                    "\n".join(part for part in parts if part),
                    reverse("procedures:detail", args=[slug]),
                )
            )
    return found


def messages(question: str, grounding: Sequence[Source], language: str) -> list[dict[str, str]]:
    """The chat messages sent: instructions, the numbered sources, the question."""
    blocks = []
    for number, source in enumerate(grounding, start=1):
        if source.kind == "faq":
            lines = [
                f"[{number}] FAQ id: {source.key}",
                f"Question: {source.title}",
                f"Answer: {source.text}",
            ]
        else:
            lines = [
                f"[{number}] Procedure page: {source.key}",
                f"Title: {source.title}",
                source.text,
            ]
        if source.url:
            lines.append(f"Source: {source.url}")
        blocks.append("\n".join(lines))
    name = LANGUAGE_NAMES.get(language, LANGUAGE_NAMES["ja"])
    return [
        {"role": "system", "content": SYSTEM_PROMPT.format(language=name)},
        {
            "role": "user",
            "content": "Sources (FAQ entries and procedure pages of the city):\n\n"
            + "\n\n".join(blocks)
            + f"\n\nResident's question: {strip_personal(question)}",
        },
    ]


def cited_numbers(text: str) -> list[int]:
    """The source numbers ``[n]`` in ``text``, each once, in order of first use."""
    seen: list[int] = []
    for match in _CITATION.finditer(text):
        number = int(match.group(1))
        if number not in seen:
            seen.append(number)
    return seen


def check(text: str, grounding: Sequence[Source]) -> Generated | None:
    """The answer if it cites at least one source and only sources that were given."""
    text = text.strip()
    numbers = cited_numbers(text)
    if not text or not numbers or any(n < 1 or n > len(grounding) for n in numbers):
        return None
    return Generated(
        text=text,
        citations=[
            Citation(n, grounding[n - 1].key, grounding[n - 1].title, grounding[n - 1].kind)
            for n in numbers
        ],
    )


def _content(payload: Any) -> str | None:
    try:
        content = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


def generate(question: str, hits: Sequence[Hit], language: str) -> Generated | None:
    """A grounded, cited answer, or ``None`` (off, nothing relevant, or it failed)."""
    if not enabled():
        return None
    grounding = sources(hits, language)
    if not grounding:
        return None  # refuse locally: the model never sees a question without sources
    url = str(settings.LLM_URL).rstrip("/") + "/chat/completions"
    body = {
        "model": settings.LLM_MODEL,
        "messages": messages(question, grounding, language),
        "temperature": 0,
        "max_tokens": MAX_TOKENS,
    }
    headers = {"Content-Type": "application/json"}
    if settings.LLM_API_KEY:
        headers["Authorization"] = f"Bearer {settings.LLM_API_KEY}"
    try:
        response = requests.post(
            url, json=body, headers=headers, timeout=float(settings.LLM_TIMEOUT)
        )
    except requests.RequestException as exc:
        log.warning("LLM request failed: %s", exc.__class__.__name__)
        return None
    if response.status_code != 200:
        log.warning("LLM answered HTTP %s", response.status_code)
        return None
    try:
        payload = response.json()
    except ValueError:
        log.warning("LLM answered something that is not JSON")
        return None
    content = _content(payload)
    if content is None:
        log.warning("LLM answer has no message content")
        return None
    generated = check(content, grounding)
    if generated is None:
        log.warning("LLM answer dropped: it cites no source or a source not given")
    return generated
