"""Shared helpers of the staff message and alert tests: staff with their sessions, a
small town of residents who agreed to messages and alerts, a saved segment, shelters."""

from __future__ import annotations

from typing import Any

from tests.conftest import login_staff, make_staff
from tests.notices.conftest import make_notice_resident

EN = {"cityhall_lang": "en"}


def staff_client(client: Any, user: Any, *, english: bool = True) -> Any:
    login_staff(client, user)
    if english:
        client.cookies["cityhall_lang"] = "en"
    return client


def make_koho() -> Any:
    return make_staff("koho@city.iga.example", "clerk", "koho-kocho")


def make_bosai() -> Any:
    return make_staff("bosai@city.iga.example", "clerk", "bosai")


def make_other() -> Any:
    return make_staff("shimin@city.iga.example", "clerk", "shimin-seikatsu")


def make_town(geography: dict[str, Any]) -> dict[str, Any]:
    """Residents in two districts: who reads what, who agreed to what."""
    from cityhall.core.models import Facility
    from cityhall.notices.models import Segment

    d1, d2 = geography["ueno-tobu"], geography["aoyama-hokubu"]
    town = {
        "hanako": make_notice_resident(
            "hanako@example.jp", district=d1, channels=["email", "inbox"], interests=["events"]
        ),
        "lan": make_notice_resident(
            "lan@example.jp", district=d1, channels=["inbox"], language="vi", interests=["events"]
        ),
        "aoyama": make_notice_resident(
            "aoyama@example.jp", district=d2, channels=["inbox"], interests=["events"]
        ),
        "no_consent": make_notice_resident(
            "noconsent@example.jp", district=d1, consents=[], interests=["events"]
        ),
        "d1": d1,
        "d2": d2,
    }
    town["segment"] = Segment.objects.create(
        name="上野東部の住民", filters={"districts": [d1.code]}
    )
    town["empty_segment"] = Segment.objects.create(name="誰もいない", filters={"languages": ["es"]})
    town["shelter"] = Facility.objects.create(
        code="ueno-tobu-shelter", kind=Facility.Kind.SHELTER, name="上野東小学校", district=d1
    )
    return town
