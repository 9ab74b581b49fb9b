"""OIDC login and step-up against a real OpenID provider on loopback.

The provider (``tests/oidc_provider``, django-oauth-toolkit) runs in a subprocess
with its own SQLite database. cityhall is driven with Django's test client; the
browser at the provider is a ``requests.Session`` logged in through its login
form. Server-to-server calls (discovery, JWKS, token, UserInfo) are real HTTP.
Negative cases of ID token validation use tokens signed here with our own keys.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from cityhall.core.models import AuditEvent
from cityhall.people import oidc
from cityhall.people.models import OIDCLink, User, VerifiedIdentity
from cityhall.people.services import identity
from tests.conftest import PASSWORD, login_staff, make_resident, make_staff
from tests.oidc_provider import harness

START = "/account/oidc/start/"
CONNECT = "/account/oidc/connect/"
KEEP = "/account/oidc/keep/"

# --- fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def client_keys() -> dict[str, str]:
    """cityhall's private keys: the registered RSA and EC keys, and one never registered."""
    return {
        "rsa-1": harness.pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "ec-1": harness.pem(ec.generate_private_key(ec.SECP256R1())),
        "unregistered": harness.pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    }


@pytest.fixture(scope="session")
def provider(
    tmp_path_factory: pytest.TempPathFactory, client_keys: dict[str, str]
) -> Iterator[harness.Provider]:
    # The provider registers exactly what cityhall publishes at /account/oidc/jwks.json.
    jwks = {
        "keys": [
            *oidc.public_jwks(client_keys["rsa-1"], "rsa-1")["keys"],
            *oidc.public_jwks(client_keys["ec-1"], "ec-1")["keys"],
        ]
    }
    with harness.running_provider(
        tmp_path_factory.mktemp("oidc-provider"), jwks, client_keys
    ) as running:
        yield running


@pytest.fixture(autouse=True)
def _english(client: Any) -> None:
    """Pages in English, so the assertions read the source strings."""
    client.cookies["cityhall_lang"] = "en"


@pytest.fixture
def configured(settings: Any, provider: harness.Provider, client_keys: dict[str, str]) -> Any:
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_CLIENT_ID = harness.CLIENT_ID
    settings.OIDC_PRIVATE_KEY = client_keys["rsa-1"]
    settings.OIDC_KEY_ID = "rsa-1"
    settings.OIDC_SCOPES = "openid name address birthdate gender"
    settings.OIDC_VERIFIED_ACR = [harness.CARD_ACR]
    settings.OIDC_TIMEOUT = 10.0
    settings.SITE_URL = "http://testserver"
    oidc.clear_caches()
    yield settings
    oidc.clear_caches()


# --- driving the browser ----------------------------------------------------------------


def authorize(
    client: Any,
    provider: harness.Provider,
    username: str,
    *,
    start: str = START,
    tamper: Callable[[str], str] | None = None,
) -> str:
    """Start at cityhall, authenticate at the provider; return the callback path + query."""
    response = client.get(start)
    assert response.status_code == 302, response.content.decode()
    url = response["Location"]
    assert url.startswith(provider.issuer + "/authorize/")
    if tamper is not None:
        url = tamper(url)
    answer = provider.browser(username).get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(harness.REDIRECT_URI), location
    return location.removeprefix("http://testserver")


def card_login(client: Any, provider: harness.Provider, username: str, **kwargs: Any) -> Any:
    return client.get(authorize(client, provider, username, **kwargs))


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def with_query(url: str, change: Callable[[dict[str, str]], None]) -> str:
    parts = urlsplit(url)
    params = query_of(url)
    change(params)
    return urlunsplit(parts._replace(query=urlencode(params)))


def reason_of(response: Any) -> str:
    text = response.content.decode()
    marker = 'data-reason="'
    assert marker in text, text
    return text.split(marker, 1)[1].split('"', 1)[0]


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


def all_session_data() -> str:
    return json.dumps(
        [s.get_decoded() for s in Session.objects.all()], ensure_ascii=False, default=str
    )


def all_audit_details() -> str:
    return json.dumps(
        list(AuditEvent.objects.values_list("details", flat=True)), ensure_ascii=False
    )


def linked_as(client: Any, provider: harness.Provider, user: User, username: str) -> None:
    """``user`` links the provider person ``username`` by step-up, declining to keep claims."""
    client.force_login(user)
    response = card_login(client, provider, username)
    assert response.status_code == 302 and response["Location"] == KEEP
    assert client.post(KEEP, {"choice": "discard"}).status_code == 302
    client.post("/account/logout/")


# --- the client's key and the provider's metadata -------------------------------------


@pytest.mark.django_db
def test_jwks_endpoint_publishes_the_public_key_only(
    client: Any, configured: Any, client_keys: dict[str, str]
) -> None:
    response = client.get("/account/oidc/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert key["kid"] == "rsa-1" and key["kty"] == "RSA" and key["alg"] == "RS256"
    assert key["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    # The published key verifies what the private key signs.
    token = jwt.encode({"x": 1}, oidc.load_private_key(client_keys["rsa-1"]), algorithm="RS256")
    assert jwt.decode(token, jwt.PyJWK(key), algorithms=["RS256"]) == {"x": 1}


@pytest.mark.django_db
def test_jwks_endpoint_without_a_key_is_not_found(client: Any, settings: Any) -> None:
    settings.OIDC_PRIVATE_KEY = ""
    assert client.get("/account/oidc/jwks.json").status_code == 404


def test_discovery_reads_and_checks_the_provider_metadata(
    configured: Any, provider: harness.Provider
) -> None:
    metadata = identity.client().metadata()
    assert metadata.issuer == provider.issuer
    assert metadata.token_endpoint == provider.token_endpoint
    assert "private_key_jwt" in metadata.token_endpoint_auth_methods
    assert metadata.iss_parameter_supported
    assert identity.client().metadata() is metadata  # cached


def test_metadata_for_another_issuer_or_plain_http_is_refused() -> None:
    good = {
        "issuer": "https://op.example",
        "authorization_endpoint": "https://op.example/auth",
        "token_endpoint": "https://op.example/token",
        "jwks_uri": "https://op.example/jwks",
    }
    assert oidc.ProviderMetadata.parse(good, "https://op.example").jwks_uri
    with pytest.raises(oidc.OIDCError):
        oidc.ProviderMetadata.parse(good, "https://other.example")
    with pytest.raises(oidc.OIDCError):
        oidc.ProviderMetadata.parse(
            {**good, "token_endpoint": "http://op.example/token"}, "https://op.example"
        )
    loopback = {**good, "token_endpoint": "http://127.0.0.1:8080/token"}
    assert oidc.ProviderMetadata.parse(loopback, "https://op.example").token_endpoint


# --- the provider really demands private_key_jwt (RFC 7523) ----------------------------


def token_request(provider: harness.Provider, **fields: str) -> tuple[int, dict[str, Any]]:
    data = {
        "grant_type": "authorization_code",
        "code": "not-a-real-code",
        "redirect_uri": harness.REDIRECT_URI,
        "code_verifier": "v" * 43,
        "client_id": harness.CLIENT_ID,
        **fields,
    }
    response = requests.post(provider.token_endpoint, data=data, timeout=10)
    return response.status_code, response.json()


def assertion(
    provider: harness.Provider,
    pem: str,
    kid: str,
    *,
    audience: str | None = None,
    now: float | None = None,
) -> dict[str, str]:
    rp = oidc.Client(
        oidc.ClientSettings(
            issuer=provider.issuer,
            client_id=harness.CLIENT_ID,
            private_key=pem,
            key_id=kid,
            redirect_uri=harness.REDIRECT_URI,
        )
    )
    return {
        "client_assertion_type": oidc.JWT_BEARER,
        "client_assertion": rp.client_assertion(audience or provider.token_endpoint, now=now),
    }


def test_provider_accepts_only_a_valid_client_assertion(
    provider: harness.Provider, client_keys: dict[str, str]
) -> None:
    # A good assertion passes client authentication: the fake code is what fails.
    status, body = token_request(provider, **assertion(provider, client_keys["rsa-1"], "rsa-1"))
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body = token_request(provider, **assertion(provider, client_keys["ec-1"], "ec-1"))
    assert (status, body["error"]) == (400, "invalid_grant")

    refused = [
        {},  # no client authentication at all
        {"client_secret": harness.CLIENT_SECRET},  # client_secret_post
        assertion(provider, client_keys["unregistered"], "rsa-1"),  # someone else's key
        assertion(provider, client_keys["rsa-1"], "rsa-1", audience=provider.issuer),
        assertion(provider, client_keys["rsa-1"], "rsa-1", now=time.time() - 3600),  # expired
        {**assertion(provider, client_keys["rsa-1"], "rsa-1"), "client_assertion_type": "x"},
    ]
    for fields in refused:
        status, body = token_request(provider, **fields)
        assert (status, body["error"]) == (401, "invalid_client"), fields

    basic = requests.post(
        provider.token_endpoint,
        data={"grant_type": "authorization_code", "code": "x", "code_verifier": "v" * 43},
        auth=(harness.CLIENT_ID, harness.CLIENT_SECRET),
        timeout=10,
    )
    assert basic.status_code == 401


def test_provider_refuses_a_replayed_client_assertion(
    provider: harness.Provider, client_keys: dict[str, str]
) -> None:
    fields = assertion(provider, client_keys["rsa-1"], "rsa-1")
    assert token_request(provider, **fields)[0] == 400  # authenticated; fake code
    assert token_request(provider, **fields) == (401, {"error": "invalid_client"})


@pytest.mark.django_db
def test_flow_fails_cleanly_when_our_key_is_not_the_registered_one(
    client: Any, configured: Any, provider: harness.Provider, client_keys: dict[str, str]
) -> None:
    configured.OIDC_PRIVATE_KEY = client_keys["unregistered"]
    response = card_login(client, provider, "hanako")
    assert response.status_code == 400
    assert reason_of(response) == "token"
    assert "invalid_client" in response.content.decode()
    assert not OIDCLink.objects.exists()
    assert client.session.get("assurance") is None
    assert actions()[-1] == "resident.oidc_failed"


@pytest.mark.django_db
def test_an_ec_client_key_works_end_to_end(
    client: Any, configured: Any, provider: harness.Provider, client_keys: dict[str, str]
) -> None:
    configured.OIDC_PRIVATE_KEY = client_keys["ec-1"]
    configured.OIDC_KEY_ID = "ec-1"
    resident = make_resident()
    client.force_login(resident)
    assert card_login(client, provider, "hanako")["Location"] == KEEP
    assert OIDCLink.objects.filter(user=resident).count() == 1


# --- the happy paths ------------------------------------------------------------------


@pytest.mark.django_db
def test_step_up_links_the_card_and_records_card_assurance(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    resident = make_resident()
    client.force_login(resident)
    path = authorize(client, provider, "hanako", start=START + "?next=/procedures/x/")
    params = query_of(path)
    assert params["iss"] == provider.issuer  # RFC 9207, checked by the client
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == KEEP

    link = OIDCLink.objects.get(user=resident)
    assert link.issuer == provider.issuer
    assert len(link.subject_hash) == 64 and link.last_login_at is not None
    session = client.session
    assert session["assurance"] == identity.CARD
    assert session["assurance_acr"] == harness.CARD_ACR
    assert dt.datetime.fromisoformat(session["assurance_at"]) <= dt.datetime.now(dt.UTC)

    page = client.get(KEEP)
    assert page.status_code == 200
    html = page.content.decode()
    for value in ("伊賀 花子", "三重県伊賀市四十九町3184番地"):
        assert value in html
    assert harness.UNREQUESTED["x_unrequested"] not in html
    # After the choice the resident goes back to where they were.
    assert client.post(KEEP, {"choice": "discard"})["Location"] == "/procedures/x/"
    assert "resident.oidc_linked" in actions()


@pytest.mark.django_db
def test_linked_card_logs_the_resident_in(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    resident = make_resident()
    linked_as(client, provider, resident, "hanako")
    assert "_auth_user_id" not in client.session

    response = card_login(client, provider, "hanako", start=START + "?next=/my/")
    assert response.status_code == 302 and response["Location"] == KEEP
    assert client.session["_auth_user_id"] == str(resident.pk)
    assert client.session["_auth_user_backend"] == identity.MODEL_BACKEND
    assert client.session["assurance"] == identity.CARD
    assert client.session["assurance_user"] == resident.pk
    assert client.post(KEEP, {"choice": "discard"})["Location"] == "/my/"
    assert "resident.oidc_login" in actions()
    assert OIDCLink.objects.count() == 1


@pytest.mark.django_db
def test_unknown_card_waits_for_an_email_login_then_links(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    resident = make_resident()
    response = card_login(client, provider, "taro")
    assert response.status_code == 302 and response["Location"] == CONNECT
    assert not OIDCLink.objects.exists()
    assert "_auth_user_id" not in client.session

    page = client.get(CONNECT)
    assert page.status_code == 200
    assert "/account/login/?next=/account/oidc/connect/" in page.content.decode()

    login = client.post(
        "/account/login/",
        {"username": resident.email, "password": PASSWORD, "next": CONNECT},
    )
    assert login.status_code == 302 and login["Location"] == CONNECT
    assert OIDCLink.objects.get().user == resident
    assert client.session["assurance"] == identity.CARD
    assert client.get(CONNECT)["Location"] == KEEP
    assert client.post(KEEP, {"choice": "keep"}).status_code == 302
    assert VerifiedIdentity.objects.get(user=resident).name == "伊賀 太郎"
    assert [a for a in actions() if a.startswith("resident.")] == [
        "resident.oidc_start",
        "resident.oidc_pending",
        "resident.oidc_linked",
        "resident.identity_kept",
    ]


# --- keeping the 基本4情報 --------------------------------------------------------------


@pytest.mark.django_db
def test_keeping_stores_the_four_claims_encrypted(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    resident = make_resident()
    client.force_login(resident)
    card_login(client, provider, "hanako")
    assert client.post(KEEP, {"choice": "keep"}).status_code == 302

    kept = VerifiedIdentity.objects.get(user=resident)
    claims = harness.PEOPLE["hanako"]["claims"]
    assert kept.name == claims["name"]
    assert kept.address == claims["address"]
    assert kept.birthdate == dt.date(1985, 4, 1)
    assert kept.gender == "female"
    assert kept.issuer == provider.issuer

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, address, birthdate, gender FROM people_verifiedidentity "
            "WHERE user_id = %s",
            [resident.pk],
        )
        raw = cursor.fetchone()
    for column, plain in zip(raw, ["伊賀", "伊賀市", "1985", "female"], strict=True):
        assert column.startswith("gAAAAA")  # a Fernet token
        assert plain not in column

    event = AuditEvent.objects.get(action="resident.identity_kept")
    assert event.details == {"fields": ["address", "birthdate", "gender", "name"]}
    assert event.subject_id == resident.pk


@pytest.mark.django_db
def test_not_keeping_stores_nothing_and_can_delete_what_was_kept(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    resident = make_resident()
    client.force_login(resident)
    card_login(client, provider, "hanako")
    client.post(KEEP, {"choice": "discard"})
    assert not VerifiedIdentity.objects.exists()
    assert "resident.identity_declined" in actions()

    card_login(client, provider, "hanako")
    client.post(KEEP, {"choice": "keep"})
    assert VerifiedIdentity.objects.filter(user=resident).exists()

    card_login(client, provider, "hanako")
    page = client.get(KEEP).content.decode()
    assert 'value="delete"' in page
    client.post(KEEP, {"choice": "discard"})
    assert VerifiedIdentity.objects.filter(user=resident).exists()  # untouched

    card_login(client, provider, "hanako")
    client.post(KEEP, {"choice": "delete"})
    assert not VerifiedIdentity.objects.filter(user=resident).exists()
    assert "resident.identity_deleted" in actions()
    # The offer is used once.
    assert client.post(KEEP, {"choice": "keep"}).status_code == 400
    assert not VerifiedIdentity.objects.exists()


@pytest.mark.django_db
def test_no_claim_values_or_unknown_claims_are_stored(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    resident = make_resident()
    card_login(client, provider, "hanako")  # pending: claims wait in the session
    stored = all_session_data()
    for value in [*harness.PEOPLE["hanako"]["claims"].values(), *harness.UNREQUESTED.values()]:
        assert value not in stored  # encrypted while waiting
    client.post("/account/login/", {"username": resident.email, "password": PASSWORD})
    client.post(KEEP, {"choice": "keep"})

    kept = VerifiedIdentity.objects.get(user=resident)
    values = [kept.name, kept.address, str(kept.birthdate), kept.gender]
    assert harness.UNREQUESTED["x_unrequested"] not in json.dumps(values, ensure_ascii=False)
    audit_text = all_audit_details()
    for value in [*harness.PEOPLE["hanako"]["claims"].values(), *harness.UNREQUESTED.values()]:
        assert value not in audit_text
    assert harness.UNREQUESTED["x_unrequested"] not in all_session_data()


def test_only_the_four_claims_are_read() -> None:
    claims = identity.normalize_claims(
        {
            "name": "  伊賀 花子 ",
            "address": {"postal_code": "518-8501", "region": "三重県", "locality": "伊賀市"},
            "birthdate": "1985-04-01",
            "gender": "female",
            "individual_number": "123456789012",
            "sub": "abc",
        }
    )
    assert claims == {
        "name": "伊賀 花子",
        "address": "518-8501 三重県 伊賀市",
        "birthdate": "1985-04-01",
        "gender": "female",
    }
    assert identity.normalize_claims({"address": {"formatted": "伊賀市"}}) == {"address": "伊賀市"}
    assert identity.normalize_claims({"birthdate": "1985", "name": 5, "gender": ""}) == {}


# --- PKCE (RFC 7636) ------------------------------------------------------------------


@pytest.mark.django_db
def test_pkce_s256_is_sent_and_the_provider_insists_on_it(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    url = client.get(START)["Location"]
    params = query_of(url)
    assert params["code_challenge_method"] == "S256"
    assert params["response_type"] == "code"
    assert params["scope"] == "openid name address birthdate gender"
    flow = client.session[identity.FLOWS_KEY][params["state"]]
    assert params["nonce"] == flow["nonce"]
    assert params["code_challenge"] == oidc.pkce_challenge(flow["verifier"])
    assert flow["verifier"] not in url

    def drop_challenge(params: dict[str, str]) -> None:
        del params["code_challenge"]

    without = authorize(client, provider, "hanako", tamper=lambda u: with_query(u, drop_challenge))
    assert query_of(without)["error"] == "invalid_request"
    response = client.get(without)
    assert response.status_code == 400 and reason_of(response) == "provider"
    assert "invalid_request" in response.content.decode()

    def plain(params: dict[str, str]) -> None:
        params["code_challenge_method"] = "plain"

    downgraded = authorize(client, provider, "hanako", tamper=lambda u: with_query(u, plain))
    assert query_of(downgraded)["error"] == "invalid_request"
    assert not OIDCLink.objects.exists()


@pytest.mark.django_db
def test_a_wrong_code_verifier_is_refused_by_the_provider(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    path = authorize(client, provider, "hanako")
    session = client.session
    flows = session[identity.FLOWS_KEY]
    flows[query_of(path)["state"]]["verifier"] = oidc.pkce_pair()[0]
    session[identity.FLOWS_KEY] = flows
    session.save()
    response = client.get(path)
    assert response.status_code == 400 and reason_of(response) == "token"
    assert "invalid_grant" in response.content.decode()
    assert not OIDCLink.objects.exists()


# --- state, replay, expiry, provider errors -------------------------------------------


@pytest.mark.django_db
def test_wrong_state_is_rejected(client: Any, configured: Any, provider: harness.Provider) -> None:
    resident = make_resident()
    client.force_login(resident)
    path = authorize(client, provider, "hanako")
    forged = with_query(path, lambda p: p.update(state=oidc.random_token()))
    response = client.get(forged)
    assert response.status_code == 400 and reason_of(response) == "state"
    assert not OIDCLink.objects.exists()
    assert client.session.get("assurance") is None
    failed = AuditEvent.objects.filter(action="resident.oidc_failed").last()
    assert failed is not None
    assert failed.details == {"stage": "callback", "reason": "state"}


@pytest.mark.django_db
def test_a_callback_from_another_browser_is_rejected(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    path = authorize(client, provider, "hanako")
    other = Client()
    response = other.get(path)
    assert response.status_code == 400 and reason_of(response) == "state"
    assert not OIDCLink.objects.exists()


@pytest.mark.django_db
def test_a_replayed_callback_is_rejected(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    resident = make_resident()
    client.force_login(resident)
    path = authorize(client, provider, "hanako")
    assert client.get(path)["Location"] == KEEP
    replay = client.get(path)
    assert replay.status_code == 400 and reason_of(replay) == "state"
    assert OIDCLink.objects.count() == 1


@pytest.mark.django_db
def test_an_expired_flow_is_rejected(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    path = authorize(client, provider, "hanako")
    session = client.session
    flows = session[identity.FLOWS_KEY]
    flows[query_of(path)["state"]]["created"] -= identity.FLOW_SECONDS + 1
    session[identity.FLOWS_KEY] = flows
    session.save()
    response = client.get(path)
    assert response.status_code == 400 and reason_of(response) == "expired"
    assert "took too long" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_provider_error_is_shown(client: Any, configured: Any) -> None:
    url = client.get(START)["Location"]
    state = query_of(url)["state"]
    response = client.get("/account/oidc/callback/", {"error": "access_denied", "state": state})
    assert response.status_code == 400 and reason_of(response) == "provider"
    html = response.content.decode()
    assert "did not confirm who you are" in html
    assert "access_denied" in html
    assert "Nothing was saved" in html
    failed = AuditEvent.objects.filter(action="resident.oidc_failed").last()
    assert failed is not None and failed.details["provider_error"] == "access_denied"


@pytest.mark.django_db
def test_unreachable_provider_shows_an_error(client: Any, configured: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    configured.OIDC_ISSUER = f"http://127.0.0.1:{port}/o"
    response = client.get(START)
    assert response.status_code == 502 and reason_of(response) == "network"
    assert "could not reach" in response.content.decode()


@pytest.mark.django_db
def test_disabled_when_not_configured(client: Any, settings: Any) -> None:
    settings.OIDC_ISSUER = ""
    response = client.get(START)
    assert response.status_code == 404 and reason_of(response) == "disabled"


@pytest.mark.django_db
def test_next_cannot_leave_the_site(client: Any, configured: Any) -> None:
    url = client.get(START, {"next": "https://evil.example/"})["Location"]
    flow = client.session[identity.FLOWS_KEY][query_of(url)["state"]]
    assert flow["next"] == "/my/"


# --- the resident links only their own account; staff are refused ----------------------


@pytest.mark.django_db
def test_a_card_linked_to_one_account_cannot_be_linked_to_another(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    owner, other = make_resident(), make_resident("taro@example.jp")
    linked_as(client, provider, owner, "hanako")
    client.force_login(other)
    response = card_login(client, provider, "hanako")
    assert response.status_code == 409 and reason_of(response) == "linked_elsewhere"
    assert list(OIDCLink.objects.values_list("user_id", flat=True)) == [owner.pk]
    assert client.session.get("assurance") is None


@pytest.mark.django_db
def test_an_account_cannot_take_a_second_persons_card(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    owner = make_resident()
    linked_as(client, provider, owner, "hanako")
    client.force_login(owner)
    response = card_login(client, provider, "taro")
    assert response.status_code == 409 and reason_of(response) == "other_person"
    assert OIDCLink.objects.count() == 1
    assert client.session.get("assurance") is None


@pytest.mark.django_db
def test_staff_cannot_start_the_flow(client: Any, configured: Any) -> None:
    login_staff(client, make_staff("clerk@city.iga.example", "clerk"))
    response = client.get(START)
    assert response.status_code == 403 and reason_of(response) == "staff"


@pytest.mark.django_db
def test_a_card_linked_to_a_staff_account_does_not_log_in(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    resident = make_resident()
    linked_as(client, provider, resident, "hanako")
    User.objects.filter(pk=resident.pk).update(is_staff=True)
    response = card_login(client, provider, "hanako")
    assert response.status_code == 403 and reason_of(response) == "staff"
    assert "_auth_user_id" not in client.session


def pending_request(user: Any) -> HttpRequest:
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.user = user
    request.session[identity.PENDING_KEY] = {
        "issuer": "https://op.example",
        "subject_hash": identity.subject_hash("someone"),
        "acr": "",
        "claims": "",
        "at": time.time(),
        "next": "/my/",
    }
    return request


@pytest.mark.django_db
def test_a_pending_card_login_is_not_linked_to_staff() -> None:
    staff = make_staff("clerk@city.iga.example", "clerk")
    request = pending_request(staff)
    assert identity.complete_pending(request, staff) == "staff"
    assert not OIDCLink.objects.exists()
    assert identity.PENDING_KEY not in request.session


@pytest.mark.django_db
def test_an_old_pending_card_login_is_dropped() -> None:
    resident = make_resident()
    request = pending_request(resident)
    request.session[identity.PENDING_KEY]["at"] -= identity.PENDING_SECONDS + 1
    assert identity.complete_pending(request, resident) is None
    assert not OIDCLink.objects.exists()


# --- assurance and step-up --------------------------------------------------------------


@pytest.mark.django_db
def test_acr_outside_the_verified_list_is_not_card(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    resident = make_resident()
    client.force_login(resident)
    card_login(client, provider, "jiro")
    assert client.session["assurance"] == identity.OIDC
    assert client.session["assurance_acr"] == harness.WEAK_ACR

    # A step-up that must reach card level fails and saves nothing.
    other = make_resident("taro@example.jp")
    client.force_login(other)
    response = card_login(client, provider, "jiro", start=START + "?purpose=card")
    assert response.status_code == 400 and reason_of(response) == "not_card"
    assert not OIDCLink.objects.filter(user=other).exists()


@pytest.mark.django_db
def test_without_a_verified_list_any_provider_login_is_card(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    configured.OIDC_VERIFIED_ACR = []
    client.force_login(make_resident())
    card_login(client, provider, "jiro")
    assert client.session["assurance"] == identity.CARD


def request_for(user: Any, path: str = "/procedures/x/?a=1") -> HttpRequest:
    request = RequestFactory().get(path)
    request.session = SessionStore()
    request.user = user
    return request


@identity.requires_card
def card_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@identity.requires_card(max_age=60)
def fresh_card_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@pytest.mark.django_db
def test_requires_card_sends_the_resident_through_the_flow_and_back() -> None:
    resident = make_resident()
    request = request_for(resident)
    assert identity.assurance(request) == identity.PASSWORD
    response = card_only(request)
    assert response.status_code == 302
    assert (
        response["Location"]
        == "/account/oidc/start/?next=%2Fprocedures%2Fx%2F%3Fa%3D1&purpose=card"
    )

    request.session.update(
        {
            "assurance": identity.CARD,
            "assurance_at": dt.datetime.now(dt.UTC).isoformat(),
            "assurance_acr": harness.CARD_ACR,
            "assurance_user": resident.pk,
        }
    )
    assert identity.assurance(request) == identity.CARD
    assert card_only(request).status_code == 200
    assert fresh_card_only(request).status_code == 200

    request.session["assurance_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    assert fresh_card_only(request).status_code == 302
    assert card_only(request).status_code == 200

    # Card assurance belongs to the account that earned it.
    request.user = make_resident("taro@example.jp")
    assert identity.assurance(request) == identity.PASSWORD
    assert card_only(request).status_code == 302

    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert identity.assurance(request) == identity.NONE
    assert card_only(request).status_code == 302

    request.user = make_staff("clerk@city.iga.example", "clerk")
    with pytest.raises(PermissionDenied):
        card_only(request)


@pytest.mark.django_db
def test_step_up_round_trip_returns_to_the_page(
    client: Any, configured: Any, provider: harness.Provider
) -> None:
    resident = make_resident()
    client.force_login(resident)
    start = identity.step_up_url("/procedures/x/?a=1")
    assert card_login(client, provider, "hanako", start=start)["Location"] == KEEP
    assert client.post(KEEP, {"choice": "discard"})["Location"] == "/procedures/x/?a=1"
    request = request_for(resident)
    request.session = client.session
    assert card_only(request).status_code == 200


# --- ID token validation (OpenID Connect Core §3.1.3.7), with our own keys -------------

ISSUER = "https://op.example"
CLIENT = "cityhall"
NONCE = "n-0S6_WzA2Mj"


@pytest.fixture(scope="module")
def op_keys() -> dict[str, Any]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    return {
        "rsa": rsa_key,
        "ec": ec_key,
        "jwks": {"keys": [oidc.public_jwk(rsa_key, "r1"), oidc.public_jwk(ec_key, "e1")]},
    }


def id_token(
    keys: dict[str, Any], alg: str = "RS256", kid: str | None = None, **claims: Any
) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "sub": "subject-1", "aud": CLIENT, "exp": now + 300, "iat": now}
    body.update({"nonce": NONCE, "acr": "card"})
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    key = keys["rsa"] if alg == "RS256" else keys["ec"]
    kid = kid if kid is not None else ("r1" if alg == "RS256" else "e1")
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


def check(keys: dict[str, Any], token: str, **kwargs: Any) -> dict[str, Any]:
    args = {"jwks": keys["jwks"], "issuer": ISSUER, "client_id": CLIENT, "nonce": NONCE}
    return oidc.validate_id_token(token, **{**args, **kwargs})


def test_a_good_id_token_is_accepted(op_keys: dict[str, Any]) -> None:
    assert check(op_keys, id_token(op_keys))["sub"] == "subject-1"
    assert check(op_keys, id_token(op_keys, "ES256"))["acr"] == "card"
    both = id_token(op_keys, aud=[CLIENT, "other"], azp=CLIENT)
    assert check(op_keys, both)["azp"] == CLIENT
    at = "an-access-token"
    hashed = id_token(op_keys, at_hash=oidc.token_hash(at, "RS256"))
    assert check(op_keys, hashed, access_token=at)


@pytest.mark.parametrize(
    ("claims", "kwargs"),
    [
        ({"nonce": "another-nonce"}, {}),
        ({"nonce": None}, {}),
        ({"aud": "another-client"}, {}),
        ({"aud": [CLIENT, "other"]}, {}),  # several audiences and no azp
        ({"azp": "other"}, {}),
        ({"iss": "https://evil.example"}, {}),
        ({"exp": int(time.time()) - 3600}, {}),
        ({"iat": int(time.time()) + 3600}, {}),
        ({"iat": int(time.time()) - 7200, "exp": int(time.time()) + 60}, {}),
        ({"sub": None}, {}),
        ({"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, {"access_token": "an-access-token"}),
    ],
    ids=[
        "wrong-nonce",
        "no-nonce",
        "wrong-audience",
        "multi-aud-without-azp",
        "wrong-azp",
        "wrong-issuer",
        "expired",
        "issued-in-future",
        "too-old",
        "no-subject",
        "wrong-at-hash",
    ],
)
def test_a_bad_id_token_is_refused(
    op_keys: dict[str, Any], claims: dict[str, Any], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(oidc.OIDCError) as caught:
        check(op_keys, id_token(op_keys, **claims), **kwargs)
    assert caught.value.code == "id_token"


def test_id_token_signatures_are_checked(op_keys: dict[str, Any]) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {
            "iss": ISSUER,
            "sub": "s",
            "aud": CLIENT,
            "exp": time.time() + 60,
            "iat": time.time(),
            "nonce": NONCE,
        },
        stranger,
        algorithm="RS256",
        headers={"kid": "r1"},
    )
    with pytest.raises(oidc.OIDCError):
        check(op_keys, forged)
    good = id_token(op_keys)
    head, _body, signature = good.split(".")
    tampered = ".".join([head, jwt.utils.base64url_encode(b'{"sub":"x"}').decode(), signature])
    with pytest.raises(oidc.OIDCError):
        check(op_keys, tampered)
    unsigned = jwt.encode(
        {"iss": ISSUER, "sub": "s", "aud": CLIENT, "nonce": NONCE}, "", algorithm="none"
    )
    with pytest.raises(oidc.OIDCError):
        check(op_keys, unsigned)
    hmac_token = jwt.encode(
        {"iss": ISSUER, "sub": "s", "aud": CLIENT, "nonce": NONCE}, "secret" * 6, algorithm="HS256"
    )
    with pytest.raises(oidc.OIDCError):
        check(op_keys, hmac_token)
    with pytest.raises(LookupError):  # unknown kid: the client refetches the JWKS once
        check(op_keys, id_token(op_keys, kid="rotated-away"))


def test_client_assertion_claims(provider: harness.Provider, client_keys: dict[str, str]) -> None:
    token = assertion(provider, client_keys["rsa-1"], "rsa-1")["client_assertion"]
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "RS256" and header["kid"] == "rsa-1"
    assert claims["iss"] == claims["sub"] == harness.CLIENT_ID
    assert claims["aud"] == provider.token_endpoint
    assert 0 < claims["exp"] - claims["iat"] <= 60
    other = assertion(provider, client_keys["rsa-1"], "rsa-1")["client_assertion"]
    assert jwt.decode(other, options={"verify_signature": False})["jti"] != claims["jti"]
