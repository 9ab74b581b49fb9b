"""Residents proving who they are with the デジタル認証アプリ (OpenID Connect).

The use cases of the OIDC login and step-up, on top of the protocol client in
:mod:`cityhall.people.oidc`:

* :func:`start` puts a one-time flow (``state``, ``nonce``, PKCE verifier) in the
  session and returns the provider's authorization URL.
* :func:`finish` checks the callback, completes the flow and maps the verified
  subject to an account through :class:`~cityhall.people.models.OIDCLink` (the
  subject is stored only as ``crypto.blind_index(sub, "oidc-sub")``):
  a logged-in resident links it to their own account (step-up); a visitor whose
  subject is linked is logged in; a visitor whose subject is unknown keeps a
  pending verified login in the session, which :func:`complete_pending` links
  after they log in with e-mail (from the ``user_logged_in`` signal).
* :func:`decide` stores the verified 基本4情報 (name, address, birth date, gender)
  in :class:`~cityhall.people.models.VerifiedIdentity` only when the resident
  chooses to keep them.
* :func:`assurance` and :func:`requires_card` let other modules ask for a
  card-verified session.

Only the four identity claims are ever read; claim values appear neither in the
audit log nor in logs, and wait in the session encrypted. Staff accounts cannot
use this flow.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from cityhall.core import audit, crypto
from cityhall.people import oidc
from cityhall.people.models import OIDCLink, User, VerifiedIdentity

log = logging.getLogger(__name__)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
SUBJECT_PURPOSE = "oidc-sub"

#: The 基本4情報: the only claims read from the provider.
IDENTITY_CLAIMS = ("name", "address", "birthdate", "gender")

#: Assurance levels of a session, weakest first.
NONE = "none"
PASSWORD = "password"  # noqa: S105 (a level name, not a secret)
OIDC = "oidc"  # logged in through the provider, acr not among OIDC_VERIFIED_ACR
CARD = "card"  # verified with the My Number card

#: Seconds a started flow may take before the callback (authorization at the provider).
FLOW_SECONDS = 600
#: Seconds a verified login waits for the visitor to log in with e-mail, or to choose
#: whether to keep the 基本4情報.
PENDING_SECONDS = 1800
#: Flows kept at once per session (several tabs).
MAX_FLOWS = 5

FLOWS_KEY = "oidc_flows"
PENDING_KEY = "oidc_pending"
KEEP_KEY = "oidc_keep"
RESULT_KEY = "oidc_result"


class FlowError(Exception):
    """The flow stopped. ``reason`` picks the page shown; nothing was saved.

    Reasons: ``disabled``, ``config``, ``network``, ``provider``, ``state``,
    ``expired``, ``token``, ``staff``, ``inactive``, ``linked_elsewhere``,
    ``other_person``, ``not_card``, ``nothing_pending``.
    """

    STATUS = {
        "disabled": 404,
        "config": 503,
        "network": 502,
        "staff": 403,
        "inactive": 403,
        "linked_elsewhere": 409,
        "other_person": 409,
    }

    def __init__(self, reason: str, *, provider_error: str = "", detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.provider_error = provider_error
        self.detail = detail

    @property
    def status(self) -> int:
        return self.STATUS.get(self.reason, 400)


@dataclass(frozen=True)
class Outcome:
    """Where the browser goes after the callback, and who was logged in (if anyone)."""

    redirect_to: str
    logged_in: User | None = None


# --- configuration --------------------------------------------------------------------


def enabled() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID and settings.OIDC_PRIVATE_KEY)


def redirect_uri() -> str:
    return settings.SITE_URL + reverse("people:oidc_callback")


def client() -> oidc.Client:
    if not enabled():
        raise FlowError("disabled")
    try:
        return oidc.Client(
            oidc.ClientSettings(
                issuer=settings.OIDC_ISSUER,
                client_id=settings.OIDC_CLIENT_ID,
                private_key=settings.OIDC_PRIVATE_KEY,
                key_id=settings.OIDC_KEY_ID,
                redirect_uri=redirect_uri(),
                scopes=settings.OIDC_SCOPES,
                timeout=settings.OIDC_TIMEOUT,
            )
        )
    except oidc.OIDCError as exc:
        raise FlowError("config", detail=str(exc)) from exc


def client_jwks() -> dict[str, Any]:
    """The JWK Set of our public key, for operators to register with the provider."""
    if not settings.OIDC_PRIVATE_KEY:
        raise FlowError("disabled")
    try:
        return oidc.public_jwks(settings.OIDC_PRIVATE_KEY, settings.OIDC_KEY_ID)
    except oidc.OIDCError as exc:
        raise FlowError("config", detail=str(exc)) from exc


def subject_hash(subject: str) -> str:
    return crypto.blind_index(subject, SUBJECT_PURPOSE)


def card_verified(acr: str) -> bool:
    """Whether ``acr`` means the My Number card was used (see ``CITYHALL_OIDC_VERIFIED_ACR``)."""
    accepted = [value for value in settings.OIDC_VERIFIED_ACR if value]
    return acr in accepted if accepted else True


def local_path(target: str | None, fallback: str = "") -> str:
    """``target`` when it is a path on this site, else ``fallback`` (no open redirects)."""
    fallback = fallback or reverse(settings.LOGIN_REDIRECT_URL)
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(target, allowed_hosts=None)
    ):
        return target
    return fallback


# --- claims ---------------------------------------------------------------------------


def normalize_claims(raw: Mapping[str, Any]) -> dict[str, str]:
    """The 基本4情報 as plain strings; anything else in ``raw`` is ignored.

    ``address`` may be a string or an OpenID Connect Core §5.1.1 address object
    (``formatted``, or its parts joined); ``birthdate`` must be a full
    ``YYYY-MM-DD`` date (§5.1); values that do not fit are dropped.
    """
    claims: dict[str, str] = {}
    name = raw.get("name")
    if isinstance(name, str) and name.strip():
        claims["name"] = name.strip()[:200]
    address = raw.get("address")
    if isinstance(address, dict):
        formatted = address.get("formatted")
        if isinstance(formatted, str) and formatted.strip():
            address = formatted
        else:
            parts = ("postal_code", "region", "locality", "street_address")
            address = " ".join(
                str(address[p]).strip() for p in parts if isinstance(address.get(p), str)
            )
    if isinstance(address, str) and address.strip():
        claims["address"] = " ".join(address.split())[:500]
    birthdate = raw.get("birthdate")
    if isinstance(birthdate, str):
        try:
            claims["birthdate"] = dt.date.fromisoformat(birthdate.strip()[:10]).isoformat()
        except ValueError:
            log.info("OIDC birthdate claim is not a full date; ignored")
    gender = raw.get("gender")
    if isinstance(gender, str) and gender.strip():
        claims["gender"] = gender.strip()[:50]
    return claims


def wanted_claims() -> tuple[str, ...]:
    """The identity claims whose scope is asked for (the provider names scope = claim)."""
    scopes = settings.OIDC_SCOPES.split()
    return tuple(name for name in IDENTITY_CLAIMS if name in scopes)


def _seal(claims: Mapping[str, str]) -> str:
    return crypto.encrypt(json.dumps(dict(claims), ensure_ascii=False))


def _unseal(token: str) -> dict[str, str]:
    data = json.loads(crypto.decrypt(token))
    return {key: str(data[key]) for key in IDENTITY_CLAIMS if key in data}


# --- assurance ------------------------------------------------------------------------


def _set_assurance(request: HttpRequest, user: User, acr: str) -> str:
    level = CARD if card_verified(acr) else OIDC
    request.session["assurance"] = level
    request.session["assurance_at"] = timezone.now().isoformat()
    request.session["assurance_acr"] = acr
    request.session["assurance_user"] = user.pk
    return level


def assurance(request: HttpRequest, *, max_age: int | None = None) -> str:
    """How sure we are who is behind this session: ``none``, ``password``, ``oidc``, ``card``.

    ``card`` (and ``oidc``) hold only for the account that did the OIDC login, and,
    with ``max_age``, only for that many seconds after it.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return NONE
    session = request.session
    level = session.get("assurance")
    if level not in (CARD, OIDC) or session.get("assurance_user") != user.pk:
        return PASSWORD
    if max_age is not None:
        try:
            at = dt.datetime.fromisoformat(session.get("assurance_at", ""))
        except (TypeError, ValueError):
            return PASSWORD
        if (timezone.now() - at).total_seconds() > max_age:
            return PASSWORD
    return str(level)


View = TypeVar("View", bound=Callable[..., HttpResponse])


def step_up_url(next_url: str) -> str:
    return reverse("people:oidc_start") + "?" + urlencode({"next": next_url, "purpose": "card"})


def requires_card(view: View | None = None, *, max_age: int | None = None) -> Any:
    """Decorator: the view runs only in a card-verified session.

    Anyone else is sent through the OIDC flow (step-up) and comes back to the same
    address. Staff are refused. Use as ``@requires_card`` or ``@requires_card(max_age=900)``.
    """

    def decorator(func: View) -> View:
        @wraps(func)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.is_authenticated and request.user.is_staff:
                raise PermissionDenied("staff accounts cannot use the card login")
            if assurance(request, max_age=max_age) == CARD:
                return func(request, *args, **kwargs)
            return redirect(step_up_url(request.get_full_path()))

        return cast(View, wrapped)

    return decorator(view) if view is not None else decorator


# --- the flow -------------------------------------------------------------------------


def _current_user(request: HttpRequest) -> User | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return cast(User, user)
    return None


def _fail(request: HttpRequest, error: FlowError, stage: str) -> None:
    log.warning("OIDC %s failed: %s", stage, error)
    if error.reason == "disabled":
        return  # not configured: nothing happened worth an audit entry
    details = {"stage": stage, "reason": error.reason}
    if error.provider_error:
        details["provider_error"] = error.provider_error
    user = _current_user(request)
    audit.record(
        "resident.oidc_failed",
        request=request,
        subject=None if user is None or user.is_staff else user,
        details=details,
    )


def start(request: HttpRequest, next_url: str | None, *, purpose: str = "login") -> str:
    """Begin a flow; returns the provider's authorization URL to redirect the browser to."""
    try:
        user = _current_user(request)
        if user is not None and user.is_staff:
            raise FlowError("staff")
        rp = client()
        state, nonce = oidc.random_token(), oidc.random_token()
        verifier, challenge = oidc.pkce_pair()
        try:
            url = rp.authorization_url(state=state, nonce=nonce, code_challenge=challenge)
        except oidc.OIDCError as exc:
            raise FlowError(
                "network" if exc.code == "network" else "config", detail=str(exc)
            ) from exc
    except FlowError as exc:
        _fail(request, exc, "start")
        raise
    now = time.time()
    flows = {
        key: flow
        for key, flow in request.session.get(FLOWS_KEY, {}).items()
        if now - flow.get("created", 0) < FLOW_SECONDS
    }
    while len(flows) >= MAX_FLOWS:
        flows.pop(min(flows, key=lambda key: flows[key]["created"]))
    flows[state] = {
        "verifier": verifier,
        "nonce": nonce,
        "next": local_path(next_url),
        "purpose": "card" if purpose == "card" else "login",
        "created": now,
        "user": user.pk if user is not None else None,
    }
    request.session[FLOWS_KEY] = flows
    audit.record(
        "resident.oidc_start",
        request=request,
        subject=user,
        details={"purpose": flows[state]["purpose"]},
    )
    return url


def _take_flow(request: HttpRequest, state: str) -> dict[str, Any] | None:
    """Remove and return the flow for ``state``: each flow is completed at most once."""
    flows = request.session.get(FLOWS_KEY, {})
    flow = flows.pop(state, None) if state else None
    if flow is not None:
        request.session[FLOWS_KEY] = flows
    return cast("dict[str, Any] | None", flow)


def finish(request: HttpRequest, params: Mapping[str, str]) -> Outcome:
    """Handle the redirect back from the provider (the authorization response)."""
    try:
        return _finish(request, params)
    except FlowError as exc:
        _fail(request, exc, "callback")
        raise


def _finish(request: HttpRequest, params: Mapping[str, str]) -> Outcome:
    flow = _take_flow(request, params.get("state", ""))
    error = params.get("error")
    if error:
        # RFC 6749 §4.1.2.1: the provider refused or the resident cancelled.
        code = "".join(c for c in error if c.isascii() and (c.isalnum() or c == "_"))[:64]
        raise FlowError("provider", provider_error=code)
    if flow is None:
        raise FlowError("state", detail="unknown or already used state")
    if time.time() - flow["created"] > FLOW_SECONDS:
        raise FlowError("expired")
    user = _current_user(request)
    if flow["user"] != (user.pk if user is not None else None):
        raise FlowError("state", detail="the session changed hands during the flow")
    code = params.get("code", "")
    if not code:
        raise FlowError("token", detail="no code in the authorization response")
    rp = client()
    try:
        rp.check_response_issuer(params.get("iss"))
        verified = rp.complete(
            code=code, code_verifier=flow["verifier"], nonce=flow["nonce"], wanted=wanted_claims()
        )
    except oidc.OIDCError as exc:
        reason = {"network": "network", "config": "config"}.get(exc.code, "token")
        raise FlowError(reason, provider_error=exc.provider_error, detail=str(exc)) from exc
    if flow["purpose"] == "card" and not card_verified(verified.acr):
        raise FlowError("not_card")
    with transaction.atomic():
        if user is not None:
            return _step_up(request, user, verified, flow)
        return _log_in(request, verified, flow)


def _link_for(verified: oidc.VerifiedLogin) -> OIDCLink | None:
    return (
        OIDCLink.objects.select_for_update()
        .select_related("user")
        .filter(issuer=verified.issuer, subject_hash=subject_hash(verified.subject))
        .first()
    )


def _link(
    request: HttpRequest, user: User, issuer: str, hashed: str, link: OIDCLink | None
) -> OIDCLink:
    """Link (issuer, subject) to ``user``: never a subject of another account, never a second
    person for one account."""
    if user.is_staff:
        raise FlowError("staff")
    if link is not None:
        if link.user_id != user.pk:
            raise FlowError("linked_elsewhere")
        action = "resident.oidc_step_up"
    else:
        if OIDCLink.objects.filter(user=user, issuer=issuer).exists():
            raise FlowError("other_person")
        link = OIDCLink.objects.create(user=user, issuer=issuer, subject_hash=hashed)
        action = "resident.oidc_linked"
    link.last_login_at = timezone.now()
    link.save(update_fields=["last_login_at"])
    audit.record(
        action,
        request=request,
        actor=user,
        target=link,
        subject=user,
        details={"issuer": issuer},
    )
    return link


def _after_verified(
    request: HttpRequest, user: User, acr: str, claims: Mapping[str, str], next_url: str
) -> str:
    """Record the assurance; if there are claims, ask whether to keep them."""
    level = _set_assurance(request, user, acr)
    request.session.pop(PENDING_KEY, None)
    if claims:
        request.session[KEEP_KEY] = {
            "claims": _seal(claims),
            "issuer": settings.OIDC_ISSUER,
            "at": time.time(),
            "next": next_url,
            "user": user.pk,
            "level": level,
        }
        return reverse("people:oidc_keep")
    request.session.pop(KEEP_KEY, None)
    return next_url


def _step_up(
    request: HttpRequest, user: User, verified: oidc.VerifiedLogin, flow: Mapping[str, Any]
) -> Outcome:
    _link(request, user, verified.issuer, subject_hash(verified.subject), _link_for(verified))
    request.session.cycle_key()  # the session gains assurance: give it a new key
    claims = normalize_claims(verified.claims)
    return Outcome(_after_verified(request, user, verified.acr, claims, flow["next"]))


def _log_in(request: HttpRequest, verified: oidc.VerifiedLogin, flow: Mapping[str, Any]) -> Outcome:
    link = _link_for(verified)
    claims = normalize_claims(verified.claims)
    if link is None:
        request.session[PENDING_KEY] = {
            "issuer": verified.issuer,
            "subject_hash": subject_hash(verified.subject),
            "acr": verified.acr,
            "claims": _seal(claims),
            "at": time.time(),
            "next": flow["next"],
        }
        audit.record("resident.oidc_pending", request=request, details={"issuer": verified.issuer})
        return Outcome(reverse("people:oidc_connect"))
    user = link.user
    if user.is_staff:
        raise FlowError("staff")
    if not user.is_active:
        raise FlowError("inactive")
    # A pending login from an earlier visit must not be linked to this account.
    request.session.pop(PENDING_KEY, None)
    auth_login(request, user, backend=MODEL_BACKEND)
    link.last_login_at = timezone.now()
    link.save(update_fields=["last_login_at"])
    level = CARD if card_verified(verified.acr) else OIDC
    audit.record(
        "resident.oidc_login",
        request=request,
        actor=user,
        target=link,
        subject=user,
        details={"issuer": verified.issuer, "acr": verified.acr, "assurance": level},
    )
    return Outcome(
        _after_verified(request, user, verified.acr, claims, flow["next"]), logged_in=user
    )


# --- pending login (no account linked yet) --------------------------------------------


def pending(request: HttpRequest) -> dict[str, Any] | None:
    """The verified login waiting for the visitor to log in, if still fresh."""
    data = request.session.get(PENDING_KEY)
    if not data:
        return None
    if time.time() - data.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    return cast("dict[str, Any]", data)


def complete_pending(request: HttpRequest, user: User) -> str | None:
    """Link the pending verified login to ``user``, who just logged in with e-mail.

    Returns ``"linked"``, the reason it was refused, or ``None`` when nothing was pending.
    """
    data = pending(request)
    request.session.pop(PENDING_KEY, None)
    if data is None:
        return None
    try:
        with transaction.atomic():
            link = (
                OIDCLink.objects.select_for_update()
                .filter(issuer=data["issuer"], subject_hash=data["subject_hash"])
                .first()
            )
            _link(request, user, data["issuer"], data["subject_hash"], link)
            claims = _unseal(data["claims"]) if data.get("claims") else {}
            request.session[RESULT_KEY] = "linked"
            _after_verified(request, user, data.get("acr", ""), claims, data["next"])
            return "linked"
    except FlowError as exc:
        _fail(request, exc, "link")
        request.session[RESULT_KEY] = exc.reason
        return exc.reason


@receiver(user_logged_in, dispatch_uid="cityhall.people.identity.complete_pending")
def on_user_logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """After an e-mail login, a pending OIDC login completes its link."""
    session = getattr(request, "session", None)
    if request is None or session is None or PENDING_KEY not in session:
        return
    complete_pending(request, user)


def connect_result(request: HttpRequest) -> str | None:
    """What happened to the pending login at the last e-mail login (read once)."""
    return cast("str | None", request.session.pop(RESULT_KEY, None))


# --- keeping the 基本4情報 --------------------------------------------------------------


@dataclass(frozen=True)
class KeepOffer:
    """The verified claims the resident may keep, and whether earlier ones are stored."""

    claims: dict[str, str]
    has_earlier: bool
    next_url: str


def keep_offer(request: HttpRequest) -> KeepOffer | None:
    user = _current_user(request)
    data = request.session.get(KEEP_KEY)
    if user is None or not data or data.get("user") != user.pk:
        return None
    if time.time() - data.get("at", 0) > PENDING_SECONDS:
        request.session.pop(KEEP_KEY, None)
        return None
    return KeepOffer(
        claims=_unseal(data["claims"]),
        has_earlier=VerifiedIdentity.objects.filter(user=user).exists(),
        next_url=data["next"],
    )


KEEP = "keep"
DISCARD = "discard"
DISCARD_AND_DELETE = "delete"
CHOICES = (KEEP, DISCARD, DISCARD_AND_DELETE)


@transaction.atomic
def decide(request: HttpRequest, choice: str) -> str:
    """Keep the offered claims in :class:`VerifiedIdentity`, or not; returns where to go next.

    ``keep`` replaces any earlier record; ``discard`` stores nothing; ``delete`` stores
    nothing and deletes an earlier record.
    """
    if choice not in CHOICES:
        raise ValueError(f"unknown choice {choice!r}")
    offer = keep_offer(request)
    if offer is None:
        raise FlowError("nothing_pending")
    data = request.session.pop(KEEP_KEY)
    user = cast(User, request.user)
    fields = sorted(offer.claims)
    if choice == KEEP:
        # EncryptedDateField takes the ISO text and stores it encrypted.
        birthdate = offer.claims.get("birthdate") or None
        identity, _ = VerifiedIdentity.objects.update_or_create(
            user=user,
            defaults={
                "name": offer.claims.get("name", ""),
                "address": offer.claims.get("address", ""),
                "birthdate": birthdate,
                "gender": offer.claims.get("gender", ""),
                "verified_at": dt.datetime.fromtimestamp(data["at"], tz=dt.UTC),
                "issuer": str(data.get("issuer", ""))[:200],
            },
        )
        audit.record(
            "resident.identity_kept",
            request=request,
            actor=user,
            target=identity,
            subject=user,
            details={"fields": fields},
        )
    else:
        audit.record(
            "resident.identity_declined",
            request=request,
            actor=user,
            target=user,
            subject=user,
            details={"fields": fields},
        )
        if choice == DISCARD_AND_DELETE:
            deleted, _ = VerifiedIdentity.objects.filter(user=user).delete()
            if deleted:
                audit.record(
                    "resident.identity_deleted",
                    request=request,
                    actor=user,
                    target=user,
                    subject=user,
                )
    return offer.next_url
