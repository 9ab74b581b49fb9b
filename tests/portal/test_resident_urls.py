"""Every resident URL: no object id an attacker could change, and only one's own data.

The URL configuration is read, not listed by hand, so a new resident URL is
covered the day it is added.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

RESIDENT_NAMESPACES = {"portal", "people"}
# Parameters that are not object ids: signed tokens and fixed vocabularies.
ALLOWED_PARAMS = {"token", "uidb64", "code", "slug"}


def _patterns(resolver: URLResolver, namespace: str = "") -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            found += _patterns(item, item.namespace or namespace)
        elif namespace in RESIDENT_NAMESPACES:
            found.append((f"{namespace}:{item.name}", item))
    return found


def test_resident_urls_carry_no_object_ids() -> None:
    patterns = _patterns(get_resolver())
    assert len(patterns) >= 10
    for name, pattern in patterns:
        params = set(pattern.pattern.converters)
        assert params <= ALLOWED_PARAMS, f"{name} takes {params - ALLOWED_PARAMS}: use the session"


@pytest.mark.django_db
def test_no_resident_page_shows_another_residents_data(
    client: Any, resident: Any, other_resident: Any
) -> None:
    from django.urls import reverse

    from cityhall.people.services import accounts

    accounts.update_profile(
        other_resident, {"phone": "090-9999-0000", "address": "他人の住所"}, display_name="他人"
    )
    client.force_login(resident)
    checked = 0
    for name, pattern in _patterns(get_resolver()):
        if pattern.pattern.converters:
            continue
        response = client.get(reverse(name))
        html = response.content.decode(errors="replace")
        assert other_resident.email not in html, name
        assert "090-9999-0000" not in html and "他人の住所" not in html, name
        checked += 1
    assert checked >= 8
