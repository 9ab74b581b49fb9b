"""Segments: who a message goes to, chosen by profile facets (see ``notices.models.Segment``).

A segment is a set of :class:`Filters` over what residents told the city in their
profile — district (住民自治協議会) or area (旧市町村), age band, children's ages, care in
the household, language, interests, channels, foreign residents. :func:`resolve` turns
filters into the user ids of active, non-staff residents with a profile whose **latest**
consent row for the purpose is a grant (a withdrawal after a grant excludes them).

Everything is decided in one SQL query, set-based, on SQLite and PostgreSQL alike:

- scalar facets are plain ``WHERE`` terms (ages become a ``birth_year`` range against
  today's year: 65–74 means ``birth_year`` in ``[Y-74, Y-65]``);
- the JSON list facets (interests, channels, children's birth years) use the engine's
  own JSON functions: ``json_each`` on SQLite, ``?|`` and ``jsonb_array_elements_text``
  on PostgreSQL (Django's ``contains`` does not work on SQLite lists);
- consent is a correlated subquery picking the latest row per (user, purpose) through
  the index ``(user, purpose, -created_at)``.

:func:`reachable` turns user ids into ``(user_id, channel, language)`` triples for the
channels each resident chose and actually linked (one query for the profiles, one per
link table). Saving and deleting segments are audited; so is showing staff a sample.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    TextField,
)
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from cityhall.core import audit
from cityhall.core.models import Area, District
from cityhall.notices.models import (
    PERSONAL,
    DeliveryPreferences,
    LineLink,
    PushSubscription,
    Segment,
)
from cityhall.people.models import Channel, Consent, Interest, ResidentProfile

__all__ = [
    "Filters",
    "SegmentError",
    "count",
    "delete_segment",
    "reachable",
    "resolve",
    "sample",
    "save_segment",
]

MAX_AGE = 120
MAX_CHILD_AGE = 30
#: Below this many ids, link tables are read for those ids only; above it, whole.
_SMALL = 2000
_CHANNEL_ORDER = {value: n for n, (value, _label) in enumerate(Channel.choices)}
_INTERESTS = {value for value, _label in Interest.choices}
_CHANNELS = {value for value, _label in Channel.choices}


class SegmentError(ValueError):
    """Bad filters or a bad segment: ``errors`` maps each field to its messages."""

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors: dict[str, list[str]] = {k: [str(m) for m in v] for k, v in errors.items()}
        super().__init__("; ".join(m for msgs in self.errors.values() for m in msgs))


# --- filters --------------------------------------------------------------------------


def _languages() -> dict[str, str]:
    return {code: str(name) for code, name in settings.LANGUAGES}


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value if str(v) != ""]


def _as_bool(value: Any, name: str, errors: dict[str, list[str]]) -> bool | None:
    if value is None or value == "" or value == "any":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"yes", "true", "1", "on"}:
        return True
    if text in {"no", "false", "0", "off"}:
        return False
    errors.setdefault(name, []).append(_("Choose yes, no or either."))
    return None


def _as_int(value: Any, name: str, top: int, errors: dict[str, list[str]]) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors.setdefault(name, []).append(_("Enter a whole number of years."))
        return None
    if not 0 <= number <= top:
        errors.setdefault(name, []).append(
            _("Enter an age between %(low)s and %(high)s.") % {"low": 0, "high": top}
        )
        return None
    return number


@dataclass
class Filters:
    """Facets of a segment; empty lists and ``None`` mean "any"."""

    districts: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    age_min: int | None = None
    age_max: int | None = None
    child_age_min: int | None = None
    child_age_max: int | None = None
    care: bool | None = None
    languages: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    foreign: bool | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Filters:
        """Filters from stored JSON or form values, checked; raises :class:`SegmentError`."""
        data = data or {}
        errors: dict[str, list[str]] = {}
        unknown = sorted(set(data) - {f for f in cls.__dataclass_fields__})
        if unknown:
            errors.setdefault("__all__", []).append(
                _("Unknown filter: %(names)s.") % {"names": ", ".join(unknown)}
            )
        districts = _as_list(data.get("districts"))
        areas = _as_list(data.get("areas"))
        if districts:
            known = set(District.objects.filter(code__in=districts).values_list("code", flat=True))
            missing = [c for c in districts if c not in known]
            if missing:
                errors.setdefault("districts", []).append(
                    _("Unknown district: %(codes)s.") % {"codes": ", ".join(missing)}
                )
        if areas:
            known = set(Area.objects.filter(code__in=areas).values_list("code", flat=True))
            missing = [c for c in areas if c not in known]
            if missing:
                errors.setdefault("areas", []).append(
                    _("Unknown area: %(codes)s.") % {"codes": ", ".join(missing)}
                )
        age_min = _as_int(data.get("age_min"), "age_min", MAX_AGE, errors)
        age_max = _as_int(data.get("age_max"), "age_max", MAX_AGE, errors)
        if age_min is not None and age_max is not None and age_min > age_max:
            errors.setdefault("age_max", []).append(
                _("The highest age must be the same as or more than the lowest age.")
            )
        child_min = _as_int(data.get("child_age_min"), "child_age_min", MAX_CHILD_AGE, errors)
        child_max = _as_int(data.get("child_age_max"), "child_age_max", MAX_CHILD_AGE, errors)
        if child_min is not None and child_max is not None and child_min > child_max:
            errors.setdefault("child_age_max", []).append(
                _("The highest child's age must be the same as or more than the lowest.")
            )
        care = _as_bool(data.get("care"), "care", errors)
        foreign = _as_bool(data.get("foreign"), "foreign", errors)
        languages = _as_list(data.get("languages"))
        bad = [c for c in languages if c not in _languages()]
        if bad:
            errors.setdefault("languages", []).append(
                _("Unknown language: %(codes)s.") % {"codes": ", ".join(bad)}
            )
        interests = _as_list(data.get("interests"))
        bad = [c for c in interests if c not in _INTERESTS]
        if bad:
            errors.setdefault("interests", []).append(
                _("Unknown interest: %(codes)s.") % {"codes": ", ".join(bad)}
            )
        channels = _as_list(data.get("channels"))
        bad = [c for c in channels if c not in _CHANNELS]
        if bad:
            errors.setdefault("channels", []).append(
                _("Unknown channel: %(codes)s.") % {"codes": ", ".join(bad)}
            )
        if errors:
            raise SegmentError(errors)
        return cls(
            districts=sorted(set(districts)),
            areas=sorted(set(areas)),
            age_min=age_min,
            age_max=age_max,
            child_age_min=child_min,
            child_age_max=child_max,
            care=care,
            languages=sorted(set(languages)),
            interests=sorted(set(interests)),
            channels=sorted(set(channels)),
            foreign=foreign,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON for ``Segment.filters`` / ``Message.filters``: only the facets that are set."""
        return {k: v for k, v in asdict(self).items() if v not in (None, [])}

    def is_empty(self) -> bool:
        return not self.to_dict()

    def describe(self) -> list[str]:
        """One human line per facet, in the active language."""
        lines: list[str] = []
        if self.areas:
            names = [a.localized_name() for a in Area.objects.filter(code__in=self.areas)]
            lines.append(_("Areas: %(names)s") % {"names": ", ".join(names)})
        if self.districts:
            names = [d.localized_name() for d in District.objects.filter(code__in=self.districts)]
            lines.append(_("Districts: %(names)s") % {"names": ", ".join(names)})
        if self.age_min is not None and self.age_max is not None:
            lines.append(
                _("Aged %(low)s to %(high)s") % {"low": self.age_min, "high": self.age_max}
            )
        elif self.age_min is not None:
            lines.append(_("Aged %(low)s or over") % {"low": self.age_min})
        elif self.age_max is not None:
            lines.append(_("Aged %(high)s or under") % {"high": self.age_max})
        if self.child_age_min is not None or self.child_age_max is not None:
            low = self.child_age_min if self.child_age_min is not None else 0
            if self.child_age_max is None:
                lines.append(_("With a child aged %(low)s or over") % {"low": low})
            else:
                lines.append(
                    _("With a child aged %(low)s to %(high)s")
                    % {"low": low, "high": self.child_age_max}
                )
        if self.care is not None:
            lines.append(_("Care in the household") if self.care else _("No care in the household"))
        if self.languages:
            language_names = _languages()
            lines.append(
                _("Language: %(names)s")
                % {"names": ", ".join(language_names.get(c, c) for c in self.languages)}
            )
        if self.interests:
            labels = dict(Interest.choices)
            lines.append(
                _("Interested in any of: %(names)s")
                % {"names": ", ".join(str(labels[c]) for c in self.interests)}
            )
        if self.channels:
            labels = dict(Channel.choices)
            lines.append(
                _("Chose any of the channels: %(names)s")
                % {"names": ", ".join(str(labels[c]) for c in self.channels)}
            )
        if self.foreign is not None:
            lines.append(_("Foreign residents") if self.foreign else _("Japanese residents"))
        return lines or [_("Every resident")]


def _filters(filters: Filters | Mapping[str, Any] | None) -> Filters:
    if isinstance(filters, Filters):
        return filters
    return Filters.from_dict(filters)


# --- SQL for JSON lists ---------------------------------------------------------------


class _JsonListTest(Func):
    """A boolean test on the elements of a JSON list column, in the engine's own SQL.

    SQLite: ``json_each``; PostgreSQL: jsonb operators. The column comes from the model
    (compiled by Django), the values travel as parameters.
    """

    output_field = BooleanField()

    def __init__(self, column: str) -> None:
        super().__init__(F(column))

    def sqlite(self, column: str) -> tuple[str, list[Any]]:
        raise NotImplementedError

    def postgresql(self, column: str) -> tuple[str, list[Any]]:
        raise NotImplementedError

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **kwargs: Any) -> Any:
        column, params = compiler.compile(self.get_source_expressions()[0])
        if params:  # a plain column compiles without parameters
            raise NotImplementedError("JSON list tests take a model column")
        if connection.vendor == "sqlite":
            return self.sqlite(column)
        if connection.vendor == "postgresql":
            return self.postgresql(column)
        raise NotImplementedError(f"JSON list filters are not written for {connection.vendor}")


class JsonListHasAny(_JsonListTest):
    """True when a JSON list column holds any of ``values`` (strings)."""

    def __init__(self, column: str, values: Iterable[str]) -> None:
        super().__init__(column)
        self.values = list(values)

    def sqlite(self, column: str) -> tuple[str, list[Any]]:
        marks = ", ".join(["%s"] * len(self.values))
        sql = f"EXISTS (SELECT 1 FROM json_each({column}) AS j WHERE j.value IN ({marks}))"  # noqa: S608
        return sql, list(self.values)

    def postgresql(self, column: str) -> tuple[str, list[Any]]:
        return f"({column} ?| %s::text[])", [self.values]


class JsonYearBetween(_JsonListTest):
    """True when a JSON list of years holds one within ``[low, high]`` (either may be None)."""

    def __init__(self, column: str, low: int | None, high: int | None) -> None:
        super().__init__(column)
        self.low, self.high = low, high

    def _bounds(self, value: str) -> tuple[str, list[Any]]:
        terms, params = [], []
        if self.low is not None:
            terms.append(f"{value} >= %s")
            params.append(self.low)
        if self.high is not None:
            terms.append(f"{value} <= %s")
            params.append(self.high)
        return " AND ".join(terms) or "1 = 1", params

    def sqlite(self, column: str) -> tuple[str, list[Any]]:
        where, bounds = self._bounds("CAST(j.value AS INTEGER)")
        sql = f"EXISTS (SELECT 1 FROM json_each({column}) AS j WHERE {where})"  # noqa: S608
        return sql, bounds

    def postgresql(self, column: str) -> tuple[str, list[Any]]:
        where, bounds = self._bounds("(j.value)::int")
        sql = (
            "EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE WHEN "  # noqa: S608
            f"jsonb_typeof({column}) = 'array' THEN {column} ELSE '[]'::jsonb END) "
            f"AS j(value) WHERE {where})"
        )
        return sql, bounds


def _sql_json() -> bool:
    return connection.vendor in {"sqlite", "postgresql"}


# --- resolving ------------------------------------------------------------------------


def consenting(purpose: str) -> QuerySet[Consent, Any]:
    """``user_id`` of everyone whose latest Consent row for ``purpose`` is a grant.

    Set-based: the granted rows with no later row for the same (user, purpose) — a
    newer ``created_at``, or the same one and a higher id, as
    :func:`cityhall.people.services.accounts.consents` orders them. The anti-join runs on
    the index ``(user, purpose, -created_at)``.
    """
    later = Consent.objects.filter(
        user_id=OuterRef("user_id"),
        purpose=OuterRef("purpose"),
        created_at__gte=OuterRef("created_at"),
    ).filter(Q(created_at__gt=OuterRef("created_at")) | Q(id__gt=OuterRef("id")))
    return (
        Consent.objects.filter(purpose=purpose, granted=True)
        .filter(~Exists(later))
        .order_by()
        .values("user_id")
    )


@dataclass
class _Python:
    """The JSON facets left to Python when the engine has no JSON list SQL here."""

    interests: list[str] = field(default_factory=list)
    topic: str | None = None
    channels: list[str] = field(default_factory=list)
    year_low: int | None = None
    year_high: int | None = None

    def wanted(self) -> bool:
        return bool(
            self.interests
            or self.topic
            or self.channels
            or self.year_low is not None
            or self.year_high is not None
        )

    def keep(self, interests: list[str], channels: list[str], years: list[Any]) -> bool:
        if self.interests and not set(self.interests) & set(interests or ()):
            return False
        if self.topic and self.topic not in (interests or ()):
            return False
        if self.channels and not set(self.channels) & set(channels or ()):
            return False
        if self.year_low is not None or self.year_high is not None:
            low = self.year_low if self.year_low is not None else -(10**9)
            high = self.year_high if self.year_high is not None else 10**9
            if not any(low <= int(y) <= high for y in years or ()):
                return False
        return True


def _queryset(
    filters: Filters, *, purpose: str | None, topic: str | None, today: dt.date | None
) -> tuple[QuerySet[ResidentProfile], _Python]:
    year = (today or timezone.localdate()).year
    qs = ResidentProfile.objects.filter(user__is_active=True, user__is_staff=False)
    rest = _Python()
    in_sql = _sql_json()
    if filters.districts or filters.areas:
        place = Q()
        if filters.districts:
            place |= Q(district__code__in=filters.districts)
        if filters.areas:
            place |= Q(district__area__code__in=filters.areas)
        qs = qs.filter(place)
    if filters.age_min is not None:
        qs = qs.filter(birth_year__lte=year - filters.age_min)
    if filters.age_max is not None:
        qs = qs.filter(birth_year__gte=year - filters.age_max)
    if filters.care is not None:
        qs = qs.filter(care_in_household=filters.care)
    if filters.foreign is not None:
        qs = qs.filter(nationality_foreign=filters.foreign)
    if filters.languages:
        qs = qs.filter(preferred_language__in=filters.languages)
    interest_topic = topic if topic in _INTERESTS else None
    year_low = year - filters.child_age_max if filters.child_age_max is not None else None
    year_high = year - filters.child_age_min if filters.child_age_min is not None else None
    if in_sql:
        if filters.interests:
            qs = qs.filter(JsonListHasAny("interests", filters.interests))
        if interest_topic:
            qs = qs.filter(JsonListHasAny("interests", [interest_topic]))
        if filters.channels:
            qs = qs.filter(JsonListHasAny("channels", filters.channels))
        if year_low is not None or year_high is not None:
            qs = qs.filter(JsonYearBetween("children_birth_years", year_low, year_high))
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported engines
        rest = _Python(filters.interests, interest_topic, filters.channels, year_low, year_high)
    if topic == PERSONAL:
        if in_sql:
            muted = DeliveryPreferences.objects.filter(user_id=OuterRef("user_id")).filter(
                JsonListHasAny("muted_topics", [PERSONAL])
            )
            qs = qs.filter(~Exists(muted))
        else:  # pragma: no cover
            muted_ids = [
                u
                for u, topics in DeliveryPreferences.objects.values_list("user_id", "muted_topics")
                if PERSONAL in (topics or ())
            ]
            qs = qs.exclude(user_id__in=muted_ids)
    if purpose is not None:
        qs = qs.filter(user_id__in=consenting(purpose))
    return qs, rest


def resolve(
    filters: Filters | Mapping[str, Any] | None,
    *,
    purpose: str | None = "notify",
    topic: str | None = None,
    today: dt.date | None = None,
) -> list[int]:
    """User ids (ascending) of the active, non-staff residents the filters select.

    ``purpose``: the consent whose latest row must be a grant (``None``: no consent check,
    for counts shown to staff). ``topic``: an interest topic must be among the resident's
    interests; ``personal`` must not be muted; ``emergency`` adds nothing (the caller
    passes ``purpose="emergency"``).
    """
    chosen = _filters(filters)
    qs, rest = _queryset(chosen, purpose=purpose, topic=topic, today=today)
    if not rest.wanted():
        return list(qs.order_by("user_id").values_list("user_id", flat=True))
    rows = qs.order_by("user_id").values_list(  # pragma: no cover - other engines
        "user_id", "interests", "channels", "children_birth_years"
    )
    return [u for u, i, c, y in rows.iterator(chunk_size=5000) if rest.keep(i, c, y)]


def count(
    filters: Filters | Mapping[str, Any] | None,
    *,
    purpose: str | None = "notify",
    topic: str | None = None,
    today: dt.date | None = None,
) -> int:
    """How many residents :func:`resolve` would give."""
    chosen = _filters(filters)
    qs, rest = _queryset(chosen, purpose=purpose, topic=topic, today=today)
    if not rest.wanted():
        return qs.count()
    return len(resolve(chosen, purpose=purpose, topic=topic, today=today))  # pragma: no cover


def _initials(name: str) -> str:
    parts = [p for p in name.replace("　", " ").split() if p]
    return " ".join(f"{p[0].upper()}." for p in parts[:3]) or "—"


def _age_band(birth_year: int | None, year: int) -> str:
    if birth_year is None:
        return _("Age not given")
    age = max(0, year - birth_year)
    low = age // 10 * 10
    return _("%(low)s–%(high)s") % {"low": low, "high": low + 9}


def sample(
    filters: Filters | Mapping[str, Any] | None,
    n: int = 5,
    *,
    purpose: str | None = "notify",
    topic: str | None = None,
    today: dt.date | None = None,
    actor: Any = None,
    request: Any = None,
    seed: int | str | None = None,
) -> list[dict[str, Any]]:
    """Up to ``n`` residents of the segment, masked: initials, age band, district, channels.

    Never an e-mail or an address. Showing it to staff is a read of personal data: pass
    ``actor`` or ``request`` and it is written to the audit log (``notices.segment_sample``).
    """
    chosen = _filters(filters)
    ids = resolve(chosen, purpose=purpose, topic=topic, today=today)
    picked = sorted(random.Random(seed).sample(ids, min(n, len(ids))))
    year = (today or timezone.localdate()).year
    labels = dict(Channel.choices)
    languages = _languages()
    profiles = {
        p.user_id: p
        for p in ResidentProfile.objects.filter(user_id__in=picked).select_related(
            "user", "district"
        )
    }
    rows: list[dict[str, Any]] = []
    for user_id in picked:
        profile = profiles[user_id]
        user = profile.user
        name = user.display_name or user.email.split("@")[0].replace(".", " ").replace("-", " ")
        rows.append(
            {
                "initials": _initials(name),
                "age_band": _age_band(profile.birth_year, year),
                "district": profile.district.localized_name() if profile.district else "—",
                "language": languages.get(profile.preferred_language, profile.preferred_language),
                "channels": [str(labels.get(c, c)) for c in profile.channels or ()],
            }
        )
    if actor is not None or request is not None:
        audit.record(
            "notices.segment_sample",
            request=request,
            actor=actor,
            details={"filters": chosen.to_dict(), "purpose": purpose, "users": picked},
        )
    return rows


# --- reaching residents ---------------------------------------------------------------


def _chunks(ids: Sequence[int], size: int = 5000) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _linked(model: Any, ids: list[int], extra: Q) -> set[int]:
    """Users among ``ids`` with a row in ``model`` (one query)."""
    qs = model.objects.filter(extra)
    if len(ids) <= _SMALL:
        qs = qs.filter(user_id__in=ids)
    wanted = set(ids)
    return {u for u in qs.values_list("user_id", flat=True).distinct() if u in wanted}


def reachable(
    user_ids: Iterable[int],
    *,
    channels: Iterable[str] | None = None,
    emergency: bool = False,
    include_placeholder_addresses: bool = False,
) -> list[tuple[int, str, str]]:
    """``(user_id, channel, language)`` for each channel a resident can be reached on.

    A channel counts when the resident chose it in ``profile.channels`` (for emergency
    alerts: every channel, chosen or not) and it is linked: e-mail = a real address (not
    ``*.invalid``, unless ``include_placeholder_addresses``), LINE = a link LINE has not
    reported blocked, push = at least one subscription, inbox = always. ``channels``
    narrows the result to those channels. Sorted by user id, then channel.
    """
    ids = sorted(set(user_ids))
    if not ids:
        return []
    allowed = set(channels) if channels is not None else set(_CHANNELS)
    order = [c for c in _CHANNEL_ORDER if c in allowed]
    # The channels list as its JSON text: decoding it here is several times cheaper than
    # the JSONField's per-row conversion, which dominated a large segment's time.
    qs = ResidentProfile.objects.annotate(chosen=Cast("channels", TextField())).order_by("user_id")
    if len(ids) <= _SMALL:
        qs = qs.filter(user_id__in=ids)
    wanted = set(ids)
    line = _linked(LineLink, ids, Q(blocked_at__isnull=True)) if Channel.LINE in allowed else set()
    push = _linked(PushSubscription, ids, Q()) if Channel.PUSH in allowed else set()
    everything = set(_CHANNELS)
    decode = json.JSONDecoder().decode
    result: list[tuple[int, str, str]] = []
    rows = qs.values_list("user_id", "chosen", "preferred_language", "user__email")
    for user_id, text, language, email in rows.iterator(chunk_size=10000):
        if user_id not in wanted:
            continue
        chosen = everything if emergency else decode(text) if text else ()
        if isinstance(chosen, str):  # a JSON text stored as a JSON string
            chosen = decode(chosen)
        language = language or "ja"
        for channel in order:
            if channel not in chosen:
                continue
            if channel == Channel.EMAIL:
                ok = bool(email) and (
                    include_placeholder_addresses or not email.endswith(".invalid")
                )
            elif channel == Channel.LINE:
                ok = user_id in line
            elif channel == Channel.PUSH:
                ok = user_id in push
            else:
                ok = True
            if ok:
                result.append((user_id, channel, language))
    return result


# --- saved segments -------------------------------------------------------------------


def save_segment(
    name: str,
    description: str,
    filters: Filters | Mapping[str, Any],
    *,
    actor: Any,
    request: Any = None,
    segment: Segment | None = None,
) -> Segment:
    """Create (or, with ``segment``, change) a saved segment; stores its current count
    (residents who agreed to messages) and writes the audit entry."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    description = (description or "").strip()
    try:
        chosen = _filters(filters)
    except SegmentError as exc:
        errors.update(exc.errors)
        chosen = Filters()
    if not name:
        errors.setdefault("name", []).append(_("Enter a name for the segment."))
    elif len(name) > 120:
        errors.setdefault("name", []).append(_("The name can be at most 120 characters."))
    elif Segment.objects.filter(name=name).exclude(id=segment.pk if segment else 0).exists():
        errors.setdefault("name", []).append(_("Another segment already has this name."))
    if len(description) > 400:
        errors.setdefault("description", []).append(
            _("The description can be at most 400 characters.")
        )
    if errors:
        raise SegmentError(errors)
    total = count(chosen, purpose="notify")
    now = timezone.now()
    with transaction.atomic():
        created = segment is None
        target = segment or Segment(created_by=actor if getattr(actor, "pk", None) else None)
        before = dict(target.filters) if not created else None
        target.name = name
        target.description = description
        target.filters = chosen.to_dict()
        target.last_count = total
        target.last_counted_at = now
        target.save()
        audit.record(
            "notices.segment_created" if created else "notices.segment_changed",
            request=request,
            actor=actor,
            target=target,
            details={
                "name": name,
                "filters": target.filters,
                "previous_filters": before,
                "count": total,
            },
        )
    return target


def delete_segment(segment: Segment, *, actor: Any, request: Any = None) -> None:
    """Remove a saved segment (messages already sent keep a copy of its filters)."""
    with transaction.atomic():
        audit.record(
            "notices.segment_deleted",
            request=request,
            actor=actor,
            target=segment,
            details={"name": segment.name, "filters": segment.filters},
        )
        segment.delete()
