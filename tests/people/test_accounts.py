"""Sign-up with a verification link over real SMTP, login rules, password reset."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import signing
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.people.models import ResidentProfile, User
from cityhall.people.services import accounts

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://\S+/account/verify/\S+/")


def _signup(
    client: Any, email: str = "new@example.jp", password: str = "a-long-and-unusual-passphrase"
) -> Any:
    return client.post(
        reverse("people:signup"), {"email": email, "password": password, "terms": "on"}
    )


@pytest.mark.django_db(transaction=True)
def test_signup_sends_a_verification_link_over_smtp_and_the_link_activates(
    client: Any, smtp_server: Any, password: str
) -> None:
    response = _signup(client, "New@Example.JP", password)
    assert response.status_code == 302
    assert response["Location"] == reverse("people:signup_sent")
    user = User.objects.get(email="new@example.jp")
    assert not user.email_verified and not user.is_staff
    assert ResidentProfile.objects.get(user=user).preferred_language == "ja"

    message = smtp_server.last_to("new@example.jp")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "伊賀市" in message["Subject"]
    link = LINK.search(body).group(0)

    # Unverified accounts cannot log in yet.
    response = client.post(
        reverse("people:login"), {"username": "new@example.jp", "password": password}
    )
    assert response.status_code == 422
    assert (
        "confirm your e-mail" in response.content.decode() or "メール" in response.content.decode()
    )

    response = client.get(link.replace("http://127.0.0.1:8000", ""))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email_verified

    response = client.post(
        reverse("people:login"), {"username": "new@example.jp", "password": password}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:mypage")
    assert {"resident.signup", "resident.email_verified", "auth.login"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_verification_email_is_in_the_residents_language(client: Any, smtp_server: Any) -> None:
    client.cookies["cityhall_lang"] = "pt-br"
    _signup(client, "maria@example.com.br")
    message = smtp_server.last_to("maria@example.com.br")
    assert (
        ResidentProfile.objects.get(user__email="maria@example.com.br").preferred_language
        == "pt-br"
    )
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "link" in body.lower()
    assert "Thank you for signing up" not in body  # translated, not English


@pytest.mark.django_db(transaction=True)
def test_signup_with_an_existing_address_reveals_nothing_and_mails_the_owner(
    client: Any, resident: Any, smtp_server: Any
) -> None:
    response = _signup(client, resident.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("people:signup_sent")
    assert User.objects.filter(email=resident.email).count() == 1
    assert smtp_server.last_to(resident.email)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"email": "not-an-address", "password": "a-long-and-unusual-passphrase", "terms": "on"},
            "email",
        ),
        ({"email": "a@example.jp", "password": "short", "terms": "on"}, "password"),
        ({"email": "a@example.jp", "password": "password123", "terms": "on"}, "password"),
        ({"email": "a@example.jp", "password": "a-long-and-unusual-passphrase"}, "terms"),
    ],
)
def test_bad_signup_shows_an_error_summary_and_saves_nothing(
    client: Any, data: dict, field: str
) -> None:
    response = client.post(reverse("people:signup"), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert f'href="#id_{field}"' in html
    assert f'aria-describedby="id_{field}-error' in html
    assert User.objects.count() == 0


def test_signup_errors_are_in_the_users_language(client: Any) -> None:
    client.cookies["cityhall_lang"] = "en"
    response = client.post(reverse("people:signup"), {"email": "x", "password": "a"})
    assert "There is a problem" in response.content.decode()
    client.cookies["cityhall_lang"] = "ja"
    response = client.post(reverse("people:signup"), {"email": "x", "password": "a"})
    assert "There is a problem" not in response.content.decode()


def test_tampered_or_expired_link_is_refused(client: Any, resident: Any, settings: Any) -> None:
    resident.email_verified_at = None
    resident.save()
    token = accounts._verify_token(resident)
    response = client.get(reverse("people:verify", args=[token[:-2] + "xx"]))
    assert response.status_code == 400
    settings.EMAIL_VERIFY_HOURS = 0
    signer = signing.TimestampSigner(salt=accounts.VERIFY_SALT)
    old = signer.sign(f"{resident.pk}:{resident.email}")
    with pytest.raises(accounts.VerificationError):
        import time

        time.sleep(1.1)
        accounts.verify_email(old)
    resident.refresh_from_db()
    assert not resident.email_verified


def test_staff_cannot_log_in_on_the_resident_side(client: Any, clerk: Any, password: str) -> None:
    response = client.post(reverse("people:login"), {"username": clerk.email, "password": password})
    assert response.status_code == 422
    assert "_auth_user_id" not in client.session


def test_repeated_wrong_passwords_lock_the_account(
    client: Any, resident: Any, password: str, settings: Any
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("people:login"), {"username": resident.email, "password": "wrong"})
    response = client.post(
        reverse("people:login"), {"username": resident.email, "password": password}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert (
        AuditEvent.objects.filter(action="auth.login_failed").count() >= settings.AXES_FAILURE_LIMIT
    )


def test_signup_is_rate_limited(client: Any, settings: Any) -> None:
    settings.SIGNUP_RATE = "3/h"
    codes = [_signup(client, f"p{i}@example.jp").status_code for i in range(4)]
    assert codes == [302, 302, 302, 429]
    assert User.objects.count() == 3


def test_login_is_rate_limited_per_address(client: Any, settings: Any) -> None:
    settings.LOGIN_RATE = "2/m"
    codes = [
        client.post(
            reverse("people:login"), {"username": f"u{i}@example.jp", "password": "x"}
        ).status_code
        for i in range(3)
    ]
    assert codes == [422, 422, 429]


@pytest.mark.django_db(transaction=True)
def test_password_reset_by_email(client: Any, resident: Any, smtp_server: Any) -> None:
    response = client.post(reverse("people:password_reset"), {"email": resident.email})
    assert response.status_code == 302
    body = smtp_server.last_to(resident.email).get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"/account/password/reset/\S+/\S+/", body).group(0)
    response = client.get(path, follow=True)
    assert response.status_code == 200
    response = client.post(
        response.redirect_chain[-1][0],
        {
            "new_password1": "another-unusual-passphrase",
            "new_password2": "another-unusual-passphrase",
        },
    )
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.check_password("another-unusual-passphrase")


@pytest.mark.django_db(transaction=True)
def test_staff_get_no_password_reset_mail(client: Any, clerk: Any, smtp_server: Any) -> None:
    client.post(reverse("people:password_reset"), {"email": clerk.email})
    assert not smtp_server.messages


def test_consents_keep_their_history(resident: Any) -> None:
    assert accounts.consents(resident)["notify"] is False
    accounts.set_consents(resident, {"notify", "personalise"})
    accounts.set_consents(resident, {"personalise"})
    state = accounts.consents(resident)
    assert state == {"personalise": True, "notify": False, "emergency": False, "statistics": False}
    assert list(resident.consents.filter(purpose="notify").values_list("granted", flat=True)) == [
        False,
        True,
    ]
    with pytest.raises(ValueError):
        accounts.set_consents(resident, {"sell-my-data"})


def test_login_accepts_the_address_in_any_case(client: Any, resident: Any, password: str) -> None:
    response = client.post(
        reverse("people:login"), {"username": resident.email.upper(), "password": password}
    )
    assert response.status_code == 302
