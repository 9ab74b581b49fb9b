from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language

from cityhall.core import i18n
from cityhall.core.http import TEXTSIZE_COOKIE


def site(request: HttpRequest) -> dict[str, Any]:
    language = get_language() or settings.LANGUAGE_CODE
    return {
        "MUNICIPALITY_NAME": settings.MUNICIPALITY_NAMES.get(language, settings.MUNICIPALITY_NAME),
        "HTML_LANG": i18n.html_lang(language),
        "LANGUAGE": language,
        "UI_LANGUAGES": i18n.choices(),
        "FURIGANA": getattr(request, "furigana", False),
        "LARGE_TEXT": request.COOKIES.get(TEXTSIZE_COOKIE) == "large",
        "OIDC_ENABLED": bool(settings.OIDC_ISSUER),
    }
