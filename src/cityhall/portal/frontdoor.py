"""What the front door offers, by life event.

Each module adds its entries here; the home page shows the life events with the
services that exist today and the departments to contact for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class LifeEvent:
    slug: str
    title: str | Promise
    summary: str | Promise
    icon: str
    departments: tuple[str, ...]  # Department codes to contact
    interests: tuple[str, ...] = field(default_factory=tuple)


LIFE_EVENTS: tuple[LifeEvent, ...] = (
    LifeEvent(
        "moving",
        _("Moving"),
        _("Moving in, moving out or within the city."),
        "🏠",
        ("shimin-seikatsu", "zeimu", "jougesuido"),
        ("garbage", "tax"),
    ),
    LifeEvent(
        "birth",
        _("Having a baby"),
        _("Pregnancy, birth registration and child allowance."),
        "👶",
        ("kosodate-shien", "kenko-suishin", "shimin-seikatsu"),
        ("childcare", "health"),
    ),
    LifeEvent(
        "childcare",
        _("Raising children"),
        _("Nursery schools, medical costs and support."),
        "🧒",
        ("kosodate-shien", "hoiku-yochien"),
        ("childcare", "education"),
    ),
    LifeEvent(
        "school",
        _("Starting school"),
        _("Elementary and junior high school enrolment."),
        "🎒",
        ("gakko-kyoiku",),
        ("education",),
    ),
    LifeEvent(
        "care",
        _("Care for the elderly"),
        _("Long-term care insurance and support at home."),
        "🤝",
        ("kaigo-korei", "hoken-nenkin"),
        ("elderly", "health"),
    ),
    LifeEvent(
        "bereavement",
        _("When someone dies"),
        _("Procedures after a death (おくやみ)."),
        "🕊️",
        ("shimin-seikatsu", "hoken-nenkin", "zeimu"),
        (),
    ),
    LifeEvent(
        "from-abroad",
        _("Moving from abroad"),
        _("Residence, insurance and help in your language."),
        "🌏",
        ("shimin-seikatsu", "tabunka-kyosei"),
        ("multicultural",),
    ),
    LifeEvent(
        "disaster",
        _("Preparing for disasters"),
        _("Shelters, hazard maps and alerts."),
        "⛑️",
        ("bosai",),
        ("disaster",),
    ),
)


def by_slug(slug: str) -> LifeEvent | None:
    return next((event for event in LIFE_EVENTS if event.slug == slug), None)
