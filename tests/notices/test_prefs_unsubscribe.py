"""One-click unsubscribe (RFC 8058): a signed link per resident, topic and channel."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cityhall.notices.models import DeliveryPreferences
from cityhall.notices.services import preferences
from cityhall.notices.services.common import (
    read_unsubscribe_token,
    unsubscribe_token,
    unsubscribe_url,
)
from cityhall.people.services import accounts
from tests.notices.prefs_support import audit_actions, english, last_audit, resident

pytestmark = pytest.mark.django_db


def _url(user: Any, topic: str = "garbage", channel: str = "email") -> str:
    return reverse("notices:unsubscribe", args=[unsubscribe_token(user.pk, topic, channel)])


def test_the_link_in_e_mails_points_here(settings: Any) -> None:
    user = resident()
    settings.SITE_URL = "https://city.example"
    url = unsubscribe_url(user.pk, "garbage", "email")
    assert url.startswith("https://city.example/unsubscribe/")
    token = url.rstrip("/").rsplit("/", 1)[1]
    request = read_unsubscribe_token(token)
    assert request is not None
    assert (request.user_id, request.topic, request.channel) == (user.pk, "garbage", "email")


def test_get_asks_and_changes_nothing() -> None:
    user = resident(interests=("garbage", "events"))
    client = english(Client())
    response = client.get(_url(user))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Stop e-mails about Garbage and recycling?" in html
    assert 'method="post"' in html
    assert accounts.profile_of(user).interests == ["garbage", "events"]
    assert "notices.unsubscribed" not in audit_actions(user)


def test_one_click_post_from_a_mail_client_works_without_csrf_or_login() -> None:
    user = resident(interests=("garbage", "events"))
    mail_client = Client(enforce_csrf_checks=True)  # no session, no CSRF cookie
    response = mail_client.post(
        _url(user),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert accounts.profile_of(user).interests == ["events"]
    entry = last_audit("notices.unsubscribed")
    assert entry.subject_id == user.pk
    assert entry.details == {"topic": "garbage", "channel": "email", "changed": True}
    # again: still fine, nothing more to change
    assert (
        mail_client.post(
            _url(user),
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        ).status_code
        == 200
    )
    assert accounts.profile_of(user).interests == ["events"]


def test_the_confirm_button_on_the_page_works_too() -> None:
    user = resident()
    client = english(Client(enforce_csrf_checks=True))
    response = client.post(_url(user), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "You will get no more e-mails about Garbage and recycling." in response.content.decode()
    assert accounts.profile_of(user).interests == []
    # the page now says it is already off
    assert "already off" in client.get(_url(user)).content.decode()


def test_personal_is_muted_and_emergency_withdraws_the_consent() -> None:
    user = resident(consents=("notify", "emergency", "statistics"))
    assert preferences.unsubscribe(unsubscribe_token(user.pk, "personal", "line")) is not None
    assert DeliveryPreferences.objects.get(user=user).muted_topics == ["personal"]
    request = preferences.unsubscribe(unsubscribe_token(user.pk, "emergency", "email"))
    assert request is not None and request.topic == "emergency"
    assert accounts.consents(user) == {
        "personalise": False,
        "notify": True,
        "emergency": False,
        "statistics": True,
    }


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "tampered",
        "unknown-topic",
    ],
)
def test_bad_tokens_get_a_friendly_400_and_change_nothing(token: str) -> None:
    user = resident()
    if token == "tampered":
        good = unsubscribe_token(user.pk, "garbage", "email")
        token = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    elif token == "unknown-topic":
        token = unsubscribe_token(user.pk, "gardening", "email")
    client = english(Client(enforce_csrf_checks=True))
    url = reverse("notices:unsubscribe", args=[token])
    for response in (client.get(url), client.post(url, {"List-Unsubscribe": "One-Click"})):
        assert response.status_code == 400
        assert "This link does not work" in response.content.decode()
    assert preferences.unsubscribe(token) is None
    assert accounts.profile_of(user).interests == ["garbage"]
    assert "notices.unsubscribed" not in audit_actions(user)
