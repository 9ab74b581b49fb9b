"""The LINE webhook: signature checked (good, bad, missing), unfollow blocks, follow unblocks."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from cityhall.notices.models import LineLink
from tests.conftest import make_resident
from tests.notices.line_server import LineServer
from tests.notices.test_channels_support import line_server

__all__ = ["line_server"]

pytestmark = pytest.mark.django_db

LINE_USER = "U" + "4" * 32


def event(kind: str, user_id: str = LINE_USER) -> dict[str, Any]:
    return {
        "type": kind,
        "mode": "active",
        "timestamp": 1735689600000,
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": "01H" + kind.upper(),
        "deliveryContext": {"isRedelivery": False},
    }


def post(client: Any, body: bytes, signature: str | None) -> Any:
    headers = {} if signature is None else {"HTTP_X_LINE_SIGNATURE": signature}
    return client.post(
        reverse("notices:line_webhook"), data=body, content_type="application/json", **headers
    )


def test_unfollow_blocks_and_follow_unblocks(client: Any, line_server: LineServer) -> None:
    user = make_resident("line@example.jp")
    link = LineLink.objects.create(user=user, line_user_id=LINE_USER, display_name="花子")

    body, signature = line_server.webhook([event("unfollow"), event("message")])
    response = post(client, body, signature)
    assert response.status_code == 200
    assert response.json()["blocked"] == 1
    link.refresh_from_db()
    assert link.blocked_at is not None

    body, signature = line_server.webhook([event("follow")])
    assert post(client, body, signature).status_code == 200
    link.refresh_from_db()
    assert link.blocked_at is None

    from cityhall.core.models import AuditEvent

    actions = list(AuditEvent.objects.filter(subject_id=user.pk).values_list("action", flat=True))
    assert "notices.line_blocked" in actions and "notices.line_followed" in actions


def test_an_unknown_user_changes_nothing(client: Any, line_server: LineServer) -> None:
    body, signature = line_server.webhook([event("unfollow", "U" + "9" * 32)])
    response = post(client, body, signature)
    assert response.status_code == 200
    assert response.json()["blocked"] == 0


def test_verification_request_with_no_events_is_answered(
    client: Any, line_server: LineServer
) -> None:
    body, signature = line_server.webhook([])
    assert post(client, body, signature).status_code == 200


@pytest.mark.parametrize("signature", ["wrong", "", None])
def test_bad_or_missing_signature_is_refused(
    client: Any, line_server: LineServer, signature: str | None
) -> None:
    user = make_resident("line@example.jp")
    link = LineLink.objects.create(user=user, line_user_id=LINE_USER)
    body, _good = line_server.webhook([event("unfollow")])

    response = post(client, body, signature)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 400
    link.refresh_from_db()
    assert link.blocked_at is None


def test_signed_with_another_secret_is_refused(client: Any, line_server: LineServer) -> None:
    body, signature = line_server.webhook([event("unfollow")], secret="someone-else")
    assert post(client, body, signature).status_code == 400


def test_only_post(client: Any, line_server: LineServer) -> None:
    assert client.get(reverse("notices:line_webhook")).status_code == 405
