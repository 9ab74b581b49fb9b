"""API tokens: keys that other systems (基幹系 connectors, RPA) use for the JSON API.

A token belongs to a staff *service account*: a staff :class:`~cityhall.people.models.User`
whose :class:`~cityhall.people.models.StaffAssignment` rows say which departments it
works in. The token carries no rights of its own, so it can never do more than its
account (and a deactivated account stops every token it has).

The plaintext ``ch_<prefix>_<secret>`` is returned once, by :func:`issue`; only the
SHA-256 of the secret is stored. :func:`authenticate` looks the hash up (a lookup by
hash does not leak, through timing, how much of a guess was right) and compares the
prefix in constant time. Issuing and revoking are written to the audit log; the
plaintext never is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from cityhall.core import audit
from cityhall.people import permissions
from cityhall.people.models import ApiToken, User

SCHEME = "ch"
PREFIX_LENGTH = 8
PREFIX_ALPHABET = string.ascii_lowercase + string.digits
SECRET_BYTES = 32
NAME_MAX = 100
#: ``last_used_at`` is written at most this often per token (not on every request).
TOUCH_SECONDS = 60
_TOKEN_RE = re.compile(r"^ch_([a-z0-9]{8})_([A-Za-z0-9_-]{20,128})$")


class TokenError(ValidationError):
    """The token cannot be issued as asked; the message is translated."""


@dataclass(frozen=True)
class Parsed:
    prefix: str
    secret: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse(plaintext: str) -> Parsed | None:
    """``ch_<prefix>_<secret>`` split in its parts, or None if it is not shaped like a token."""
    match = _TOKEN_RE.match((plaintext or "").strip())
    if match is None:
        return None
    return Parsed(prefix=match.group(1), secret=match.group(2))


def _may_manage(actor: User | None) -> bool:
    """Administrators issue and revoke tokens; ``None`` is the operator at the command line."""
    return actor is None or permissions.is_admin(actor)


def issue(
    actor: User | None,
    user: User,
    name: str,
    expires_at: dt.datetime | None = None,
    *,
    request: HttpRequest | None = None,
) -> tuple[ApiToken, str]:
    """A new token for the staff account ``user``; returns it with its plaintext (shown once).

    ``actor`` is the administrator who asks (``None``: the command line). Raises
    :class:`TokenError` for a resident or inactive account, an empty name or an expiry in
    the past, and :class:`PermissionDenied` when ``actor`` may not manage tokens.
    """
    if not _may_manage(actor):
        raise PermissionDenied
    name = " ".join((name or "").split())
    if not name:
        raise TokenError(_("Give the token a name that says which system uses it."), code="name")
    if len(name) > NAME_MAX:
        raise TokenError(
            _("Write at most %(max)s characters.") % {"max": NAME_MAX}, code="name_length"
        )
    if not user.is_staff or not user.is_active:
        raise TokenError(
            _("Tokens are only for active staff (service) accounts."), code="not_staff"
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise TokenError(_("The expiry must be in the future."), code="expired")
    prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    secret = secrets.token_urlsafe(SECRET_BYTES)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            key_hash=hash_secret(secret),
            created_by=actor,
            expires_at=expires_at,
        )
        audit.record(
            "api_token.issue",
            request=request,
            actor=actor,
            target=token,
            details={
                "user": user.pk,
                "name": name,
                "prefix": prefix,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return token, f"{SCHEME}_{prefix}_{secret}"


def authenticate(plaintext: str) -> User | None:
    """The staff account behind a valid token, or None.

    Refused: malformed, unknown, revoked or expired tokens, and tokens of accounts that
    are inactive or no longer staff. The account comes back with ``api_token`` set to
    the token used (for the audit log).
    """
    parsed = parse(plaintext)
    if parsed is None:
        return None
    token = (
        ApiToken.objects.select_related("user").filter(key_hash=hash_secret(parsed.secret)).first()
    )
    if token is None or not hmac.compare_digest(token.prefix, parsed.prefix):
        return None
    now = timezone.now()
    user = token.user
    if not token.is_usable(now) or not user.is_active or not user.is_staff:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= TOUCH_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    user.api_token = token  # type: ignore[attr-defined]
    return user


def revoke(actor: User | None, token: ApiToken, *, request: HttpRequest | None = None) -> bool:
    """Stop ``token`` working from now on; False if it already was revoked."""
    if not _may_manage(actor):
        raise PermissionDenied
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            token.revoked_at = locked.revoked_at
            return False
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        token.revoked_at = locked.revoked_at
        audit.record(
            "api_token.revoke",
            request=request,
            actor=actor,
            target=locked,
            details={"user": locked.user_id, "name": locked.name, "prefix": locked.prefix},
        )
    return True


def tokens(user: User | None = None) -> QuerySet[ApiToken]:
    """Every token (or ``user``'s), newest first, with its account."""
    qs = ApiToken.objects.select_related("user", "created_by")
    if user is not None:
        qs = qs.filter(user=user)
    return qs


def find(reference: str) -> ApiToken | None:
    """A token by its id or its prefix (as ``list`` shows it); None if unknown or ambiguous."""
    reference = (reference or "").strip()
    if reference.startswith(f"{SCHEME}_"):
        reference = reference[len(SCHEME) + 1 :].split("_", 1)[0]
    reference = reference.rstrip("…").rstrip(".")
    if reference.isdigit():
        return ApiToken.objects.filter(pk=int(reference)).first()
    found = list(ApiToken.objects.filter(prefix=reference)[:2])
    return found[0] if len(found) == 1 else None


def describe(token: ApiToken, now: dt.datetime | None = None) -> dict[str, Any]:
    """What a list shows of a token (never its hash)."""
    now = now or timezone.now()
    state = "active"
    if token.revoked_at is not None:
        state = "revoked"
    elif token.expires_at is not None and token.expires_at <= now:
        state = "expired"
    return {
        "id": token.pk,
        "prefix": token.prefix,
        "name": token.name,
        "user": token.user.email,
        "state": state,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
    }
