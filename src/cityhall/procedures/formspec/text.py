"""Texts in several languages: ``{"ja": "…", "en": "…"}`` and how to pick one."""

from __future__ import annotations

from collections.abc import Mapping

# Where to look when a text lacks the reader's language. やさしい日本語 falls back to
# Japanese; every other language to English, then Japanese.
FALLBACKS: dict[str, tuple[str, ...]] = {
    "ja": ("ja", "ja-easy", "en"),
    "ja-easy": ("ja-easy", "ja", "en"),
}
DEFAULT_FALLBACK = ("en", "ja")

LANGUAGES = ("ja", "ja-easy", "pt-br", "vi", "zh-hans", "es", "en")


def pick(texts: Mapping[str, str] | str | None, language: str) -> str:
    """The text for ``language`` (a Django language code), or the best fallback, or ""."""
    if texts is None:
        return ""
    if isinstance(texts, str):
        return texts
    language = (language or "ja").lower()
    for code in (language, *FALLBACKS.get(language, DEFAULT_FALLBACK)):
        value = texts.get(code)
        if value:
            return value
    return next((v for v in texts.values() if v), "")


def missing(texts: Mapping[str, str] | None, languages: tuple[str, ...] = LANGUAGES) -> list[str]:
    """Languages without their own text (the builder shows these to the clerk)."""
    return [code for code in languages if not (texts or {}).get(code)]
