"""Seed data for people: departments, demo accounts and a synthetic population.

- :func:`load_departments` upserts the 部 and 課 of ``data/departments.json`` by code.
- :func:`seed_demo_staff` and :func:`seed_demo_residents` create the fictional demo
  accounts of ``data/demo.json`` (public password, fixed TOTP secrets). Never in production.
- :func:`generate_population` builds a synthetic city with Iga's shape (age pyramid,
  households, districts, foreign residents and their languages) from a seed, in memory;
  :func:`seed_population` writes it with bulk inserts, replacing the previous synthetic set.
- :func:`run_seed` does all of it in one transaction and writes one audit event.

Synthetic people are fictional: ``synthetic=True`` on the profile, e-mail addresses under
``example.invalid`` (which can never be delivered), unusable passwords, no phone or address.
Where the figures come from: docs/adr/0004-seed-data.md.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connections, models, router, transaction
from django.db.models import QuerySet
from django.db.models.deletion import Collector, get_candidate_relations_to_delete
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityhall.core import audit
from cityhall.core.models import District
from cityhall.core.seed import Counts, district_shares, load_geography, upsert
from cityhall.people.models import (
    Consent,
    Department,
    ResidentProfile,
    Role,
    StaffAssignment,
    User,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
DEPARTMENTS_FILE = DATA_DIR / "departments.json"
DEMO_FILE = DATA_DIR / "demo.json"

DEFAULT_SEED = 2004  # the year Iga was formed; any integer gives another, repeatable city
SYNTHETIC_DOMAIN = "example.invalid"
SYNTHETIC_PREFIX = "synthetic-"
DEMO_DEVICE_NAME = "demo"


class SeedRefused(RuntimeError):
    """Demo accounts and synthetic people are never written to a production database."""


# --- departments -----------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


@transaction.atomic
def load_departments(path: Path | None = None) -> Counts:
    """Upsert every department by code: parents (部) first, then their 課."""
    items = _read(path or DEPARTMENTS_FILE)["departments"]
    counts = Counts()
    ids: dict[str, int] = dict(Department.objects.values_list("code", "id"))
    pending = list(items)
    while pending:
        ready = [item for item in pending if not item.get("parent") or item["parent"] in ids]
        if not ready:
            missing = sorted({item["parent"] for item in pending})
            raise ValueError(f"departments name unknown parents: {missing}")
        for item in ready:
            department, outcome = upsert(
                Department,
                {"code": item["code"]},
                {
                    "name": item["name"],
                    "kana": item.get("kana", ""),
                    "names": dict(item.get("names", {})),
                    "parent_id": ids[item["parent"]] if item.get("parent") else None,
                    "phone": item.get("phone", ""),
                    "email": item.get("email", ""),
                    "location": item.get("location", ""),
                    "duties": item.get("duties", ""),
                    "is_active": bool(item.get("is_active", True)),
                },
            )
            ids[department.code] = department.pk
            counts.add(outcome)
        pending = [item for item in pending if item not in ready]
    return counts


# --- demo accounts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoStaff:
    email: str
    display_name: str
    department: str
    role: str
    title: str
    totp_secret: str  # base32, as an authenticator app takes it
    superuser: bool = False

    @property
    def totp_key_hex(self) -> str:
        return binascii.hexlify(base64.b32decode(self.totp_secret)).decode()


@dataclass(frozen=True)
class DemoResident:
    email: str
    display_name: str
    note: str
    profile: dict[str, Any]
    consents: tuple[str, ...]


@dataclass(frozen=True)
class DemoData:
    password: str
    staff: tuple[DemoStaff, ...]
    residents: tuple[DemoResident, ...]

    def staff_by_email(self, email: str) -> DemoStaff | None:
        email = email.strip().lower()
        return next((s for s in self.staff if s.email == email), None)


@cache
def demo_data(path: Path = DEMO_FILE) -> DemoData:
    raw = _read(path)
    return DemoData(
        password=raw["password"],
        staff=tuple(DemoStaff(**item) for item in raw["staff"]),
        residents=tuple(
            DemoResident(
                email=item["email"],
                display_name=item.get("display_name", ""),
                note=item.get("note", ""),
                profile=dict(item.get("profile", {})),
                consents=tuple(item.get("consents", ())),
            )
            for item in raw["residents"]
        ),
    )


def _refuse_in_production(what: str) -> None:
    if settings.PRODUCTION:
        raise SeedRefused(f"{what} are never created when CITYHALL_ENV=production")


class _DemoPassword:
    """The demo password hashed once per run: hashing is deliberately slow."""

    def __init__(self, password: str) -> None:
        self.password = password
        self._hash: str | None = None

    @property
    def hash(self) -> str:
        if self._hash is None:
            self._hash = make_password(self.password)
        return self._hash


def _upsert_account(
    email: str, password: _DemoPassword, values: dict[str, Any], now: dt.datetime
) -> tuple[User, bool, bool]:
    """(user, created, updated) for a demo account; an existing password is left alone."""
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create(
            email=email, password=password.hash, email_verified_at=now, **values
        )
        return user, True, False
    changed = {name: value for name, value in values.items() if getattr(user, name) != value}
    if user.email_verified_at is None:
        changed["email_verified_at"] = now
    for name, value in changed.items():
        setattr(user, name, value)
    if changed:
        user.save(update_fields=list(changed))
    return user, False, bool(changed)


@transaction.atomic
def seed_demo_staff(data: DemoData | None = None) -> Counts:
    """Demo staff with their role, department and a confirmed TOTP device (fixed secret)."""
    _refuse_in_production("demo staff accounts")
    data = data or demo_data()
    password = _DemoPassword(data.password)
    now = timezone.now()
    departments = dict(Department.objects.values_list("code", "id"))
    counts = Counts()
    for member in data.staff:
        if member.department not in departments:
            raise ValueError(f"demo staff {member.email}: unknown department {member.department}")
        if member.role not in Role.values:
            raise ValueError(f"demo staff {member.email}: unknown role {member.role}")
        user, created, updated = _upsert_account(
            member.email,
            password,
            {
                "display_name": member.display_name,
                "is_staff": True,
                "is_superuser": member.superuser,
                "is_active": True,
            },
            now,
        )
        _, assignment = upsert(
            StaffAssignment,
            {"user_id": user.pk, "department_id": departments[member.department]},
            {"role": member.role, "title": member.title},
        )
        _, device = upsert(
            TOTPDevice,
            {"user_id": user.pk, "name": DEMO_DEVICE_NAME},
            {"key": member.totp_key_hex, "confirmed": True},
        )
        if created:
            counts.add("created")
        elif updated or assignment != "unchanged" or device != "unchanged":
            counts.add("updated")
        else:
            counts.add("unchanged")
    return counts


_PROFILE_DEFAULTS: dict[str, Any] = {
    "birth_year": None,
    "children_birth_years": [],
    "care_in_household": False,
    "household_size": None,
    "preferred_language": "ja",
    "interests": [],
    "channels": [],
    "phone": "",
    "postal_code": "",
    "address": "",
    "furigana": False,
    "large_text": False,
}


@transaction.atomic
def seed_demo_residents(data: DemoData | None = None) -> Counts:
    """Demo residents with verified e-mail, a filled profile and their consents."""
    _refuse_in_production("demo resident accounts")
    data = data or demo_data()
    password = _DemoPassword(data.password)
    now = timezone.now()
    districts = dict(District.objects.values_list("code", "id"))
    counts = Counts()
    for person in data.residents:
        user, created, updated = _upsert_account(
            person.email,
            password,
            {"display_name": person.display_name, "is_staff": False, "is_active": True},
            now,
        )
        values = {**_PROFILE_DEFAULTS, **person.profile}
        district_code = values.pop("district", None)
        values["district_id"] = districts.get(district_code) if district_code else None
        values["synthetic"] = False
        _, profile = upsert(ResidentProfile, {"user_id": user.pk}, values)
        consents = 0
        if person.consents and not Consent.objects.filter(user=user).exists():
            Consent.objects.bulk_create(
                Consent(user=user, purpose=purpose, granted=True, created_at=now)
                for purpose in person.consents
            )
            consents = len(person.consents)
        if created:
            counts.add("created")
        elif updated or profile != "unchanged" or consents:
            counts.add("updated")
        else:
            counts.add("unchanged")
    return counts


def is_demo_staff(user: User) -> bool:
    """True for a seeded demo staff account whose TOTP secret is still the public demo one."""
    member = demo_data().staff_by_email(user.email)
    if member is None:
        return False
    return TOTPDevice.objects.filter(
        user=user, name=DEMO_DEVICE_NAME, key=member.totp_key_hex, confirmed=True
    ).exists()


# --- synthetic population: the shape of Iga --------------------------------------------------

# Share of the whole population by age band (inclusive), per cent. Sums to 100:
# 0–14 10.5 %, 15–64 55.6 %, 65+ 33.9 % (Iga: 65+ about 33–35 %, 0–14 about 10–11 %).
AGE_BANDS: tuple[tuple[int, int, float], ...] = (
    (0, 4, 3.0),
    (5, 9, 3.5),
    (10, 14, 4.0),
    (15, 19, 4.4),
    (20, 24, 4.6),
    (25, 29, 4.8),
    (30, 34, 4.8),
    (35, 39, 5.2),
    (40, 44, 5.8),
    (45, 49, 6.8),
    (50, 54, 6.8),
    (55, 59, 6.2),
    (60, 64, 6.2),
    (65, 69, 6.6),
    (70, 74, 8.4),
    (75, 79, 7.0),
    (80, 84, 5.4),
    (85, 89, 3.8),
    (90, 94, 1.9),
    (95, 103, 0.8),
)
ADULT_AGE = 18  # adults have accounts; younger people appear as a household's children
FOREIGN_SHARE = 0.072  # about 6,000 of 83,335

# Foreign residents by nationality (May 2024): Brazil 1,958, Vietnam 1,559, Philippines 487,
# China 431, Peru 398, others about 1,170. Tagalog is not a UI language: Filipinos get English.
NATIONALITIES: tuple[tuple[str, int, str], ...] = (
    ("VN", 1559, "vi"),
    ("BR", 1958, "pt-br"),
    ("PE", 398, "es"),
    ("PH", 487, "en"),
    ("CN", 431, "zh-hans"),
    ("XX", 1167, ""),  # others: English, やさしい日本語 or Japanese, drawn per household
)
OTHER_LANGUAGES: tuple[tuple[str, float], ...] = (("en", 0.5), ("ja-easy", 0.3), ("ja", 0.2))

INTEREST_CHOICES: tuple[str, ...] = (
    "childcare",
    "education",
    "elderly",
    "health",
    "disaster",
    "garbage",
    "tax",
    "events",
    "jobs",
    "multicultural",
    "participation",
    "transport",
)
CHANNEL_CHOICES: tuple[str, ...] = ("email", "line", "push", "inbox")
CONSENT_RATES: tuple[tuple[str, float], ...] = (
    ("personalise", 0.75),
    ("notify", 0.65),
    ("emergency", 0.85),
    ("statistics", 0.55),
)


@dataclass(slots=True)
class Household:
    """One synthetic household: adults (accounts, head first) and children (ages 0–17)."""

    adults: list[int]
    children: list[int] = field(default_factory=list)
    district_id: int | None = None
    nationality: str = ""  # "" for Japanese, else the code in NATIONALITIES
    language: str = "ja"
    care: bool = False

    @property
    def size(self) -> int:
        return len(self.adults) + len(self.children)


@dataclass
class Population:
    """A generated population: its households and the numbers that describe its shape."""

    seed: int
    reference_year: int
    households: list[Household]

    @property
    def persons(self) -> int:
        return sum(h.size for h in self.households)

    @property
    def accounts(self) -> int:
        return sum(len(h.adults) for h in self.households)

    def shape(self) -> dict[str, Any]:
        persons = self.persons or 1
        ages = [a for h in self.households for a in (*h.adults, *h.children)]
        foreign = [h for h in self.households if h.nationality]
        languages: Counter[str] = Counter()
        for h in self.households:
            languages[h.language] += h.size
        sizes = Counter(h.size for h in self.households)
        return {
            "persons": self.persons,
            "accounts": self.accounts,
            "households": len(self.households),
            "share_65_plus": round(sum(a >= 65 for a in ages) / persons, 4),
            "share_0_14": round(sum(a < 15 for a in ages) / persons, 4),
            "share_foreign": round(sum(h.size for h in foreign) / persons, 4),
            "household_sizes": {str(k): sizes[k] for k in sorted(sizes)},
            "languages": dict(languages.most_common()),
            "households_with_care": sum(h.care for h in self.households),
        }


def _quotas(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), exactly."""
    weight_sum = sum(weights)
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    raw = [total * w / weight_sum for w in weights]
    base = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (base[i] - raw[i], i))
    for i in order[: total - sum(base)]:
        base[i] += 1
    return base


class _AgePool:
    """People not yet placed in a household, counted by age."""

    def __init__(self, ages: Sequence[int]) -> None:
        self.count: Counter[int] = Counter(ages)

    def remove(self, age: int) -> bool:
        if self.count[age] > 0:
            self.count[age] -= 1
            return True
        return False

    def take(self, target: int, low: int, high: int, spread: int = 6) -> int | None:
        """Take someone aged ``target`` or the nearest age within ``spread`` and [low, high]."""
        target = min(max(target, low), high)
        for distance in range(spread + 1):
            for age in (target,) if distance == 0 else (target - distance, target + distance):
                if low <= age <= high and self.remove(age):
                    return age
        return None


def _draw_ages(n: int, rng: random.Random) -> list[int]:
    ages: list[int] = []
    for (low, high, _), count in zip(
        AGE_BANDS, _quotas(n, [share for *_, share in AGE_BANDS]), strict=True
    ):
        ages.extend(rng.randint(low, high) for _ in range(count))
    rng.shuffle(ages)
    return ages


def _families(kids: list[int], pool: _AgePool, rng: random.Random) -> list[Household]:
    """Group children into siblings and give each group its parents (and sometimes more)."""
    kid_pool = _AgePool(kids)
    households: list[Household] = []
    for first in kids:
        if not kid_pool.remove(first):
            continue
        group = [first]
        for _ in range(rng.choices((0, 1, 2, 3), (0.42, 0.42, 0.14, 0.02))[0]):
            sibling = kid_pool.take(first + rng.choice((-5, -4, -3, -2, 2, 3, 4, 5)), 0, 17, 3)
            if sibling is None:
                break
            group.append(sibling)
        oldest, youngest = max(group), min(group)
        parent = pool.take(
            oldest + rng.randint(24, 36), max(ADULT_AGE, oldest + 18), min(youngest + 48, 75)
        )
        if parent is None:  # nobody of a parent's age is left: any adult will do
            parent = pool.take(oldest + 30, ADULT_AGE, 103, 90)
        if parent is None:
            break
        adults = [parent]
        if rng.random() < 0.87:
            partner = pool.take(
                parent + rng.randint(-3, 4), max(ADULT_AGE, oldest + 18), parent + 12
            )
            if partner is not None:
                adults.append(partner)
        if len(adults) + len(group) < 6 and rng.random() < 0.22:  # three generations
            grandparent = pool.take(parent + rng.randint(25, 33), 60, 103, 8)
            if grandparent is not None:
                adults.append(grandparent)
                if len(adults) + len(group) < 6 and rng.random() < 0.5:
                    other = pool.take(grandparent + rng.randint(-3, 3), 60, 103, 8)
                    if other is not None:
                        adults.append(other)
        if len(adults) + len(group) < 6 and parent >= 42 and rng.random() < 0.35:
            elder = pool.take(min(oldest + rng.randint(2, 5), parent - 20), ADULT_AGE, 24, 3)
            if elder is not None:
                adults.append(elder)
        households.append(Household(adults=adults, children=sorted(group, reverse=True)))
    return households


def _other_households(adults: list[int], pool: _AgePool, rng: random.Random) -> list[Household]:
    """Adults without children at home: singles, couples, elderly parents with adult children."""
    households: list[Household] = []
    order = list(adults)
    rng.shuffle(order)
    for age in order:
        if not pool.remove(age):
            continue
        members = [age]
        draw = rng.random()
        if age >= 65:
            if draw < 0.48:
                partner = pool.take(age + rng.randint(-4, 3), 60, 103, 5)
                if partner is not None:
                    members.append(partner)
                if rng.random() < 0.22:
                    child = pool.take(age - rng.randint(26, 34), 30, 70, 6)
                    if child is not None:
                        members.append(child)
            elif draw < 0.70:
                child = pool.take(age - rng.randint(26, 34), 30, 70, 6)
                if child is not None:
                    members.append(child)
                    if rng.random() < 0.35:
                        spouse = pool.take(child + rng.randint(-3, 3), 28, 70, 5)
                        if spouse is not None:
                            members.append(spouse)
        elif age < 30:
            if draw < 0.15:
                partner = pool.take(age + rng.randint(-2, 4), ADULT_AGE, 40, 5)
                if partner is not None:
                    members.append(partner)
            elif draw < 0.45:
                parent = pool.take(age + rng.randint(25, 32), 45, 75, 6)
                if parent is not None:
                    members.append(parent)
                    if rng.random() < 0.7:
                        other = pool.take(parent + rng.randint(-3, 3), 45, 78, 5)
                        if other is not None:
                            members.append(other)
        elif draw < 0.50:
            partner = pool.take(age + rng.randint(-4, 4), 25, 80, 6)
            if partner is not None:
                members.append(partner)
            if age >= 48 and rng.random() < 0.35:
                child = pool.take(age - rng.randint(24, 30), ADULT_AGE, 45, 5)
                if child is not None:
                    members.append(child)
        elif draw < 0.62 and age < 60:
            parent = pool.take(age + rng.randint(26, 32), 65, 103, 6)
            if parent is not None:
                members.append(parent)
        households.append(Household(adults=members))
    return households


def _assign_foreign(households: list[Household], n: int, rng: random.Random) -> None:
    """Make about 7 % of the persons foreign residents, household by household.

    Vietnamese residents are mostly young people living alone (technical interns);
    Brazilian and Peruvian residents mostly families; the others any working-age household.
    """
    candidates = [h for h in households if max(h.adults) < 65 and h.adults[0] <= 59 and h.size <= 5]
    rng.shuffle(candidates)
    targets = _quotas(round(n * FOREIGN_SHARE), [count for _, count, _ in NATIONALITIES])

    def preferred(code: str, household: Household) -> bool:
        if code == "VN":
            return household.size == 1 and household.adults[0] <= 34
        if code in {"BR", "PE"}:
            return bool(household.children)
        return True

    for (code, _, language), target in zip(NATIONALITIES, targets, strict=True):
        remaining = target
        for strict_pass in (True, False):
            for household in candidates:
                if remaining <= 0:
                    break
                if household.nationality or household.size > remaining + 1:
                    continue
                if strict_pass and not preferred(code, household):
                    continue
                household.nationality = code
                household.language = (
                    language
                    or rng.choices(
                        [lang for lang, _ in OTHER_LANGUAGES], [w for _, w in OTHER_LANGUAGES]
                    )[0]
                )
                remaining -= household.size


def _care_probability(household: Household) -> float:
    oldest = max(household.adults)
    if oldest >= 80:
        return 0.35
    if oldest >= 75:
        return 0.15
    if oldest >= 65:
        return 0.05
    return 0.02


def generate_population(
    n: int,
    *,
    seed: int = DEFAULT_SEED,
    districts: Sequence[tuple[int, float]] = (),
    reference_year: int | None = None,
) -> Population:
    """``n`` synthetic persons (children included) in households, deterministic for ``seed``.

    The age pyramid is exact (quotas per band); households are formed around it, districts
    are dealt to households in proportion to ``districts`` (id, share) pairs.
    """
    rng = random.Random(seed)
    year = reference_year or timezone.localdate().year
    ages = _draw_ages(n, rng)
    kids = [a for a in ages if a < ADULT_AGE]
    adults = [a for a in ages if a >= ADULT_AGE]
    pool = _AgePool(adults)
    households = _families(kids, pool, rng)
    households += _other_households(adults, pool, rng)
    rng.shuffle(households)

    if districts:
        counts = _quotas(len(households), [share for _, share in districts])
        dealt = [pk for (pk, _), count in zip(districts, counts, strict=True) for _ in range(count)]
        rng.shuffle(dealt)
        for household, district_id in zip(households, dealt, strict=True):
            household.district_id = district_id
    _assign_foreign(households, n, rng)
    for household in households:
        household.care = rng.random() < _care_probability(household)
    return Population(seed=seed, reference_year=year, households=households)


def _interests(age: int, household: Household, rng: random.Random) -> list[str]:
    rates = {
        "garbage": 0.45,
        "disaster": 0.35,
        "tax": 0.25,
        "events": 0.3,
        "transport": 0.2,
        "participation": 0.1,
        "health": 0.25,
    }
    if household.children:
        rates["childcare"] = 0.8 if min(household.children) < 7 else 0.4
        if max(household.children) >= 5:
            rates["education"] = 0.7
    if age >= 65 or household.care:
        rates["elderly"] = 0.7
        rates["health"] = 0.6
    if age < 65:
        rates["jobs"] = 0.25
    if household.nationality:
        rates["multicultural"] = 0.8
        rates["jobs"] = 0.5
    chosen = [name for name in INTEREST_CHOICES if rng.random() < rates.get(name, 0.0)]
    return chosen or ["garbage"]


def _channels(age: int, rng: random.Random) -> list[str]:
    if age < 40:
        rates = (0.7, 0.75, 0.25, 0.3)
    elif age < 65:
        rates = (0.75, 0.6, 0.15, 0.3)
    else:
        rates = (0.45, 0.35, 0.05, 0.4)
    chosen = [
        name for name, rate in zip(CHANNEL_CHOICES, rates, strict=True) if rng.random() < rate
    ]
    return chosen or ["inbox"]


@dataclass
class PopulationReport:
    seed: int
    requested: int
    removed: int
    accounts: int
    consents: int
    shape: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "requested": self.requested,
            "removed": self.removed,
            "accounts": self.accounts,
            "consents": self.consents,
            "shape": self.shape,
        }


def synthetic_users() -> QuerySet[User]:
    """Accounts of the synthetic population: their e-mail pattern and their profile flag."""
    return User.objects.filter(
        email__startswith=SYNTHETIC_PREFIX,
        email__endswith="@" + SYNTHETIC_DOMAIN,
        is_staff=False,
        profile__synthetic=True,
    )


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _relations_to_accounts() -> list[Any]:
    """Every foreign key to an account that a deletion has to follow (as the ORM sees them)."""
    return list(get_candidate_relations_to_delete(User._meta))  # type: ignore[arg-type]


def _fast_cascade_possible(using: str) -> bool:
    """True when every row pointing at an account can go with one statement per table."""
    if any(
        signal.has_listeners(User)
        for signal in (models.signals.pre_delete, models.signals.post_delete)
    ):
        return False
    for relation in _relations_to_accounts():
        model = relation.related_model
        if relation.on_delete is models.SET_NULL:
            continue
        if relation.on_delete is not models.CASCADE:
            return False
        if not Collector(using, origin=None).can_fast_delete(model._base_manager.none()):
            return False
    return True


@transaction.atomic
def remove_population(chunk: int = 5000) -> int:
    """Delete every synthetic account and what belongs to it; return how many accounts.

    When every relation to an account is a plain cascade (or SET NULL) with no signal
    handlers, each related table is cleared with one ``DELETE … WHERE user_id IN
    (subquery)``; otherwise the ORM collects and deletes accounts in chunks.
    """
    using = router.db_for_write(User)
    count = synthetic_users().count()
    if not count:
        return 0
    if not _fast_cascade_possible(using):
        ids = list(synthetic_users().order_by("id").values_list("id", flat=True))
        for part in _chunks(ids, chunk):
            User.objects.filter(id__in=part).delete()
        return count
    accounts = synthetic_users().values("pk")
    for relation in _relations_to_accounts():
        model = relation.related_model
        if model is ResidentProfile:
            continue  # the subquery needs the profiles: they go last
        rows = model._base_manager.filter(**{f"{relation.field.name}__in": accounts})
        if relation.on_delete is models.SET_NULL:
            rows.update(**{relation.field.name: None})
        else:
            rows.delete()  # one statement: nothing hangs on these rows (checked above)
    ids = list(synthetic_users().values_list("id", flat=True))
    ResidentProfile.objects.filter(synthetic=True, user_id__in=accounts).delete()
    for part in _chunks(ids, 900):
        User.objects.filter(id__in=part)._raw_delete(using)
    return count


def synthetic_email(number: int, width: int = 6) -> str:
    return f"{SYNTHETIC_PREFIX}{number:0{width}d}@{SYNTHETIC_DOMAIN}"


_REQUIRED = object()


# Fields whose database value is the Python value itself (str, int, bool or None), on
# SQLite and PostgreSQL alike. Exact types only: a subclass (an encrypted field) may not be.
_PLAIN_FIELDS: tuple[type[models.Field[Any, Any]], ...] = (
    models.CharField,
    models.EmailField,
    models.SlugField,
    models.TextField,
    models.BooleanField,
    models.SmallIntegerField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveIntegerField,
    models.ForeignKey,
    models.OneToOneField,
)


class _Inserter:
    """Plain multi-row INSERTs for one model, for seeding large numbers of rows.

    ``bulk_create`` compiles every value of every object through the SQL compiler. Here
    plain values go in as they are, other values (JSON, dates, encrypted text) are
    prepared by their field (``get_db_prep_save``, so they stay right on SQLite and
    PostgreSQL) once per distinct value, and the rows go through ``executemany``. Fields
    not given take their default; ``auto_now`` fields take ``now``. Like ``bulk_create``,
    no signals are sent.
    """

    def __init__(self, model: type[models.Model], now: dt.datetime, using: str) -> None:
        self.connection = connections[using]
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.pairs: list[tuple[str, Any]] = []
        self.required: list[int] = []
        self.converters: list[tuple[int, Callable[[Any], Any]]] = []
        for index, f in enumerate(fields):
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                default: Any = now
            elif f.has_default() or f.null or f.empty_strings_allowed:
                default = f.get_default()  # the default, None or ""
            else:
                default = _REQUIRED
                self.required.append(index)
            self.pairs.append((f.attname, default))
            if type(f) not in _PLAIN_FIELDS:
                self.converters.append((index, self._converter(f)))
        quote = self.connection.ops.quote_name
        table = quote(model._meta.db_table)
        columns = ", ".join(quote(str(f.column)) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        # Only quoted identifiers from the model's metadata go into the text; values are bound.
        self.sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
        self.copy_sql = f"COPY {table} ({columns}) FROM STDIN"
        self.model = model

    def _converter(self, f: models.Field[Any, Any]) -> Callable[[Any], Any]:
        known: dict[Any, Any] = {}
        connection = self.connection

        def convert(value: Any) -> Any:
            key = tuple(value) if isinstance(value, list) else value
            try:
                return known[key]
            except KeyError:
                return known.setdefault(key, f.get_db_prep_save(value, connection))
            except TypeError:  # unhashable: prepare it every time
                return f.get_db_prep_save(value, connection)

        return convert

    def row(self, values: dict[str, Any]) -> list[Any]:
        get = values.get
        out = [get(name, default) for name, default in self.pairs]
        for index in self.required:
            if out[index] is _REQUIRED:
                raise ValueError(f"{self.model.__name__}.{self.pairs[index][0]} needs a value")
        for index, convert in self.converters:
            out[index] = convert(out[index])
        return out

    def insert(self, rows: list[list[Any]]) -> None:
        """SQLite: one prepared statement run for every row. PostgreSQL: COPY."""
        if not rows:
            return
        with self.connection.cursor() as cursor:
            raw = getattr(cursor, "cursor", cursor)
            if self.connection.vendor == "postgresql" and hasattr(raw, "copy"):
                with raw.copy(self.copy_sql) as copy:  # psycopg 3
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(self.sql, rows)


@dataclass(slots=True)
class _Pending:
    email: str
    profile: dict[str, Any]
    purposes: list[str]


@transaction.atomic
def seed_population(
    n: int,
    *,
    seed: int = DEFAULT_SEED,
    reference_year: int | None = None,
    batch: int = 5000,
) -> PopulationReport:
    """Replace the synthetic population with ``n`` new persons (0 removes it).

    The result is a function of (n, seed, reference year) alone: running the same command
    twice gives the same people. Rows are written ``batch`` accounts at a time.
    """
    _refuse_in_production("synthetic residents")
    if n < 0:
        raise ValueError("the number of residents cannot be negative")
    using = router.db_for_write(User)
    removed = remove_population()
    population = generate_population(
        n, seed=seed, districts=district_shares(), reference_year=reference_year
    )
    rng = random.Random(f"{seed}:profiles")
    now = timezone.now()
    year = population.reference_year
    width = max(6, len(str(population.accounts)))  # same width: e-mail order is number order
    unusable = make_password(None)  # one unusable hash ("!…") for all: nobody logs in as them
    users = _Inserter(User, now, using)
    profiles = _Inserter(ResidentProfile, now, using)
    consents = _Inserter(Consent, now, using)
    account_values = {
        "password": unusable,
        "is_active": True,
        "is_staff": False,
        "is_superuser": False,
        "display_name": "",
        "email_verified_at": now,
        "date_joined": now,
        "last_login": None,
    }
    pending: list[_Pending] = []
    totals = {"accounts": 0, "consents": 0}

    def flush() -> None:
        if not pending:
            return
        users.insert([users.row({**account_values, "email": p.email}) for p in pending])
        ids = dict(
            User.objects.filter(email__range=(pending[0].email, pending[-1].email)).values_list(
                "email", "id"
            )
        )
        profiles.insert([profiles.row({**p.profile, "user_id": ids[p.email]}) for p in pending])
        rows = [
            consents.row(
                {"user_id": ids[p.email], "purpose": purpose, "granted": True, "created_at": now}
            )
            for p in pending
            for purpose in p.purposes
        ]
        consents.insert(rows)
        totals["accounts"] += len(pending)
        totals["consents"] += len(rows)
        pending.clear()

    number = 0
    for household in population.households:
        for position, age in enumerate(household.adults):
            number += 1
            foreign = bool(household.nationality)
            furigana = household.language == "ja-easy" or (foreign and rng.random() < 0.2)
            large_text = rng.random() < (0.3 if age >= 75 else 0.1 if age >= 65 else 0.0)
            profile = {
                "district_id": household.district_id,
                "birth_year": year - age,
                "children_birth_years": (
                    [year - c for c in household.children] if position == 0 else []
                ),
                "care_in_household": household.care,
                "household_size": household.size,
                "preferred_language": household.language,
                "nationality_foreign": foreign,
                "interests": _interests(age, household, rng),
                "channels": _channels(age, rng),
                "furigana": furigana,
                "large_text": large_text,
                "synthetic": True,
            }
            purposes = [p for p, rate in CONSENT_RATES if rng.random() < rate]
            pending.append(_Pending(synthetic_email(number, width), profile, purposes))
            if len(pending) >= batch:
                flush()
    flush()
    return PopulationReport(
        seed=seed,
        requested=n,
        removed=removed,
        accounts=totals["accounts"],
        consents=totals["consents"],
        shape=population.shape(),
    )


def population_stats(reference_year: int | None = None) -> dict[str, Any]:
    """The shape of the synthetic population as stored.

    Persons are the accounts plus the children listed on their household's head (the
    first adult); languages count persons, children taking their household's language.
    """
    year = reference_year or timezone.localdate().year
    rows = ResidentProfile.objects.filter(synthetic=True).values_list(
        "birth_year",
        "children_birth_years",
        "nationality_foreign",
        "preferred_language",
        "district_id",
    )
    accounts = persons = older = young = foreign = 0
    languages: Counter[str] = Counter()
    districts: set[int] = set()
    for birth_year, children, is_foreign, language, district_id in rows.iterator(chunk_size=5000):
        counted = 1 + len(children)  # this adult and the children listed on them
        accounts += 1
        persons += counted
        older += (year - (birth_year or year)) >= 65
        young += sum(1 for c in children if year - c < 15)
        foreign += counted if is_foreign else 0
        languages[language] += counted
        if district_id is not None:
            districts.add(district_id)
    return {
        "accounts": accounts,
        "persons": persons,
        "share_65_plus": older / persons if persons else 0.0,
        "share_0_14": young / persons if persons else 0.0,
        "share_foreign": foreign / persons if persons else 0.0,
        "languages": dict(languages.most_common()),
        "districts_used": len(districts),
    }


# --- everything at once ----------------------------------------------------------------------


@dataclass
class SeedReport:
    geography: dict[str, Counts]
    departments: Counts
    staff: Counts | None = None
    residents: Counts | None = None
    population: PopulationReport | None = None

    @property
    def changed(self) -> bool:
        counts = [*self.geography.values(), self.departments, self.staff, self.residents]
        if any(c is not None and c.changed for c in counts):
            return True
        return self.population is not None and bool(
            self.population.removed or self.population.accounts
        )

    def as_dict(self) -> dict[str, Any]:
        details: dict[str, Any] = {k: v.as_dict() for k, v in self.geography.items()}
        details["departments"] = self.departments.as_dict()
        if self.staff is not None:
            details["demo_staff"] = self.staff.as_dict()
        if self.residents is not None:
            details["demo_residents"] = self.residents.as_dict()
        if self.population is not None:
            details["synthetic_population"] = self.population.as_dict()
        return details

    def lines(self) -> list[str]:
        out = [f"{name:<22} {counts}" for name, counts in self.geography.items()]
        out.append(f"{'departments':<22} {self.departments}")
        if self.staff is not None:
            out.append(f"{'demo staff':<22} {self.staff}")
        if self.residents is not None:
            out.append(f"{'demo residents':<22} {self.residents}")
        if self.population is not None and not self.population.accounts:
            out.append(f"{'synthetic residents':<22} none ({self.population.removed} removed)")
        elif self.population is not None:
            p = self.population
            shape = p.shape
            out.append(
                f"{'synthetic residents':<22} {shape['persons']} persons in "
                f"{shape['households']} households, {p.accounts} accounts (18+), "
                f"{p.consents} consents; {p.removed} previous accounts replaced (seed {p.seed})"
            )
            out.append(
                f"{'':<22} 65+ {shape['share_65_plus']:.1%}, 0–14 {shape['share_0_14']:.1%}, "
                f"foreign {shape['share_foreign']:.1%}"
            )
        return out


def run_seed(
    *,
    residents: int | None = None,
    seed: int = DEFAULT_SEED,
    demo: bool = True,
    reference_year: int | None = None,
) -> SeedReport:
    """Geography, departments, demo accounts and (optionally) the synthetic population.

    One transaction; one audit event ``seed.run`` when anything changed, none otherwise.
    """
    if demo:
        _refuse_in_production("demo accounts")
    if residents is not None:
        _refuse_in_production("synthetic residents")
    with transaction.atomic():
        report = SeedReport(geography=load_geography(), departments=load_departments())
        if demo:
            report.staff = seed_demo_staff()
            report.residents = seed_demo_residents()
        if residents is not None:
            report.population = seed_population(residents, seed=seed, reference_year=reference_year)
        if report.changed:
            audit.record("seed.run", details=report.as_dict())
    return report
