"""The web push addresses: /sw.js, subscribe (good, bad, unauthenticated, staff, CSRF),
unsubscribe, and the controls on the resident's notification settings page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.notices.models import PushSubscription
from cityhall.notices.services import push_keys
from tests.conftest import make_staff
from tests.notices.conftest import make_notice_resident
from tests.notices.push_server import BrowserSubscription, PushServer

pytestmark = pytest.mark.django_db

SUBSCRIBE = "notices:push_subscribe"


def _browser(endpoint: str = "https://fcm.googleapis.com/fcm/send/abc:def") -> BrowserSubscription:
    sub = PushServer().subscribe()  # keys only; the server is not started
    sub.endpoint = endpoint
    return sub


def _resident_client(email: str = "hanako@example.jp") -> tuple[Client, Any]:
    user = make_notice_resident(email, channels=["email"])
    client = Client()
    client.force_login(user)
    client.cookies["cityhall_lang"] = "en"
    return client, user


def _post_json(client: Client, url: str, data: Any, **extra: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


def test_the_service_worker_is_served_from_the_root_with_its_headers() -> None:
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    source = response.content.decode()
    assert "__OPENED_URL__" not in source
    assert '"/notices/opened/{key}/"' in source
    assert "addEventListener('push'" in source and "notificationclick" in source
    assert Client().post("/sw.js").status_code == 405


def test_a_resident_subscribes_with_what_push_subscription_to_json_gives() -> None:
    client, user = _resident_client()
    sub = _browser()
    response = _post_json(client, reverse(SUBSCRIBE), sub.to_json(), HTTP_USER_AGENT="Firefox/140")
    assert response.status_code == 201, response.content
    assert response.json() == {"subscribed": True, "endpoint": sub.endpoint, "subscriptions": 1}
    row = PushSubscription.objects.get(user=user)
    assert (row.endpoint, row.p256dh, row.auth, row.user_agent) == (
        sub.endpoint,
        sub.p256dh,
        sub.auth,
        "Firefox/140",
    )
    assert AuditEvent.objects.filter(action="notices.push_subscribed", subject_id=user.pk).exists()
    # the same browser again: still one row
    assert _post_json(client, reverse(SUBSCRIBE), sub.to_json()).status_code == 201
    assert PushSubscription.objects.filter(user=user).count() == 1


def test_form_fields_work_too_and_get_tells_the_key() -> None:
    client, _user = _resident_client()
    sub = _browser("https://updates.push.services.mozilla.com/wpush/v2/gAAAA")
    response = client.post(
        reverse(SUBSCRIBE), {"endpoint": sub.endpoint, "p256dh": sub.p256dh, "auth": sub.auth}
    )
    assert response.status_code == 201
    info = client.get(reverse(SUBSCRIBE)).json()
    assert info == {"applicationServerKey": push_keys.vapid_public_key(), "subscriptions": 1}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "http://push.example.net/x"}, "endpoint"),  # not https
        ({"endpoint": "javascript:alert(1)"}, "endpoint"),
        ({"endpoint": "https://user:pw@push.example.net/x"}, "endpoint"),
        ({"endpoint": "https://push.example.net/" + "x" * 1000}, "endpoint"),
        ({"endpoint": ""}, "endpoint"),
        ({"p256dh": "BCVx"}, "p256dh"),  # too short
        ({"p256dh": "B" + "A" * 86}, "p256dh"),  # 65 bytes, not on the curve
        ({"p256dh": "not base64!"}, "p256dh"),
        ({"auth": "AAAA"}, "auth"),  # 3 bytes
        ({"auth": None}, "auth"),
    ],
)
def test_bad_subscriptions_get_a_400_problem_naming_the_field(
    change: dict[str, Any], field: str
) -> None:
    client, user = _resident_client()
    sub = _browser()
    data = {"endpoint": sub.endpoint, "p256dh": sub.p256dh, "auth": sub.auth, **change}
    response = _post_json(client, reverse(SUBSCRIBE), data)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/validation-error"
    assert problem["title"] == "The request has mistakes."
    assert field in [e["field"] for e in problem["errors"]]
    assert all(e["detail"] for e in problem["errors"])
    assert not PushSubscription.objects.filter(user=user).exists()


def test_unreadable_json_is_a_bad_request() -> None:
    client, _user = _resident_client()
    response = client.post(reverse(SUBSCRIBE), b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/bad-request"


def test_a_loopback_http_endpoint_is_allowed_outside_production_only(settings: Any) -> None:
    client, _user = _resident_client()
    sub = _browser("http://127.0.0.1:8999/push/s1")
    assert _post_json(client, reverse(SUBSCRIBE), sub.to_json()).status_code == 201
    settings.ENVIRONMENT = "production"
    settings.DEBUG = False
    settings.VAPID_PRIVATE_KEY = push_keys.derive_private_key("a key configured for production")
    other = _browser("http://127.0.0.1:8999/push/s2")
    response = _post_json(client, reverse(SUBSCRIBE), other.to_json())
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "endpoint"


def test_visitors_and_staff_cannot_subscribe() -> None:
    sub = _browser()
    response = _post_json(Client(), reverse(SUBSCRIBE), sub.to_json())
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    staff = make_staff("staff@city.iga.example", "clerk")
    client = Client()
    client.force_login(staff)
    assert _post_json(client, reverse(SUBSCRIBE), sub.to_json()).status_code == 403
    assert Client().get(reverse(SUBSCRIBE)).status_code == 401
    assert not PushSubscription.objects.exists()


def test_subscribing_needs_the_csrf_token() -> None:
    user = make_notice_resident("csrf@example.jp", channels=["email"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    sub = _browser()
    response = _post_json(client, reverse(SUBSCRIBE), sub.to_json(), HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/csrf-failed"
    assert not PushSubscription.objects.exists()
    # with the token from the settings page, as push.js sends it
    page = client.get(reverse("notices:preferences"))
    token = page.context["csrf_token"]
    response = _post_json(client, reverse(SUBSCRIBE), sub.to_json(), HTTP_X_CSRFTOKEN=str(token))
    assert response.status_code == 201


def test_push_switched_off_refuses_subscriptions(settings: Any) -> None:
    client, _user = _resident_client()
    settings.VAPID_PRIVATE_KEY = ""
    settings.PRODUCTION = True
    response = _post_json(client, reverse(SUBSCRIBE), _browser().to_json())
    assert response.status_code == 409
    assert client.get(reverse(SUBSCRIBE)).json()["applicationServerKey"] == ""


def test_unsubscribe_forgets_the_browser() -> None:
    client, user = _resident_client()
    sub = _browser()
    _post_json(client, reverse(SUBSCRIBE), sub.to_json())
    response = _post_json(client, reverse("notices:push_unsubscribe"), {"endpoint": sub.endpoint})
    assert response.status_code == 200
    assert response.json() == {"subscribed": False, "removed": True, "subscriptions": 0}
    assert not PushSubscription.objects.filter(user=user).exists()
    # someone else's endpoint is not theirs to remove
    other_client, other = _resident_client("taro@example.jp")
    _post_json(other_client, reverse(SUBSCRIBE), sub.to_json())
    response = _post_json(client, reverse("notices:push_unsubscribe"), {"endpoint": sub.endpoint})
    assert response.json()["removed"] is False
    assert PushSubscription.objects.filter(user=other).count() == 1
    missing = _post_json(client, reverse("notices:push_unsubscribe"), {})
    assert missing.status_code == 400


def test_the_settings_page_carries_the_controls_with_translated_texts() -> None:
    client, _user = _resident_client()
    response = client.get(reverse("notices:preferences"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-push-controls" in html
    assert 'role="status"' in html and 'aria-live="polite"' in html
    assert "This browser cannot show notifications from this site" in html
    assert "Could not reach the push service of your browser" in html
    assert "/static/notices/push.js" in html
    assert f'data-subscribe-url="{reverse(SUBSCRIBE)}"' in html
    assert 'data-sw-url="/sw.js"' in html
