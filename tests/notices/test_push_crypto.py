"""Web Push encryption (RFC 8291) and VAPID (RFC 8292), checked against the RFC's own
vector and against independent implementations (``http_ece``; ``cryptography``'s ECDSA
verify on the raw JWT), plus the VAPID key of this installation."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from cityhall.notices.services import push_keys
from cityhall.notices.webpush import b64url_decode, b64url_encode, rfc8291, vapid
from tests.notices.push_server import verify_vapid

# RFC 8291 Appendix A ("Intermediate Values for Encryption"), published test data.
RFC_PLAINTEXT = b"When I grow up, I want to be a watermelon"
RFC_UA_PUBLIC = (
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
)
RFC_UA_PRIVATE = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
RFC_AS_PUBLIC = (
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
)
RFC_AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
RFC_SALT = "DGv6ra1nlYgDCS1FRnbzlw"
RFC_AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
RFC_BODY = (
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml"
    "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT"
    "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
)


def _key(scalar_b64url: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(
        int.from_bytes(b64url_decode(scalar_b64url), "big"), ec.SECP256R1()
    )


# --- RFC 8291 -----------------------------------------------------------------------------


def test_encrypt_reproduces_the_rfc_8291_appendix_a_body_byte_for_byte() -> None:
    as_private = _key(RFC_AS_PRIVATE)
    assert rfc8291.public_bytes(as_private) == b64url_decode(RFC_AS_PUBLIC)
    body = rfc8291.encrypt(
        RFC_PLAINTEXT,
        RFC_UA_PUBLIC,
        RFC_AUTH,
        salt=b64url_decode(RFC_SALT),
        as_private=as_private,
    )
    assert b64url_encode(body) == RFC_BODY
    # header: salt || rs=4096 || idlen=65 || as_public
    assert body[:16] == b64url_decode(RFC_SALT)
    assert body[16:20] == (4096).to_bytes(4, "big")
    assert body[20] == 65
    assert body[21:86] == b64url_decode(RFC_AS_PUBLIC)


def test_the_rfc_body_decrypts_with_our_code_and_with_http_ece() -> None:
    ua = _key(RFC_UA_PRIVATE)
    assert rfc8291.public_bytes(ua) == b64url_decode(RFC_UA_PUBLIC)
    body = b64url_decode(RFC_BODY)
    assert rfc8291.decrypt(body, ua, b64url_decode(RFC_AUTH)) == RFC_PLAINTEXT
    independent = http_ece.decrypt(
        body, private_key=ua, auth_secret=b64url_decode(RFC_AUTH), version="aes128gcm"
    )
    assert independent == RFC_PLAINTEXT


@given(plaintext=st.binary(max_size=rfc8291.MAX_PLAINTEXT))
def test_anything_we_encrypt_http_ece_decrypts(plaintext: bytes) -> None:
    ua = ec.generate_private_key(ec.SECP256R1())
    auth = b"0123456789abcdef"
    body = rfc8291.encrypt(plaintext, b64url_encode(rfc8291.public_bytes(ua)), b64url_encode(auth))
    assert len(body) <= rfc8291.MAX_BODY
    assert http_ece.decrypt(body, private_key=ua, auth_secret=auth, version="aes128gcm") == (
        plaintext
    )


# min_size=1: http_ece writes no record at all for an empty plaintext, which RFC 8188
# does not allow (the last record carries the 0x02 delimiter); our decrypt refuses that.
@given(plaintext=st.binary(min_size=1, max_size=3000), rs=st.integers(min_value=18, max_value=4096))
def test_our_decrypt_reads_what_http_ece_encrypts_even_in_several_records(
    plaintext: bytes, rs: int
) -> None:
    ua = ec.generate_private_key(ec.SECP256R1())
    sender = ec.generate_private_key(ec.SECP256R1())
    auth = b"fedcba9876543210"
    body = http_ece.encrypt(
        plaintext,
        private_key=sender,
        dh=rfc8291.public_bytes(ua),
        auth_secret=auth,
        version="aes128gcm",
        rs=rs,
    )
    assert rfc8291.decrypt(body, ua, auth) == plaintext


def test_each_message_gets_a_fresh_key_and_salt() -> None:
    ua = ec.generate_private_key(ec.SECP256R1())
    ua_public = b64url_encode(rfc8291.public_bytes(ua))
    a = rfc8291.encrypt(b"same", ua_public, RFC_AUTH)
    b = rfc8291.encrypt(b"same", ua_public, RFC_AUTH)
    assert a[:16] != b[:16] and a[21:86] != b[21:86] and a != b


def test_a_tampered_body_or_a_wrong_secret_does_not_decrypt() -> None:
    ua = _key(RFC_UA_PRIVATE)
    body = bytearray(b64url_decode(RFC_BODY))
    body[-1] ^= 0x01
    with pytest.raises(rfc8291.DecryptionError):
        rfc8291.decrypt(bytes(body), ua, b64url_decode(RFC_AUTH))
    with pytest.raises(rfc8291.DecryptionError):
        rfc8291.decrypt(b64url_decode(RFC_BODY), ua, b"x" * 16)


@pytest.mark.parametrize(
    ("ua_public", "auth", "plaintext"),
    [
        (RFC_UA_PUBLIC, RFC_AUTH, b"x" * (rfc8291.MAX_PLAINTEXT + 1)),  # too long
        (RFC_UA_PUBLIC[:-4], RFC_AUTH, b"hi"),  # not 65 bytes
        ("B" + "A" * 86, RFC_AUTH, b"hi"),  # 65 bytes but not a point on the curve
        (RFC_UA_PUBLIC, "AAAA", b"hi"),  # auth not 16 bytes
        (RFC_UA_PUBLIC, "not base64url!", b"hi"),
    ],
)
def test_bad_input_is_refused(ua_public: str, auth: str, plaintext: bytes) -> None:
    with pytest.raises(ValueError):
        rfc8291.encrypt(plaintext, ua_public, auth)


def test_base64url_helpers_accept_padding_and_refuse_other_alphabets() -> None:
    assert b64url_decode("AQID") == b"\x01\x02\x03"
    assert b64url_decode("AQI=") == b64url_decode("AQI") == b"\x01\x02"
    assert b64url_encode(b"\xfb\xff") == "-_8"
    for bad in ("a+b/", "abcde", "a=bc"):
        with pytest.raises(ValueError):
            b64url_decode(bad)


# --- RFC 8292 -----------------------------------------------------------------------------


def _jwt_parts(header: str) -> tuple[str, str]:
    assert header.startswith("vapid t=")
    token_part, key_part = header[len("vapid ") :].split(", ")
    return token_part[2:], key_part[2:]


def test_vapid_header_is_an_es256_jwt_that_cryptography_verifies() -> None:
    key = vapid.generate_private_key()
    now = time.time()
    header = vapid.vapid_header(
        "https://Push.Example.NET:443/wpush/v2/abc?x=1", key, "mailto:ops@city.example", now=now
    )
    token, k = _jwt_parts(header)
    assert k == vapid.public_key_b64url(key)
    assert len(b64url_decode(k)) == 65 and b64url_decode(k)[0] == 4
    head_b64, claims_b64, signature_b64 = token.split(".")
    assert json.loads(b64url_decode(head_b64)) == {"typ": "JWT", "alg": "ES256"}
    claims = json.loads(b64url_decode(claims_b64))
    assert claims == {
        "aud": "https://push.example.net",
        "exp": int(now) + 12 * 3600,
        "sub": "mailto:ops@city.example",
    }
    signature = b64url_decode(signature_b64)
    assert len(signature) == 64  # raw r || s, not DER
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(k))
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    public.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    # PyJWT, another independent reader, agrees.
    import jwt

    decoded = jwt.decode(
        token, key=public, algorithms=["ES256"], audience="https://push.example.net"
    )
    assert decoded["sub"] == "mailto:ops@city.example"


def test_vapid_audience_keeps_a_non_default_port_and_the_loopback_server_accepts_it() -> None:
    key = vapid.generate_private_key()
    header = vapid.vapid_header("http://127.0.0.1:8123/push/s1", key, "https://city.example/")
    k, claims = verify_vapid(header, "http://127.0.0.1:8123")
    assert claims["aud"] == "http://127.0.0.1:8123"
    assert k == vapid.public_key_b64url(key)
    with pytest.raises(ValueError, match="aud"):
        verify_vapid(header, "http://127.0.0.1:9999")


def test_vapid_refuses_long_expiry_bad_subjects_and_bad_endpoints() -> None:
    key = vapid.generate_private_key()
    with pytest.raises(ValueError):
        vapid.vapid_header("https://p.example/x", key, "mailto:a@b", expires_in=25 * 3600)
    with pytest.raises(ValueError):
        vapid.vapid_header("https://p.example/x", key, "ops@city.example")
    with pytest.raises(ValueError):
        vapid.vapid_header("ftp://p.example/x", key, "mailto:a@b")


def test_an_expired_vapid_token_is_refused_by_the_loopback_server() -> None:
    key = vapid.generate_private_key()
    header = vapid.vapid_header(
        "http://127.0.0.1:8123/push/s1", key, "mailto:a@b", now=time.time() - 13 * 3600
    )
    with pytest.raises(ValueError, match="exp"):
        verify_vapid(header, "http://127.0.0.1:8123")


def test_private_keys_round_trip_through_base64url() -> None:
    key = vapid.generate_private_key()
    text = vapid.private_key_b64url(key)
    assert len(b64url_decode(text)) == 32
    again = vapid.load_private_key(text)
    assert vapid.public_key_b64url(again) == vapid.public_key_b64url(key)
    with pytest.raises(ValueError):
        vapid.load_private_key("AAAA")


# --- this installation's key ----------------------------------------------------------------


def test_outside_production_the_key_is_derived_from_the_secret_key(settings: Any) -> None:
    settings.VAPID_PRIVATE_KEY = ""
    settings.PRODUCTION = False
    settings.SECRET_KEY = "one secret key for this test, long enough to be a secret key"
    first = push_keys.vapid_public_key()
    assert first and len(b64url_decode(first)) == 65
    assert push_keys.vapid_public_key() == first  # deterministic
    settings.SECRET_KEY = "another secret key for this test, also long enough to be one"
    assert push_keys.vapid_public_key() != first
    assert push_keys.push_enabled()


def test_in_production_without_a_key_push_is_off(settings: Any) -> None:
    settings.VAPID_PRIVATE_KEY = ""
    settings.PRODUCTION = True
    assert push_keys.vapid_public_key() == ""
    assert push_keys.signing_key() is None
    assert not push_keys.push_enabled()


def test_a_configured_key_wins_and_generate_vapid_key_makes_one(settings: Any) -> None:
    out = io.StringIO()
    call_command("generate_vapid_key", stdout=out)
    lines = out.getvalue().splitlines()
    private = lines[0].split("=", 1)[1]
    public = lines[1].rsplit(" ", 1)[1]
    settings.VAPID_PRIVATE_KEY = private
    settings.PRODUCTION = True
    assert push_keys.vapid_public_key() == public
    settings.VAPID_PRIVATE_KEY = "not-a-key"
    with pytest.raises(ValueError, match="generate_vapid_key"):
        push_keys.vapid_public_key()
