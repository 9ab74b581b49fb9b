"""The seven UI languages and their BCP 47 tags for HTML."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.utils.translation import get_language

# Django language code -> BCP 47 tag used in lang="" and hreflang="".
HTML_LANG = {
    "ja": "ja",
    "ja-easy": "ja",  # やさしい日本語 is Japanese; screen readers read it as such
    "pt-br": "pt-BR",
    "vi": "vi",
    "zh-hans": "zh-Hans",
    "es": "es",
    "en": "en",
}

# Languages whose pages get furigana unless the reader turned it off.
FURIGANA_BY_DEFAULT = {"ja-easy"}


def codes() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]


def html_lang(code: str | None = None) -> str:
    code = (code or get_language() or settings.LANGUAGE_CODE).lower()
    return HTML_LANG.get(code, code)


@lru_cache(maxsize=1)
def choices() -> list[dict[str, str]]:
    """For language pickers: each language named in itself, with its switch URL."""
    from django.urls import reverse

    return [
        {
            "code": code,
            "name": name,
            "lang": HTML_LANG[code],
            "url": reverse("portal:language", args=[code]),
        }
        for code, name in settings.LANGUAGES
    ]
