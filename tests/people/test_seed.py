"""Departments, demo accounts, the synthetic population and the seed/demo/totp-code commands."""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models.signals import pre_delete
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityhall.core.models import AuditEvent, District
from cityhall.people import permissions
from cityhall.people.models import (
    Consent,
    Department,
    ResidentProfile,
    Role,
    StaffAssignment,
    User,
)
from cityhall.people.seed import (
    ADULT_AGE,
    DEFAULT_SEED,
    SeedRefused,
    demo_data,
    generate_population,
    is_demo_staff,
    load_departments,
    population_stats,
    run_seed,
    seed_population,
)
from cityhall.people.services import accounts
from cityhall.portal.frontdoor import LIFE_EVENTS
from tests.conftest import make_resident, make_staff, totp_now

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
YEAR = 2026
LANGUAGES = {"en", "pt-br", "es", "vi", "zh-hans"}


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded(db: Any) -> Any:
    return run_seed()


def _synthetic_snapshot() -> list[tuple[Any, ...]]:
    profiles = (
        ResidentProfile.objects.filter(synthetic=True)
        .select_related("user", "district")
        .order_by("user__email")
    )
    consents: dict[str, list[str]] = {}
    for email, purpose in Consent.objects.filter(user__profile__synthetic=True).values_list(
        "user__email", "purpose"
    ):
        consents.setdefault(email, []).append(purpose)
    return [
        (
            p.user.email,
            p.district.code if p.district else None,
            p.birth_year,
            tuple(p.children_birth_years),
            p.household_size,
            p.care_in_household,
            p.preferred_language,
            p.nationality_foreign,
            tuple(p.interests),
            tuple(p.channels),
            p.furigana,
            p.large_text,
            tuple(sorted(consents.get(p.user.email, []))),
        )
        for p in profiles
    ]


# --- departments -----------------------------------------------------------------------------


def test_every_department_the_front_door_names_exists() -> None:
    load_departments()
    wanted = {code for event in LIFE_EVENTS for code in event.departments}
    assert wanted <= set(Department.objects.values_list("code", flat=True))
    for code in (
        "shimin-seikatsu",
        "zeimu",
        "shuno",
        "kosodate-shien",
        "hoiku-yochien",
        "kenko-suishin",
        "kaigo-korei",
        "hoken-nenkin",
        "doro-kasen",
        "jougesuido",
        "gakko-kyoiku",
        "tabunka-kyosei",
        "bosai",
        "dx",
        "somu",
        "kankyo-seisaku",
    ):
        assert Department.objects.filter(code=code, is_active=True).exists(), code


def test_departments_have_translations_contacts_and_a_parent_bu() -> None:
    load_departments()
    assert Department.objects.get(code="shimin-seikatsu").name == "市民生活課"
    assert Department.objects.get(code="bosai").name == "危機管理課"
    assert Department.objects.get(code="jougesuido").name == "上下水道部"
    for department in Department.objects.select_related("parent"):
        assert department.kana, department.code
        assert set(department.names) >= LANGUAGES, department.code
        assert all(department.names[lang] for lang in LANGUAGES), department.code
        assert re.fullmatch(r"0595-2\d-\d{4}", department.phone), department.code
        assert department.location and department.duties, department.code
        assert department.email.endswith("@city.iga.example")
        if department.name.endswith("課"):
            assert department.parent is not None, department.code
            assert department.parent.parent is None and department.parent.name.endswith(
                ("部", "局")
            )
    assert Department.objects.get(code="kosodate-shien").localized_name("pt-br") == (
        "Divisão de Apoio à Criação dos Filhos"
    )


def test_loading_departments_twice_changes_nothing() -> None:
    first = load_departments()
    assert first.created == Department.objects.count() >= 30
    before = list(Department.objects.order_by("code").values())
    second = load_departments()
    assert second.changed == 0
    assert list(Department.objects.order_by("code").values()) == before


# --- demo accounts ---------------------------------------------------------------------------


def test_demo_staff_have_roles_departments_and_confirmed_totp(seeded: Any) -> None:
    data = demo_data()
    roles = Counter(member.role for member in data.staff)
    assert roles[Role.CLERK] >= 2 and roles[Role.MANAGER] and roles[Role.ADMIN]
    assert roles[Role.AUDITOR]
    for member in data.staff:
        user = User.objects.get(email=member.email)
        assert user.is_staff and user.is_active and user.email_verified
        assert user.check_password(data.password)
        assignment = StaffAssignment.objects.get(user=user)
        assert (assignment.department.code, assignment.role) == (member.department, member.role)
        assert member.role in permissions.roles(user)
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        assert device.bin_key == base64.b32decode(member.totp_secret)
        # What an authenticator app fed the printed secret shows is what the server expects.
        code = totp(base64.b32decode(member.totp_secret), device.step, device.t0, device.digits)
        assert str(code).zfill(6) == totp_now(user)
        assert device.verify_token(totp_now(user))
        assert is_demo_staff(user)
    assert User.objects.get(email="admin@city.iga.example").is_superuser
    assert not User.objects.get(email="clerk@city.iga.example").is_superuser


def test_demo_residents_are_verified_with_profiles_and_consents(seeded: Any) -> None:
    data = demo_data()
    languages = set()
    for person in data.residents:
        user = User.objects.get(email=person.email)
        assert not user.is_staff and user.email_verified
        assert user.check_password(data.password)
        profile = user.profile
        assert not profile.synthetic
        assert profile.district is not None
        assert profile.district.code == person.profile["district"]
        assert profile.household_size and profile.birth_year
        state = accounts.consents(user)
        assert {p for p, granted in state.items() if granted} == set(person.consents)
        languages.add(profile.preferred_language)
    assert {"ja", "ja-easy", "pt-br", "vi"} <= languages
    hanako = User.objects.get(email="resident@example.jp").profile
    assert hanako.phone == "090-0000-0001"  # encrypted at rest, read back in clear
    assert hanako.children_ages(today=dt.date(YEAR, 6, 1)) == [4, 8]


def test_seeding_twice_changes_nothing_and_audits_once(db: Any) -> None:
    before = AuditEvent.objects.count()
    first = run_seed()
    assert first.changed
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None and event.action == "seed.run"
    assert event.details["districts"]["created"] == 39
    snapshot = (
        list(User.objects.order_by("email").values()),
        list(ResidentProfile.objects.order_by("user__email").values()),
        list(TOTPDevice.objects.order_by("name", "user__email").values("user__email", "key")),
        list(StaffAssignment.objects.order_by("user__email").values()),
        Consent.objects.count(),
    )
    second = run_seed()
    assert not second.changed
    assert AuditEvent.objects.count() == before + 1
    assert snapshot == (
        list(User.objects.order_by("email").values()),
        list(ResidentProfile.objects.order_by("user__email").values()),
        list(TOTPDevice.objects.order_by("name", "user__email").values("user__email", "key")),
        list(StaffAssignment.objects.order_by("user__email").values()),
        Consent.objects.count(),
    )


def test_seeding_again_keeps_a_changed_demo_password_but_restores_roles(seeded: Any) -> None:
    clerk = User.objects.get(email="clerk@city.iga.example")
    clerk.set_password("another-long-passphrase")
    clerk.save()
    StaffAssignment.objects.filter(user=clerk).update(role=Role.AUDITOR)
    report = run_seed()
    assert report.staff is not None and report.staff.updated == 1
    clerk.refresh_from_db()
    assert clerk.check_password("another-long-passphrase")
    assert StaffAssignment.objects.get(user=clerk).role == Role.CLERK


def test_no_demo_accounts_or_synthetic_people_in_production(db: Any, settings: Any) -> None:
    settings.PRODUCTION = True
    with pytest.raises(SeedRefused):
        run_seed()
    with pytest.raises(SeedRefused):
        run_seed(demo=False, residents=10)
    report = run_seed(demo=False)
    assert report.geography["districts"].created == 39
    assert not User.objects.exists()
    with pytest.raises(CommandError, match="production"):
        call_command("seed", stdout=StringIO())


# --- totp-code --------------------------------------------------------------------------------


def test_totp_code_prints_the_demo_accounts_current_code(seeded: Any) -> None:
    clerk = User.objects.get(email="clerk@city.iga.example")
    out = StringIO()
    before = totp_now(clerk)
    call_command("totp_code", "Clerk@city.iga.example", stdout=out)
    assert out.getvalue().strip() in {before, totp_now(clerk)}  # a step may end in between


def test_totp_code_refuses_other_accounts_outside_development(seeded: Any, settings: Any) -> None:
    settings.ENVIRONMENT = "production"
    settings.DEBUG = False
    other = make_staff("someone@city.iga.example", Role.CLERK)
    with pytest.raises(CommandError, match="not a seeded demo account"):
        call_command("totp_code", other.email, stdout=StringIO())
    # A demo account whose secret was replaced is no longer a demo account.
    auditor = User.objects.get(email="auditor@city.iga.example")
    TOTPDevice.objects.filter(user=auditor).update(key="00" * 20)
    with pytest.raises(CommandError, match="not a seeded demo account"):
        call_command("totp_code", auditor.email, stdout=StringIO())
    call_command("totp_code", "clerk@city.iga.example", stdout=StringIO())  # still fine
    settings.ENVIRONMENT = "development"
    out = StringIO()
    before = totp_now(other)
    call_command("totp_code", other.email, stdout=out)
    assert out.getvalue().strip() in {before, totp_now(other)}
    with pytest.raises(CommandError, match="no account"):
        call_command("totp_code", "nobody@example.jp", stdout=StringIO())


# --- the synthetic population ----------------------------------------------------------------


def test_generated_population_has_igas_shape() -> None:
    population = generate_population(83335, seed=DEFAULT_SEED, reference_year=YEAR)
    shape = population.shape()
    assert shape["persons"] == 83335
    assert 38_000 <= shape["households"] <= 42_000
    assert set(map(int, shape["household_sizes"])) == {1, 2, 3, 4, 5, 6}
    assert 0.33 <= shape["share_65_plus"] <= 0.35
    assert 0.10 <= shape["share_0_14"] <= 0.11
    assert 0.065 <= shape["share_foreign"] <= 0.075
    assert 60_000 <= shape["accounts"] < 83335
    for household in population.households:
        assert 1 <= household.size <= 6
        assert all(age >= ADULT_AGE for age in household.adults)
        assert all(0 <= age < ADULT_AGE for age in household.children)
        if household.children:  # someone old enough to be a parent lives there
            assert max(household.adults) >= max(household.children) + 18
    languages = shape["languages"]
    foreign = {k: v for k, v in languages.items() if k not in {"ja"}}
    assert sorted(foreign, key=foreign.__getitem__, reverse=True)[:2] == ["pt-br", "vi"]
    assert 0.05 < shape["households_with_care"] / shape["households"] < 0.2


def test_synthetic_population_of_3000_has_the_shape(seeded: Any) -> None:
    before = AuditEvent.objects.count()
    report = run_seed(residents=3000, seed=11, reference_year=YEAR)
    assert AuditEvent.objects.count() == before + 1  # one event for the run, none per person
    assert report.population is not None and report.population.accounts > 2000
    stats = population_stats(reference_year=YEAR)
    assert stats["persons"] == 3000
    assert stats["accounts"] == report.population.accounts
    assert 0.30 <= stats["share_65_plus"] <= 0.38
    assert 0.09 <= stats["share_0_14"] <= 0.12
    assert 0.05 <= stats["share_foreign"] <= 0.09
    assert stats["districts_used"] == District.objects.count() == 39
    languages = stats["languages"]
    assert languages["ja"] > 0.85 * stats["persons"]
    assert {"pt-br", "vi", "en", "zh-hans", "es"} <= set(languages)
    foreign = {k: v for k, v in languages.items() if k not in {"ja", "ja-easy"}}
    assert max(foreign, key=foreign.__getitem__) in {"pt-br", "vi"}

    synthetic = ResidentProfile.objects.filter(synthetic=True).select_related("user")
    assert synthetic.count() == stats["accounts"]
    for profile in synthetic[:300]:
        user = profile.user
        assert re.fullmatch(r"synthetic-\d{6}@example\.invalid", user.email)
        assert not user.has_usable_password() and not user.is_staff
        assert profile.phone == "" and profile.address == ""
        assert profile.birth_year is not None and YEAR - profile.birth_year >= ADULT_AGE
        assert profile.household_size is not None and 1 <= profile.household_size <= 6
    sizes = Counter(synthetic.values_list("household_size", flat=True))
    assert set(sizes) == {1, 2, 3, 4, 5, 6}
    assert synthetic.filter(care_in_household=True).exists()
    assert Consent.objects.filter(user__profile__synthetic=True, purpose="emergency").exists()
    # Filipino residents read English: Tagalog is not a UI language.
    assert not synthetic.filter(preferred_language__in=["tl", "fil"]).exists()


def test_same_seed_same_people_other_seed_other_people(seeded: Any) -> None:
    seed_population(1500, seed=5, reference_year=YEAR)
    first = _synthetic_snapshot()
    seed_population(1500, seed=5, reference_year=YEAR)
    assert _synthetic_snapshot() == first
    seed_population(1500, seed=6, reference_year=YEAR)
    assert _synthetic_snapshot() != first


def test_rerunning_replaces_the_synthetic_set_and_nothing_else(seeded: Any) -> None:
    real = make_resident("real@example.jp", district=District.objects.first())
    demo_users = set(User.objects.values_list("email", flat=True))
    seed_population(3000, seed=1, reference_year=YEAR)
    some = User.objects.filter(profile__synthetic=True).order_by("id").first()
    assert some is not None
    TOTPDevice.objects.create(user=some, name="x", confirmed=True)  # rows that hang on them
    report = seed_population(2000, seed=1, reference_year=YEAR)
    assert report.removed > 2000
    assert population_stats(reference_year=YEAR)["persons"] == 2000
    assert not User.objects.filter(pk=some.pk).exists()
    assert not TOTPDevice.objects.filter(name="x").exists()
    assert demo_users <= set(User.objects.values_list("email", flat=True))
    assert User.objects.filter(pk=real.pk, profile__synthetic=False).exists()
    seed_population(0)
    assert not ResidentProfile.objects.filter(synthetic=True).exists()
    assert not User.objects.filter(email__endswith="@example.invalid").exists()
    assert demo_users == set(User.objects.values_list("email", flat=True))


def test_removal_falls_back_to_the_orm_when_deletes_have_listeners(seeded: Any) -> None:
    seed_population(300, seed=2, reference_year=YEAR)
    seen: list[int] = []

    def listener(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance.pk)

    pre_delete.connect(listener, sender=User)
    try:
        report = seed_population(200, seed=2, reference_year=YEAR)
    finally:
        pre_delete.disconnect(listener, sender=User)
    assert len(seen) == report.removed > 0
    assert population_stats(reference_year=YEAR)["persons"] == 200


# --- commands --------------------------------------------------------------------------------


def test_seed_command_runs_and_reports(db: Any) -> None:
    out = StringIO()
    call_command(
        "seed", "--residents", "400", "--seed", "3", "--reference-year", "2026", stdout=out
    )
    text = out.getvalue()
    assert re.search(r"districts\s+39 created", text)
    assert "400 persons" in text and "seeded" in text
    out = StringIO()
    call_command("seed", stdout=out)
    assert "nothing changed" in out.getvalue()
    assert population_stats(reference_year=YEAR)["persons"] == 400  # left alone without --residents
    out = StringIO()
    call_command("seed", "--no-demo", "--residents", "0", stdout=out)
    assert re.search(r"synthetic residents\s+none \(\d+ removed\)", out.getvalue())
    with pytest.raises(CommandError):
        call_command("seed", "--residents", "-1", stdout=StringIO())


def test_demo_command_prepares_and_prints_the_logins(db: Any) -> None:
    out = StringIO()
    call_command("demo", "--no-serve", stdout=out)
    text = out.getvalue()
    data = demo_data()
    assert data.password in text
    for member in data.staff:
        assert member.email in text and member.totp_secret in text
    assert "otpauth://totp/" in text and "secret=MK6I2BZ24BRZJURUESGFN33MNV7LAT4K" in text
    for person in data.residents:
        assert person.email in text
    assert "cityhall totp-code" in text
    assert Department.objects.filter(code="shimin-seikatsu").exists()
    # A second start finds everything in place and does not seed again.
    before = AuditEvent.objects.count()
    call_command("demo", "--no-serve", stdout=StringIO())
    assert AuditEvent.objects.count() == before


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_demo_serves_and_stops_its_worker(tmp_path: Path) -> None:
    """The real thing: a fresh SQLite city, the web server answering, the worker stopped."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        CITYHALL_DATA_DIR=str(tmp_path),
        CITYHALL_TASKS_BACKEND="database",
        CITYHALL_CACHE_URL="db://",
        PYTHONUNBUFFERED="1",
    )
    log = tmp_path / "demo.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "cityhall.cli", "demo", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120
            status = None
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                        status = r.status
                        break
                except OSError:
                    time.sleep(0.5)
            assert status == 200, log.read_text(errors="replace")
            text = log.read_text(errors="replace")
            assert "clerk@city.iga.example" in text
            match = re.search(r"Worker started \(pid (\d+)\)", text)
            assert match, text
            worker = int(match.group(1))
            os.kill(worker, 0)  # running
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    text = log.read_text(errors="replace")
    assert "Worker stopped" in text, text
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)
