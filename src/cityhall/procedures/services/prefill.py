"""Prefill plug-ins: where a form's answers can come from before the resident types anything.

Like Open Formulieren's prefill registry, each plug-in declares the attributes it
can fill and the assurance the session needs before it may be used. A form field
names its sources (``"prefill": ["identity.name", "profile.name"]``); the first
source that has a value wins. ``previous`` is special: it fills a field from the
same key of the resident's latest earlier application.

Assurance levels, weakest first: ``none``, ``password``, ``oidc``, ``card``.
``counter`` is a session at the counter, where the clerk has seen the resident's
identity document; it counts as ``card``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cityhall.people.models import User, VerifiedIdentity
from cityhall.people.services import accounts
from cityhall.procedures.formspec import values
from cityhall.procedures.formspec.schema import Field, FieldType, FormSpec

RANK = {"none": 0, "password": 1, "oidc": 2, "card": 3, "counter": 3}


@dataclass(frozen=True)
class Context:
    """Who the form is being filled in for, and how sure we are of them."""

    user: User
    assurance: str
    exclude_application_id: int | None = None


@dataclass(frozen=True)
class Plugin:
    name: str
    label: str | Promise
    attributes: Mapping[str, str | Promise]
    assurance: str
    fetch: Callable[[Context], Mapping[str, Any]]

    def allowed(self, assurance: str) -> bool:
        return RANK.get(assurance, 0) >= RANK[self.assurance]


REGISTRY: dict[str, Plugin] = {}


def register(plugin: Plugin) -> Plugin:
    REGISTRY[plugin.name] = plugin
    return plugin


def sources() -> list[tuple[str, str]]:
    """Every ``plugin.attribute`` source with a description, for the form builder."""
    out: list[tuple[str, str]] = []
    for plugin in REGISTRY.values():
        out.extend(
            (f"{plugin.name}.{attr}", f"{plugin.label}: {label}")
            for attr, label in plugin.attributes.items()
        )
    out.append((PREVIOUS, str(_("Earlier application: the same question"))))
    return out


PREVIOUS = "previous"


@dataclass
class Result:
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # field key -> source used


def _previous_answers(ctx: Context) -> dict[str, Any]:
    from cityhall.procedures.models import Application, Status

    qs = Application.objects.filter(applicant=ctx.user).exclude(status=Status.DRAFT)
    if ctx.exclude_application_id:
        qs = qs.exclude(pk=ctx.exclude_application_id)
    merged: dict[str, Any] = {}
    # The latest answer to a question wins.
    for app in qs.order_by("-submitted_at", "-id").only("data")[:5]:
        for key, value in (app.data or {}).items():
            if not key.startswith("_"):
                merged.setdefault(key, value)
    return merged


def fill(spec: FormSpec, ctx: Context) -> Result:
    """Values for the fields of ``spec`` from the plug-ins this session may use."""
    result = Result()
    cache: dict[str, Mapping[str, Any]] = {}

    def source_values(name: str) -> Mapping[str, Any]:
        if name not in cache:
            if name == PREVIOUS:
                cache[name] = _previous_answers(ctx)
            else:
                plugin = REGISTRY.get(name)
                cache[name] = plugin.fetch(ctx) if plugin and plugin.allowed(ctx.assurance) else {}
        return cache[name]

    def one(f: Field) -> None:
        for source in f.prefill:
            if source == PREVIOUS:
                raw = source_values(PREVIOUS).get(f.key)
            else:
                plugin_name, _dot, attribute = source.partition(".")
                raw = source_values(plugin_name).get(attribute)
            value = values.coerce(f, raw)
            if value is not None:
                result.values[f.key] = value
                result.sources[f.key] = source
                return

    for f in spec.fields():
        if f.prefill and f.type != FieldType.GROUP:
            one(f)
    return result


# --- the first three plug-ins -----------------------------------------------------------


def _profile(ctx: Context) -> Mapping[str, Any]:
    user = ctx.user
    profile = accounts.profile_of(user)
    email = user.email if user.has_real_email else ""
    return {
        "email": email,
        "name": user.display_name,
        "phone": profile.phone,
        "postal_code": profile.postal_code,
        "address": profile.address,
        "district": profile.district.name if profile.district else "",
    }


def _identity(ctx: Context) -> Mapping[str, Any]:
    identity = VerifiedIdentity.objects.filter(user=ctx.user).first()
    if identity is None:
        return {}
    return {
        "name": identity.name,
        "address": identity.address,
        "birthdate": str(identity.birthdate or ""),
        "gender": identity.gender,
    }


register(
    Plugin(
        "profile",
        _("Profile"),
        {
            "email": _("e-mail address"),
            "name": _("name"),
            "phone": _("phone"),
            "postal_code": _("postal code"),
            "address": _("address"),
            "district": _("district"),
        },
        "password",
        _profile,
    )
)
register(
    Plugin(
        "identity",
        _("Verified identity (デジタル認証アプリ)"),
        {
            "name": _("name"),
            "address": _("address"),
            "birthdate": _("date of birth"),
            "gender": _("gender"),
        },
        "card",
        _identity,
    )
)
