"""django-oauth-toolkit's validator, extended for the test provider.

* Client authentication is ``private_key_jwt`` only (RFC 7523 §2.2, §3; OpenID
  Connect Core §9): a ``client_assertion`` of type
  ``urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` signed with the
  client's registered key, ``iss`` = ``sub`` = client_id, ``aud`` = the token
  endpoint, short ``exp``, and a ``jti`` never seen before. A client secret, HTTP
  Basic or a missing assertion are refused.
* The custom scopes ``name``, ``address``, ``birthdate``, ``gender`` release the
  test person's 基本4情報 from UserInfo only, the ID token carries ``acr``, and
  every response also carries an unrequested claim that the client must ignore.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urljoin

import jwt
from django.core.cache import cache
from django.urls import reverse
from oauth2_provider.oauth2_validators import OAuth2Validator

from tests.oidc_provider import settings

log = logging.getLogger("tests.oidc_provider")

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
IDENTITY_CLAIMS = ("name", "address", "birthdate", "gender")
MAX_ASSERTION_LIFETIME = 300


def _param(request: Any, name: str) -> str:
    value = request._params.get(name)
    return value if isinstance(value, str) else ""


class PrivateKeyJWTValidator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "name": "name",
        "address": "address",
        "birthdate": "birthdate",
        "gender": "gender",
        "acr": "openid",
        "x_unrequested": "openid",
    }

    # --- RFC 7523 client authentication ----------------------------------------

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        if self._extract_basic_auth(request) or _param(request, "client_secret"):
            log.warning("refused: client secret offered, private_key_jwt required")
            return False
        if _param(request, "client_assertion_type") != JWT_BEARER:
            log.warning("refused: no jwt-bearer client assertion")
            return False
        assertion = _param(request, "client_assertion")
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            log.warning("refused: client assertion is not a JWT")
            return False
        client_id = unverified.get("iss")
        if not isinstance(client_id, str) or (request.client_id and request.client_id != client_id):
            log.warning("refused: assertion iss does not name the client")
            return False
        registered = settings.CONFIG["clients"].get(client_id)
        if registered is None or self._load_application(client_id, request) is None:
            log.warning("refused: unknown client")
            return False
        alg = header.get("alg")
        if alg not in ("RS256", "ES256"):
            log.warning("refused: assertion algorithm %r", alg)
            return False
        keys = [
            k
            for k in registered["jwks"]["keys"]
            if k.get("kid") == header.get("kid") and k.get("alg", alg) == alg
        ]
        if len(keys) != 1:
            log.warning("refused: no registered key with kid %r", header.get("kid"))
            return False
        # RFC 7523 §3: the audience is the token endpoint's absolute URL.
        token_endpoint = urljoin(settings.ISSUER, reverse("oauth2_provider:token"))
        try:
            claims = jwt.decode(
                assertion,
                key=jwt.PyJWK(keys[0], algorithm=alg),
                algorithms=[alg],
                audience=token_endpoint,
                issuer=client_id,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
                leeway=5,
            )
        except jwt.PyJWTError as exc:
            log.warning("refused: client assertion invalid (%s)", type(exc).__name__)
            return False
        if claims["sub"] != client_id:
            log.warning("refused: assertion sub is not the client")
            return False
        if claims["exp"] - claims.get("iat", claims["exp"]) > MAX_ASSERTION_LIFETIME:
            log.warning("refused: assertion lives too long")
            return False
        if not cache.add(f"jti:{client_id}:{claims['jti']}", 1, timeout=MAX_ASSERTION_LIFETIME * 2):
            log.warning("refused: assertion jti replayed")
            return False
        request.client_id = client_id
        return True

    # --- claims -------------------------------------------------------------------

    def _person(self, request: Any) -> dict[str, Any]:
        person: dict[str, Any] = settings.CONFIG["people"][request.user.username]
        return person

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        person = self._person(request)
        return {
            "acr": person["acr"],
            **person["claims"],
            **settings.CONFIG.get("extra_claims", {}),
        }

    def get_id_token_dictionary(
        self, token: Any, token_handler: Any, request: Any
    ) -> tuple[dict[str, Any], Any]:
        """The 基本4情報 are given by UserInfo only, as a provider may do."""
        claims, expiration = super().get_id_token_dictionary(token, token_handler, request)
        for name in IDENTITY_CLAIMS:
            claims.pop(name, None)
        return claims, expiration
