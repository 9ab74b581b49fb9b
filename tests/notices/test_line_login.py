"""Linking LINE with LINE Login, end to end: the test client and the loopback LINE server
play the resident's browser; state is checked; errors give a page in the resident's language."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.urls import reverse

from cityhall.notices.models import LineLink
from tests.conftest import make_resident
from tests.notices.line_server import LineServer
from tests.notices.test_channels_support import line_server

__all__ = ["line_server"]

pytestmark = pytest.mark.django_db


def start(client: Any) -> str:
    """Begin linking; answers where LINE sends the browser back (path and query)."""
    response = client.get(reverse("notices:line_link"))
    assert response.status_code == 302
    authorize = response["Location"]
    back = requests.get(authorize, allow_redirects=False, timeout=10)
    assert back.status_code == 302
    url = urlsplit(back.headers["Location"])
    return f"{url.path}?{url.query}"


def test_linking_end_to_end(resident_client: Any, resident: Any, line_server: LineServer) -> None:
    callback = start(resident_client)

    [asked] = line_server.authorized
    assert asked["response_type"] == "code"
    assert asked["client_id"] == line_server.login_channel_id
    assert asked["scope"] == "profile openid"
    assert asked["redirect_uri"].endswith(reverse("notices:line_callback"))
    assert asked["state"] and asked["nonce"]

    response = resident_client.get(callback)
    assert response.status_code == 302
    assert response["Location"] == reverse("notices:preferences")
    link = LineLink.objects.get(user=resident)
    assert link.line_user_id == line_server.login_user["userId"]
    assert link.display_name == "伊賀 花子"
    assert link.blocked_at is None

    # the code is used once: coming back with it again is refused and changes nothing
    again = resident_client.get(callback)
    assert again.status_code == 400
    assert LineLink.objects.filter(user=resident).count() == 1


def test_a_state_that_does_not_match_is_refused(
    resident_client: Any, resident: Any, line_server: LineServer
) -> None:
    resident_client.cookies["cityhall_lang"] = "en"
    callback = start(resident_client)
    query = parse_qs(urlsplit(callback).query)
    forged = f"{reverse('notices:line_callback')}?code={query['code'][0]}&state=forged"

    response = resident_client.get(forged)

    assert response.status_code == 400
    assert "could not be checked" in response.content.decode()
    assert '<html lang="en"' in response.content.decode()
    assert not LineLink.objects.filter(user=resident).exists()
    assert line_server.seen == []  # no token was asked for


def test_a_callback_without_starting_is_refused(
    resident_client: Any, resident: Any, line_server: LineServer
) -> None:
    response = resident_client.get(reverse("notices:line_callback") + "?code=x&state=y")
    assert response.status_code == 400
    assert not LineLink.objects.exists()


def test_cancelled_on_line_gives_a_friendly_page(
    resident_client: Any, resident: Any, line_server: LineServer
) -> None:
    resident_client.cookies["cityhall_lang"] = "en"
    callback = start(resident_client)
    state = parse_qs(urlsplit(callback).query)["state"][0]
    response = resident_client.get(
        reverse("notices:line_callback") + f"?error=access_denied&state={state}"
    )
    assert response.status_code == 400
    assert "cancelled" in response.content.decode()
    assert not LineLink.objects.exists()


def test_line_down_gives_a_friendly_page(
    resident_client: Any, resident: Any, line_server: LineServer, settings: Any
) -> None:
    resident_client.cookies["cityhall_lang"] = "en"
    callback = start(resident_client)
    line_server.login_channel_secret = "rotated"  # the token endpoint refuses us
    response = resident_client.get(callback)
    assert response.status_code == 502
    assert "could not be reached" in response.content.decode()
    assert not LineLink.objects.exists()


def test_an_account_linked_to_someone_else_is_refused(
    resident_client: Any, resident: Any, line_server: LineServer
) -> None:
    other = make_resident("other@example.jp")
    LineLink.objects.create(user=other, line_user_id=line_server.login_user["userId"])
    resident_client.cookies["cityhall_lang"] = "en"
    response = resident_client.get(start(resident_client))
    assert response.status_code == 409
    assert "already linked" in response.content.decode()
    assert not LineLink.objects.filter(user=resident).exists()


def test_unlink(resident_client: Any, resident: Any, line_server: LineServer) -> None:
    LineLink.objects.create(user=resident, line_user_id="U" + "7" * 32)
    assert resident_client.get(reverse("notices:line_unlink")).status_code == 405
    response = resident_client.post(reverse("notices:line_unlink"))
    assert response.status_code == 302
    assert response["Location"] == reverse("notices:preferences")
    assert not LineLink.objects.filter(user=resident).exists()


def test_linking_needs_a_resident_login(client: Any, line_server: LineServer) -> None:
    response = client.get(reverse("notices:line_link"))
    assert response.status_code == 302
    assert "login" in response["Location"]
    assert line_server.authorized == []


def test_without_line_login_the_page_says_so(
    resident_client: Any, resident: Any, settings: Any
) -> None:
    settings.LINE_LOGIN_CHANNEL_ID = ""
    resident_client.cookies["cityhall_lang"] = "en"
    response = resident_client.get(reverse("notices:line_link"))
    assert response.status_code == 200
    assert "LINE linking is not available" in response.content.decode()
