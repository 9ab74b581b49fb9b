"""Shared data for the case board's tests: two departments, a dog-registration form,
applications made straight through the ORM (as the submit service leaves them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from cityhall.people.models import Department, User
from cityhall.procedures.models import (
    Application,
    FormDefinition,
    FormVersion,
    Procedure,
    Status,
)
from cityhall.procedures.services import applications
from tests.conftest import make_resident, make_staff

DEPT_A = "shimin-seikatsu"
DEPT_B = "kodomo-mirai"

SPEC: dict[str, Any] = {
    "title": {"ja": "犬の登録申請", "en": "Dog registration"},
    "steps": [
        {
            "key": "owner",
            "title": {"ja": "飼い主", "en": "Owner"},
            "fields": [
                {"key": "name", "type": "name", "label": {"ja": "氏名", "en": "Name"}},
                {
                    "key": "birthdate",
                    "type": "date",
                    "calendar": "wareki",
                    "label": {"ja": "生年月日", "en": "Date of birth"},
                },
                {"key": "phone", "type": "phone", "label": {"ja": "電話番号", "en": "Phone"}},
            ],
        },
        {
            "key": "dog",
            "title": {"ja": "犬", "en": "Dog"},
            "fields": [
                {
                    "key": "breed",
                    "type": "choice",
                    "label": {"ja": "犬種", "en": "Breed"},
                    "choices": [
                        {"value": "shiba", "label": {"ja": "柴犬", "en": "Shiba"}},
                        {"value": "other", "label": {"ja": "その他", "en": "Other"}},
                    ],
                },
                {
                    "key": "dog_name",
                    "type": "text",
                    "label": {"ja": "犬の名前", "en": "Dog's name"},
                },
                {
                    "key": "notes",
                    "type": "textarea",
                    "required": False,
                    "label": {"ja": "備考", "en": "Notes"},
                },
            ],
        },
    ],
}


def answers(**extra: Any) -> dict[str, Any]:
    data = {
        "name": {"family": "伊賀", "given": "花子", "family_kana": "イガ", "given_kana": "ハナコ"},
        "birthdate": "1990-04-01",
        "phone": "0595-22-2500",
        "breed": "shiba",
        "dog_name": "ポチ",
        "notes": "よろしくお願いします〜",
    }
    data.update(extra)
    return data


def make_procedure(department: Department, slug: str, title_ja: str, **extra: Any) -> Procedure:
    procedure = Procedure.objects.create(
        slug=slug,
        department=department,
        category="animals",
        texts={"title": {"ja": title_ja, "en": f"{slug} (en)"}},
        **extra,
    )
    definition = FormDefinition.objects.create(procedure=procedure, draft=SPEC)
    FormVersion.objects.create(definition=definition, number=1, spec=SPEC)
    return procedure


def make_application(
    procedure: Procedure,
    applicant: User,
    *,
    status: str = Status.SUBMITTED,
    data: dict[str, Any] | None = None,
    name: str = "伊賀 花子",
    submitted_at: dt.datetime | None = None,
    due_date: dt.date | None = None,
    assignee: User | None = None,
    language: str = "ja",
    via: str = Application.Via.ONLINE,
) -> Application:
    submitted_at = submitted_at or timezone.now()
    version = FormVersion.objects.filter(definition__procedure=procedure).latest("number")
    app = Application.objects.create(
        procedure=procedure,
        department_id=procedure.department_id,
        version=version,
        applicant=applicant,
        status=status,
        data=data if data is not None else answers(),
        applicant_name=name,
        submitted_at=None if status == Status.DRAFT else submitted_at,
        due_date=due_date
        if due_date is not None
        else (submitted_at + dt.timedelta(days=14)).date(),
        assignee=assignee,
        language=language,
        via=via,
    )
    if status != Status.DRAFT:
        app.reference = applications.reference_for(app.pk, timezone.localtime(submitted_at).year)
        app.save(update_fields=["reference"])
    return app


@dataclass
class World:
    dept_a: Department
    dept_b: Department
    clerk_a: User
    clerk_b: User
    admin: User
    resident: User
    dog: Procedure  # department A
    nursery: Procedure  # department B
    apps: dict[str, Application] = field(default_factory=dict)


def build_world() -> World:
    clerk_a = make_staff("clerk.a@city.iga.example", "clerk", DEPT_A, display_name="伊賀 一郎")
    clerk_b = make_staff("clerk.b@city.iga.example", "clerk", DEPT_B, display_name="上野 二郎")
    admin = make_staff("admin@city.iga.example", "admin", DEPT_A)
    dept_a = Department.objects.get(code=DEPT_A)
    dept_b = Department.objects.get(code=DEPT_B)
    Department.objects.filter(pk=dept_a.pk).update(name="市民生活課")
    Department.objects.filter(pk=dept_b.pk).update(name="こども未来課")
    resident = make_resident("hanako@example.jp")
    dog = make_procedure(dept_a, "dog-registration", "犬の登録")
    nursery = make_procedure(dept_b, "nursery", "保育施設等の利用申込")
    world = World(dept_a, dept_b, clerk_a, clerk_b, admin, resident, dog, nursery)
    world.apps["a1"] = make_application(dog, resident)
    world.apps["b1"] = make_application(nursery, resident, name="上野 太郎")
    return world


def fresh(user: User) -> User:
    """The user read again (permission caches live on the object)."""
    return User.objects.get(pk=user.pk)
