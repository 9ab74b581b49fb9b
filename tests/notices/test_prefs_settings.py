"""The resident's notification settings: the service's rules and the page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from cityhall.notices.models import DeliveryPreferences, LineLink, PushSubscription
from cityhall.notices.services import preferences
from cityhall.people.models import Consent
from cityhall.people.services import accounts
from tests.notices.prefs_support import audit_actions, english, last_audit, resident

pytestmark = pytest.mark.django_db
URL = "/my/notifications/"


def _save(user: Any, **changes: Any) -> list[str]:
    values: dict[str, Any] = {
        "channels": ["email"],
        "topics": ["garbage", "personal"],
        "quiet_start": None,
        "quiet_end": None,
        "emergency": False,
    }
    values.update(changes)
    return preferences.save_settings(user, **values)


def test_url_names() -> None:
    assert reverse("notices:preferences") == URL
    assert reverse("notices:inbox") == "/my/inbox/"


def test_settings_for_reports_choices_links_topics_and_consents(geography: Any) -> None:
    user = resident(district=geography["ueno-tobu"], interests=("garbage", "events"))
    LineLink.objects.create(user=user, line_user_id="U" + "1" * 32, display_name="はなこ")
    PushSubscription.objects.create(
        user=user, endpoint="https://push.example/1", p256dh="k", auth="a"
    )
    DeliveryPreferences.objects.create(
        user=user, quiet_start=dt.time(21), quiet_end=dt.time(7), muted_topics=["personal"]
    )
    state = preferences.settings_for(user)
    assert state["channels"] == ["email", "inbox"]
    assert state["email"] == {"address": "hanako@example.jp", "real": True, "verified": True}
    assert state["line"] == {"linked": True, "display_name": "はなこ", "blocked": False}
    assert state["push"] == {"subscriptions": 1}
    assert state["topics"] == ["garbage", "events"]  # personal is muted
    assert (state["quiet_start"], state["quiet_end"]) == (dt.time(21), dt.time(7))
    assert state["consents"] == {"notify": True, "emergency": False}
    assert state["district"] == geography["ueno-tobu"]


def test_save_writes_profile_consents_and_preferences_with_one_audit_entry() -> None:
    user = resident(consents=("notify", "statistics"))
    changed = _save(
        user,
        channels=["email"],
        topics=["childcare", "tax"],
        quiet_start=dt.time(22),
        quiet_end=dt.time(6, 30),
        emergency=True,
    )
    assert changed == [
        "consent_emergency",
        "interests",
        "muted_topics",
        "quiet_hours",
    ]
    profile = accounts.profile_of(user)
    assert profile.channels == ["email", "inbox"]  # the inbox is always on
    assert profile.interests == ["childcare", "tax"]
    granted = accounts.consents(user)
    # emergency granted, the purposes the page does not show are kept as they were
    assert granted == {
        "personalise": False,
        "notify": True,
        "emergency": True,
        "statistics": True,
    }
    prefs = DeliveryPreferences.objects.get(user=user)
    assert (prefs.quiet_start, prefs.quiet_end) == (dt.time(22), dt.time(6, 30))
    assert prefs.muted_topics == ["personal"]
    entry = last_audit("notices.preferences_changed")
    assert entry.subject_id == user.pk
    assert entry.details == {"fields": changed}  # names only, never values
    assert "22:00" not in str(entry.details)
    # saving the same again changes nothing and records nothing
    before = audit_actions(user)
    assert (
        _save(
            user,
            topics=["childcare", "tax"],
            quiet_start=dt.time(22),
            quiet_end=dt.time(6, 30),
            emergency=True,
        )
        == []
    )
    assert audit_actions(user) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channels": ["fax"]}, "channels"),
        ({"topics": ["gardening"]}, "topics"),
        ({"topics": ["emergency"]}, "topics"),  # emergency follows the consent instead
        ({"quiet_start": dt.time(22), "quiet_end": dt.time(22)}, "quiet_end"),
        ({"quiet_start": dt.time(22)}, "quiet_end"),
        ({"quiet_end": dt.time(7)}, "quiet_start"),
        ({"channels": ["line"]}, "channels"),  # not linked
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(changes: dict[str, Any], field: str) -> None:
    user = resident()
    with pytest.raises(preferences.PreferencesError) as caught:
        _save(user, emergency=True, **changes)
    assert list(caught.value.errors) == [field]
    assert all(caught.value.errors[field])
    assert accounts.consents(user)["emergency"] is False
    assert not DeliveryPreferences.objects.filter(user=user).exists()


def test_email_cannot_be_chosen_without_a_real_address() -> None:
    user = resident("counter-123@residents.invalid", channels=("inbox",))
    with pytest.raises(preferences.PreferencesError) as caught:
        _save(user, channels=["email"])
    assert "channels" in caught.value.errors


def test_the_page_shows_state_and_saves(client: Client, geography: Any) -> None:
    user = resident(district=geography["ueno-tobu"])
    LineLink.objects.create(user=user, line_user_id="U" + "2" * 32, display_name="Hanako L")
    client.force_login(user)
    english(client)
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "hanako@example.jp (verified)" in html
    assert "linked as Hanako L" in html
    assert reverse("notices:line_unlink") in html
    assert "Inbox on this site" in html and "always on" in html
    assert "上野東部" in html  # the district the alerts are for
    assert "except emergency alerts" in html
    assert 'type="time"' in html
    assert "Emergency alerts" in html and 'value="emergency"' not in html

    response = client.post(
        URL,
        {
            "channels": ["email", "line"],
            "notify": "on",
            "topics": ["garbage", "events"],
            "emergency": "on",
            "quiet_start": "21:00",
            "quiet_end": "07:00",
        },
        follow=True,
    )
    assert response.redirect_chain == [(URL, 302)]
    assert "Your notification settings are saved." in response.content.decode()
    profile = accounts.profile_of(user)
    assert profile.channels == ["email", "line", "inbox"]
    assert profile.interests == ["garbage", "events"]
    assert accounts.consents(user)["emergency"] is True
    prefs = DeliveryPreferences.objects.get(user=user)
    assert prefs.muted_topics == ["personal"]
    assert (prefs.quiet_start, prefs.quiet_end) == (dt.time(21), dt.time(7))


def test_the_page_asks_for_a_district_when_there_is_none(client: Client) -> None:
    user = resident()
    client.force_login(user)
    html = english(client).get(URL).content.decode()
    assert "Set your district on your profile page" in html
    assert reverse("portal:profile") in html
    assert reverse("notices:line_link") in html  # not linked: offer to link


def test_consents_change_through_the_page(client: Client) -> None:
    user = resident(consents=("notify", "emergency", "personalise"))
    client.force_login(user)
    response = client.post(URL, {"channels": ["email"], "topics": ["personal"]})
    assert response.status_code == 302
    assert accounts.consents(user) == {
        "personalise": True,  # not on this page: kept
        "notify": False,
        "emergency": False,
        "statistics": False,
    }
    rows = Consent.objects.filter(user=user, granted=False).values_list("purpose", flat=True)
    assert sorted(rows) == ["emergency", "notify"]
    assert "resident.consent_change" in audit_actions(user)
    assert "notices.preferences_changed" in audit_actions(user)


def test_bad_input_shows_the_error_summary_and_saves_nothing(client: Client) -> None:
    user = resident()
    client.force_login(user)
    response = english(client).post(
        URL,
        {
            "channels": ["email"],
            "topics": ["garbage"],
            "quiet_start": "22:00",
            "quiet_end": "22:00",
            "emergency": "on",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert "Quiet hours must end at a different time than they start." in html
    assert 'href="#id_quiet_end"' in html
    assert html.count("<title>Error: ") == 1
    assert accounts.consents(user)["emergency"] is False
    assert not DeliveryPreferences.objects.filter(user=user).exists()


def test_unknown_choices_posted_to_the_page_are_refused(client: Client) -> None:
    user = resident()
    client.force_login(user)
    response = client.post(URL, {"channels": ["fax"], "topics": ["emergency"]})
    assert response.status_code == 422
    assert accounts.profile_of(user).channels == ["email", "inbox"]


def test_visitors_log_in_and_staff_go_to_the_console(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "/login" in response["Location"]
    from tests.conftest import make_staff

    staff = make_staff("koho@city.iga.example", "clerk", "koho-kocho")
    client.force_login(staff)
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"] == reverse("staff:home")


# --- LINE and push -------------------------------------------------------------------------


def test_linking_line_chooses_it_and_one_line_account_has_one_resident() -> None:
    hanako = resident(channels=("inbox",))
    taro = resident("taro@example.jp")
    line_id = "U" + "a" * 32
    preferences.link_line(hanako, line_id, "はなこ")
    assert accounts.profile_of(hanako).channels == ["line", "inbox"]
    assert "notices.line_linked" in audit_actions(hanako)
    with pytest.raises(preferences.PreferencesError) as caught, translation.override("en"):
        preferences.link_line(taro, line_id, "たろう")
    assert "already linked to another account" in str(caught.value)
    assert LineLink.objects.get(line_user_id=line_id).user == hanako
    assert not LineLink.objects.filter(user=taro).exists()
    # linking again (a new LINE Login) updates the one link, and clears a block
    LineLink.objects.filter(user=hanako).update(blocked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    preferences.link_line(hanako, line_id, "花子")
    link = LineLink.objects.get(user=hanako)
    assert (link.display_name, link.blocked_at) == ("花子", None)
    assert preferences.unlink_line(hanako) is True
    assert accounts.profile_of(hanako).channels == ["inbox"]
    assert preferences.unlink_line(hanako) is False
    # once unlinked, the other resident may link it
    preferences.link_line(taro, line_id, "たろう")


def test_push_subscriptions_upsert_by_endpoint() -> None:
    hanako = resident(channels=("inbox",))
    taro = resident("taro@example.jp", channels=("inbox",))
    endpoint = "https://push.example/sub/abc"
    preferences.add_push_subscription(hanako, endpoint, "key1", "auth1", "Firefox")
    preferences.add_push_subscription(hanako, endpoint, "key2", "auth2", "Firefox")
    subscription = PushSubscription.objects.get()
    assert (subscription.user, subscription.p256dh, subscription.auth) == (hanako, "key2", "auth2")
    assert accounts.profile_of(hanako).channels == ["push", "inbox"]
    # another resident logs in on the same browser: the endpoint is theirs now
    preferences.add_push_subscription(taro, endpoint, "key3", "auth3")
    assert PushSubscription.objects.get().user == taro
    assert preferences.remove_push_subscription(hanako, endpoint) is False  # not hers
    assert preferences.remove_push_subscription(taro, endpoint) is True
    assert not PushSubscription.objects.exists()
    assert accounts.profile_of(taro).channels == ["inbox"]
    assert "notices.push_subscribed" in audit_actions(taro)
