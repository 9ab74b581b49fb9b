"""A small OpenID Connect relying party for the デジタル認証アプリ (Digital Authentication App).

Framework-light on purpose: no Django import, so the protocol rules live in one
place that reads like the specifications it follows.

* OpenID Connect Discovery 1.0 §4: the provider's metadata is read from
  ``{issuer}/.well-known/openid-configuration`` and its ``issuer`` must equal the
  configured one exactly. Metadata and the provider's JWKS are cached per process.
* RFC 6749 §4.1 (authorization code grant) with RFC 7636 (PKCE, ``S256`` only),
  ``state`` (RFC 6749 §10.12) and ``nonce`` (OpenID Connect Core §3.1.2.1).
* RFC 9207: when the authorization response carries ``iss`` it must be our issuer.
* RFC 7523 §2.2 / OpenID Connect Core §9 (``private_key_jwt``): the client
  authenticates at the token endpoint with a short-lived JWT signed by its own
  private key; ``iss`` = ``sub`` = client_id, ``aud`` = token endpoint, unique ``jti``.
* OpenID Connect Core §3.1.3.7: ID token validation (signature from the JWKS,
  RS256/ES256 only, ``iss``, ``aud``, ``azp``, ``exp``, ``iat``, ``nonce``,
  ``at_hash``) and §5.3 (UserInfo, whose ``sub`` must match the ID token's).

Only the claims the caller names are read out of the ID token and UserInfo: any
other claim a provider might send (a マイナンバー included) never leaves this module.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

log = logging.getLogger(__name__)

#: Signature algorithms accepted for ID tokens and used for client assertions.
ALGORITHMS = ("RS256", "ES256")
#: RFC 7523 §2.2 client assertion type.
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: How long discovery metadata and the provider's JWKS are kept (seconds).
CACHE_SECONDS = 3600
#: Lifetime of a client assertion (seconds): short, it is used once.
ASSERTION_SECONDS = 60
#: Clock skew tolerated on ``exp`` and ``iat`` (seconds).
LEEWAY_SECONDS = 60
#: An ID token issued longer ago than this is refused even if not expired (seconds).
MAX_ID_TOKEN_AGE = 600
#: Largest response body read from the provider (bytes).
MAX_RESPONSE_BYTES = 512 * 1024


class OIDCError(Exception):
    """The flow cannot go on. ``code`` says at which step, for the page and the log.

    ``code`` is one of ``config``, ``network``, ``discovery``, ``token``,
    ``id_token``, ``userinfo``; ``provider_error`` carries the provider's own
    OAuth error code (RFC 6749 §5.2) when it sent one. Messages never hold claim values.
    """

    def __init__(self, code: str, message: str, *, provider_error: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.provider_error = provider_error


# --- small helpers ------------------------------------------------------------------


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def random_token(nbytes: int = 32) -> str:
    """An unguessable value for ``state``, ``nonce`` or a PKCE verifier."""
    return secrets.token_urlsafe(nbytes)


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 §4.2: ``S256`` challenge = BASE64URL(SHA256(ASCII(code_verifier)))."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, code_challenge); the verifier has 43 characters (RFC 7636 §4.1)."""
    verifier = random_token(32)
    return verifier, pkce_challenge(verifier)


def token_hash(value: str, alg: str) -> str:
    """OpenID Connect Core §3.1.3.6 ``at_hash``: left half of the hash, base64url."""
    digest = hashlib.sha256(value.encode("ascii")).digest()  # RS256 and ES256 use SHA-256
    if alg not in ALGORITHMS:
        raise OIDCError("id_token", f"no hash for algorithm {alg}")
    return b64url(digest[: len(digest) // 2])


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(url: Any, name: str) -> str:
    """Endpoints must be https; plain http is allowed on loopback only (tests, development)."""
    if not isinstance(url, str) or not url:
        raise OIDCError("discovery", f"{name} missing from the provider metadata")
    scheme = urlsplit(url).scheme
    if scheme != "https" and not (scheme == "http" and is_loopback(url)):
        raise OIDCError("discovery", f"{name} is not an https URL")
    return url


# --- keys -----------------------------------------------------------------------------

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@lru_cache(maxsize=4)
def load_private_key(value: str) -> PrivateKey:
    """The client's private key from PEM text, or from the path of a PEM file."""
    text = value.strip()
    if not text:
        raise OIDCError("config", "no private key configured")
    if not text.startswith("-----BEGIN"):
        try:
            text = Path(text).read_text()
        except OSError as exc:
            raise OIDCError("config", "the private key file cannot be read") from exc
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise OIDCError("config", "the private key is not an unencrypted PEM key") from exc
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise OIDCError("config", "RSA keys must have at least 2048 bits")
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise OIDCError("config", "the private key must be RSA (RS256) or EC P-256 (ES256)")


def key_algorithm(key: PrivateKey) -> str:
    return "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"


def public_jwk(key: PrivateKey, kid: str) -> dict[str, Any]:
    """The public half of ``key`` as a JWK (RFC 7517) for registration with the provider."""
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True)
    jwk.update({"use": "sig", "alg": key_algorithm(key)})
    if kid:
        jwk["kid"] = kid
    return dict(jwk)


def public_jwks(private_key: str, kid: str) -> dict[str, Any]:
    """A JWK Set with the client's one public key (never any private parameter)."""
    return {"keys": [public_jwk(load_private_key(private_key), kid)]}


# --- caches ---------------------------------------------------------------------------

_cache: dict[str, tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def clear_caches() -> None:
    """Forget discovery metadata and JWKS (after a provider changes keys, and in tests)."""
    with _cache_lock:
        _cache.clear()


def _cached(key: str, load: Callable[[], Any], *, refresh: bool = False) -> Any:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] > now and not refresh:
        return hit[1]
    value = load()
    with _cache_lock:
        _cache[key] = (now + CACHE_SECONDS, value)
    return value


# --- data -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of the discovery document (OpenID Connect Discovery §3) we use."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str = ""
    token_endpoint_auth_methods: tuple[str, ...] = ()
    iss_parameter_supported: bool = False

    @classmethod
    def parse(cls, document: Mapping[str, Any], issuer: str) -> ProviderMetadata:
        if document.get("issuer") != issuer:
            raise OIDCError("discovery", "the metadata names another issuer")
        userinfo = document.get("userinfo_endpoint") or ""
        methods = document.get("token_endpoint_auth_methods_supported") or []
        return cls(
            issuer=issuer,
            authorization_endpoint=check_endpoint(
                document.get("authorization_endpoint"), "authorization_endpoint"
            ),
            token_endpoint=check_endpoint(document.get("token_endpoint"), "token_endpoint"),
            jwks_uri=check_endpoint(document.get("jwks_uri"), "jwks_uri"),
            userinfo_endpoint=check_endpoint(userinfo, "userinfo_endpoint") if userinfo else "",
            token_endpoint_auth_methods=tuple(str(m) for m in methods),
            iss_parameter_supported=document.get("authorization_response_iss_parameter_supported")
            is True,
        )


@dataclass(frozen=True)
class ClientSettings:
    """How this relying party is registered with the provider."""

    issuer: str
    client_id: str
    private_key: str
    key_id: str
    redirect_uri: str
    scopes: str = "openid"
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if not (self.issuer and self.client_id and self.private_key):
            raise OIDCError("config", "issuer, client ID and private key must all be set")
        if "openid" not in self.scopes.split():
            raise OIDCError("config", "the scopes must include openid")


@dataclass(frozen=True)
class Tokens:
    """A successful token response (RFC 6749 §5.1 + OpenID Connect Core §3.1.3.3)."""

    access_token: str
    id_token: str
    token_type: str


@dataclass(frozen=True)
class VerifiedLogin:
    """What a completed flow proved: who (issuer, subject), how (acr), and the claims asked for."""

    issuer: str
    subject: str
    acr: str
    auth_time: int | None
    claims: dict[str, Any] = field(default_factory=dict)


# --- ID token validation (pure) -------------------------------------------------------


def _select_key(jwks: Mapping[str, Any], kid: str | None, alg: str) -> jwt.PyJWK | None:
    kty = "RSA" if alg == "RS256" else "EC"
    candidates = []
    for entry in jwks.get("keys", []):
        if not isinstance(entry, dict) or entry.get("kty") != kty:
            continue
        if entry.get("use") not in (None, "sig"):
            continue
        if entry.get("alg") not in (None, alg):
            continue
        if kid is not None and entry.get("kid") != kid:
            continue
        candidates.append(entry)
    if len(candidates) != 1 and kid is None:
        return None  # several keys and no kid: ambiguous (Core §10.1.1)
    if not candidates:
        return None
    try:
        return jwt.PyJWK(candidates[0], algorithm=alg)
    except jwt.PyJWTError:
        return None


def validate_id_token(
    token: str,
    *,
    jwks: Mapping[str, Any],
    issuer: str,
    client_id: str,
    nonce: str,
    access_token: str = "",
    now: float | None = None,
    leeway: int = LEEWAY_SECONDS,
    max_age: int = MAX_ID_TOKEN_AGE,
) -> dict[str, Any]:
    """Validate an ID token as OpenID Connect Core §3.1.3.7 says; return its claims.

    Raises :class:`OIDCError` (code ``id_token``) on the first rule broken, and
    ``LookupError`` when no key in ``jwks`` fits (so the caller can refetch the JWKS once).
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise OIDCError("id_token", "not a JWS") from exc
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise OIDCError("id_token", f"algorithm {alg!r} not accepted")
    key = _select_key(jwks, header.get("kid"), alg)
    if key is None:
        raise LookupError("no key in the provider's JWKS matches the ID token")
    now = time.time() if now is None else now
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            audience=client_id,
            issuer=issuer,
            leeway=leeway,
            options={
                "require": ["iss", "sub", "aud", "exp", "iat"],
                "verify_exp": False,  # checked below against ``now``
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidAudienceError as exc:
        raise OIDCError("id_token", "the ID token is for another client") from exc
    except jwt.InvalidIssuerError as exc:
        raise OIDCError("id_token", "the ID token comes from another issuer") from exc
    except jwt.PyJWTError as exc:
        raise OIDCError("id_token", f"the ID token is not valid: {type(exc).__name__}") from exc
    if claims["iss"] != issuer:
        raise OIDCError("id_token", "the ID token comes from another issuer")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if client_id not in audiences:
        raise OIDCError("id_token", "the ID token is for another client")
    azp = claims.get("azp")
    if (len(audiences) > 1 and azp is None) or (azp is not None and azp != client_id):
        raise OIDCError("id_token", "the ID token's authorized party is another client")
    try:
        exp, iat = float(claims["exp"]), float(claims["iat"])
    except (TypeError, ValueError) as exc:
        raise OIDCError("id_token", "exp or iat is not a number") from exc
    if exp <= now - leeway:
        raise OIDCError("id_token", "the ID token has expired")
    if iat > now + leeway:
        raise OIDCError("id_token", "the ID token is issued in the future")
    if iat < now - max_age - leeway:
        raise OIDCError("id_token", "the ID token is too old")
    token_nonce = claims.get("nonce")
    if not isinstance(token_nonce, str) or not hmac.compare_digest(
        token_nonce.encode(), nonce.encode()
    ):
        raise OIDCError("id_token", "the nonce does not match")
    if not isinstance(claims["sub"], str) or not claims["sub"] or len(claims["sub"]) > 255:
        raise OIDCError("id_token", "the subject is missing or too long")
    at_hash = claims.get("at_hash")
    if (
        at_hash is not None
        and access_token
        and not hmac.compare_digest(str(at_hash), token_hash(access_token, alg))
    ):
        raise OIDCError("id_token", "at_hash does not match the access token")
    return claims


# --- the client -----------------------------------------------------------------------


class Client:
    """The relying party: builds the authorization request and checks what comes back."""

    def __init__(self, config: ClientSettings) -> None:
        self.config = config

    # HTTP ---------------------------------------------------------------------------

    def _json(self, response: requests.Response, step: str) -> dict[str, Any]:
        body = response.content[:MAX_RESPONSE_BYTES]
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise OIDCError(step, f"the {step} response is not JSON") from exc
        if not isinstance(data, dict):
            raise OIDCError(step, f"the {step} response is not a JSON object")
        return data

    def _get(self, url: str, step: str, headers: dict[str, str] | None = None) -> requests.Response:
        try:
            return requests.get(
                url,
                headers={"Accept": "application/json", **(headers or {})},
                timeout=self.config.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise OIDCError("network", f"{step}: {type(exc).__name__}") from exc

    # discovery ----------------------------------------------------------------------

    def metadata(self, *, refresh: bool = False) -> ProviderMetadata:
        """OpenID Connect Discovery §4, cached for :data:`CACHE_SECONDS`."""
        issuer = self.config.issuer
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        check_endpoint(url, "issuer")

        def load() -> ProviderMetadata:
            response = self._get(url, "discovery")
            if response.status_code != 200:
                raise OIDCError("discovery", f"discovery answered HTTP {response.status_code}")
            metadata = ProviderMetadata.parse(self._json(response, "discovery"), issuer)
            methods = metadata.token_endpoint_auth_methods
            if methods and "private_key_jwt" not in methods:
                log.warning("the provider does not list private_key_jwt among its auth methods")
            return metadata

        result: ProviderMetadata = _cached(f"discovery:{issuer}", load, refresh=refresh)
        return result

    def jwks(self, *, refresh: bool = False) -> dict[str, Any]:
        """The provider's signing keys (RFC 7517 JWK Set), cached."""
        uri = self.metadata().jwks_uri

        def load() -> dict[str, Any]:
            response = self._get(uri, "jwks")
            if response.status_code != 200:
                raise OIDCError("discovery", f"the JWKS answered HTTP {response.status_code}")
            data = self._json(response, "discovery")
            if not isinstance(data.get("keys"), list):
                raise OIDCError("discovery", "the JWKS has no keys")
            return data

        result: dict[str, Any] = _cached(f"jwks:{uri}", load, refresh=refresh)
        return result

    # authorization request ----------------------------------------------------------

    def authorization_url(
        self, *, state: str, nonce: str, code_challenge: str, extra: Mapping[str, str] | None = None
    ) -> str:
        """OpenID Connect Core §3.1.2.1 authentication request with PKCE (RFC 7636 §4.3)."""
        params = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_uri,
            "scope": self.config.scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            **(extra or {}),
        }
        endpoint = self.metadata().authorization_endpoint
        separator = "&" if urlsplit(endpoint).query else "?"
        return endpoint + separator + urlencode(params)

    def check_response_issuer(self, iss: str | None) -> None:
        """RFC 9207 §2.4: an ``iss`` in the authorization response must be our issuer."""
        if iss is None:
            if self.metadata().iss_parameter_supported:
                raise OIDCError("token", "the authorization response lacks iss")
            return
        if iss != self.config.issuer:
            raise OIDCError("token", "the authorization response comes from another issuer")

    # token endpoint -----------------------------------------------------------------

    def client_assertion(self, audience: str, *, now: float | None = None) -> str:
        """RFC 7523 §3 client assertion for ``private_key_jwt`` (OpenID Connect Core §9)."""
        key = load_private_key(self.config.private_key)
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": self.config.client_id,
            "sub": self.config.client_id,
            "aud": audience,
            "jti": str(uuid.uuid4()),
            "iat": issued,
            "exp": issued + ASSERTION_SECONDS,
        }
        headers = {"kid": self.config.key_id} if self.config.key_id else None
        return jwt.encode(claims, key, algorithm=key_algorithm(key), headers=headers)

    def exchange_code(self, code: str, code_verifier: str) -> Tokens:
        """RFC 6749 §4.1.3 token request, authenticated by ``private_key_jwt``."""
        endpoint = self.metadata().token_endpoint
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_uri,
            "code_verifier": code_verifier,
            "client_id": self.config.client_id,
            "client_assertion_type": JWT_BEARER,
            "client_assertion": self.client_assertion(endpoint),
        }
        try:
            response = requests.post(
                endpoint,
                data=data,
                headers={"Accept": "application/json"},
                timeout=self.config.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise OIDCError("network", f"token: {type(exc).__name__}") from exc
        body = self._json(response, "token")
        if response.status_code != 200:
            error = str(body.get("error", ""))[:64]
            raise OIDCError(
                "token",
                f"the token endpoint answered HTTP {response.status_code}",
                provider_error=error,
            )
        access_token, id_token = body.get("access_token"), body.get("id_token")
        token_type = str(body.get("token_type", ""))
        if not isinstance(id_token, str) or not id_token:
            raise OIDCError("token", "the token response has no id_token")
        if not isinstance(access_token, str) or token_type.lower() != "bearer":
            raise OIDCError("token", "the token response has no bearer access token")
        return Tokens(access_token=access_token, id_token=id_token, token_type=token_type)

    # ID token and UserInfo ----------------------------------------------------------

    def _verify_with_jwks(self, verify: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
        try:
            return verify(self.jwks())
        except LookupError:
            # The provider may have rotated its keys: fetch the JWKS once more.
            try:
                return verify(self.jwks(refresh=True))
            except LookupError as exc:
                raise OIDCError("id_token", str(exc)) from exc

    def validate_id_token(
        self, id_token: str, *, nonce: str, access_token: str = ""
    ) -> dict[str, Any]:
        """:func:`validate_id_token` with the provider's JWKS (refetched once on an unknown kid)."""
        return dict(
            self._verify_with_jwks(
                lambda jwks: validate_id_token(
                    id_token,
                    jwks=jwks,
                    issuer=self.config.issuer,
                    client_id=self.config.client_id,
                    nonce=nonce,
                    access_token=access_token,
                )
            )
        )

    def userinfo(self, access_token: str, *, subject: str) -> dict[str, Any]:
        """OpenID Connect Core §5.3: the UserInfo response, JSON or signed JWT (§5.3.2)."""
        endpoint = self.metadata().userinfo_endpoint
        if not endpoint:
            return {}
        response = self._get(endpoint, "userinfo", {"Authorization": f"Bearer {access_token}"})
        if response.status_code != 200:
            raise OIDCError("userinfo", f"UserInfo answered HTTP {response.status_code}")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type == "application/jwt":
            claims = self._signed_userinfo(response.text.strip())
        else:
            claims = self._json(response, "userinfo")
        if claims.get("sub") != subject:
            raise OIDCError("userinfo", "UserInfo is about another subject")
        return claims

    def _signed_userinfo(self, token: str) -> dict[str, Any]:
        def verify(jwks: dict[str, Any]) -> dict[str, Any]:
            try:
                header = jwt.get_unverified_header(token)
                alg = header.get("alg")
                if alg not in ALGORITHMS:
                    raise OIDCError("userinfo", f"algorithm {alg!r} not accepted")
                key = _select_key(jwks, header.get("kid"), alg)
                if key is None:
                    raise LookupError("no key in the provider's JWKS matches the UserInfo")
                claims = jwt.decode(
                    token,
                    key=key,
                    algorithms=[alg],
                    options={"verify_aud": False, "verify_iss": False},
                )
            except jwt.PyJWTError as exc:
                raise OIDCError("userinfo", "the signed UserInfo is not valid") from exc
            if "iss" in claims and claims["iss"] != self.config.issuer:
                raise OIDCError("userinfo", "the signed UserInfo comes from another issuer")
            aud = claims.get("aud")
            if aud is not None and self.config.client_id not in (
                aud if isinstance(aud, list) else [aud]
            ):
                raise OIDCError("userinfo", "the signed UserInfo is for another client")
            return claims

        result: dict[str, Any] = self._verify_with_jwks(verify)
        return result

    # the whole callback -------------------------------------------------------------

    def complete(
        self, *, code: str, code_verifier: str, nonce: str, wanted: Iterable[str]
    ) -> VerifiedLogin:
        """Exchange the code, validate the ID token, and read only the ``wanted`` claims.

        A wanted claim missing from the ID token is looked up in UserInfo. No other
        claim is copied into the result.
        """
        tokens = self.exchange_code(code, code_verifier)
        id_claims = self.validate_id_token(
            tokens.id_token, nonce=nonce, access_token=tokens.access_token
        )
        subject = str(id_claims["sub"])
        wanted = tuple(wanted)
        claims = {name: id_claims[name] for name in wanted if name in id_claims}
        missing = [name for name in wanted if name not in claims]
        if missing:
            info = self.userinfo(tokens.access_token, subject=subject)
            claims.update({name: info[name] for name in missing if name in info})
        acr = id_claims.get("acr")
        auth_time = id_claims.get("auth_time")
        return VerifiedLogin(
            issuer=self.config.issuer,
            subject=subject,
            acr=acr if isinstance(acr, str) else "",
            auth_time=int(auth_time) if isinstance(auth_time, int | float) else None,
            claims=claims,
        )
