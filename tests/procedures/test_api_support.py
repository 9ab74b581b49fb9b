"""Shared data for the procedures API tests: two departments, a published form with prefill,
a condition and a repeatable group, residents, clerks and API tokens."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.test import Client

from cityhall.people.models import Department, ResidentProfile, User
from cityhall.people.services import api_tokens
from cityhall.procedures.models import FormDefinition, FormVersion, Procedure
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
                    "key": "phone",
                    "type": "phone",
                    "label": {"ja": "電話番号", "en": "Phone"},
                    "prefill": ["profile.phone"],
                },
                {
                    "key": "postal_code",
                    "type": "postal_code",
                    "label": {"ja": "郵便番号", "en": "Postal code"},
                    "prefill": ["profile.postal_code"],
                },
                {
                    "key": "email",
                    "type": "email",
                    "required": False,
                    "label": {"ja": "メール", "en": "E-mail"},
                    "prefill": ["profile.email"],
                },
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
                    "key": "breed_other",
                    "type": "text",
                    "label": {"ja": "犬種（その他）", "en": "Breed (other)"},
                    "condition": {"field": "breed", "equals": "other"},
                },
                {
                    "key": "dog_name",
                    "type": "text",
                    "label": {"ja": "犬の名前", "en": "Dog's name"},
                },
                {
                    "key": "born",
                    "type": "date",
                    "calendar": "wareki",
                    "max": "today",
                    "label": {"ja": "生年月日", "en": "Date of birth"},
                },
                {
                    "key": "vaccinations",
                    "type": "group",
                    "required": False,
                    "label": {"ja": "予防接種", "en": "Vaccinations"},
                    "max_items": 3,
                    "fields": [
                        {"key": "date", "type": "date", "label": {"ja": "日付", "en": "Date"}},
                        {"key": "clinic", "type": "text", "label": {"ja": "病院", "en": "Clinic"}},
                    ],
                },
            ],
        },
        {
            "key": "confirm",
            "title": {"ja": "確認", "en": "Confirm"},
            "fields": [
                {
                    "key": "agree",
                    "type": "consent",
                    "label": {"ja": "内容に同意します", "en": "I agree"},
                },
            ],
        },
    ],
}


def answers(**changes: Any) -> dict[str, Any]:
    """A complete, valid set of answers (phone and postal code left to the prefill)."""
    data: dict[str, Any] = {
        "name": {"family": "伊賀", "given": "花子", "family_kana": "いが", "given_kana": "ハナコ"},
        "breed": "shiba",
        "dog_name": "ポチ",
        "born": "令和5年4月1日",
        "vaccinations": [{"date": "2024-05-01", "clinic": "上野どうぶつ病院"}],
        "agree": True,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def new_key() -> str:
    return str(uuid.uuid4())


def publish(procedure: Procedure, spec: dict[str, Any], number: int) -> FormVersion:
    definition, _ = FormDefinition.objects.get_or_create(
        procedure=procedure, defaults={"draft": spec}
    )
    return FormVersion.objects.create(definition=definition, number=number, spec=spec)


@dataclass
class World:
    dept_a: Department
    dept_b: Department
    dog: Procedure
    childcare: Procedure
    resident: User
    other: User
    clerk_a: User
    clerk_b: User
    tokens: dict[str, str] = field(default_factory=dict)


def build_world() -> World:
    dept_a, _ = Department.objects.get_or_create(
        code=DEPT_A, defaults={"name": "市民生活課", "names": {"en": "Citizens' Life Division"}}
    )
    dept_b, _ = Department.objects.get_or_create(
        code=DEPT_B,
        defaults={"name": "こども未来課", "names": {"en": "Children's Future Division"}},
    )
    dog = Procedure.objects.create(
        slug="dog-registration",
        department=dept_a,
        category="animals",
        life_events=["moving-in"],
        texts={
            "title": {"ja": "犬の登録", "en": "Dog registration"},
            "summary": {"ja": "犬を飼い始めたら登録します。", "en": "Register a new dog."},
            "bring": {"ja": "手数料 3,000円", "en": "Fee 3,000 yen"},
        },
        fee_yen=3000,
    )
    old = copy.deepcopy(SPEC)
    old["steps"] = old["steps"][:1]
    publish(dog, old, 1)
    publish(dog, SPEC, 2)
    childcare = Procedure.objects.create(
        slug="nursery-application",
        department=dept_b,
        category="childcare",
        life_events=["birth"],
        texts={"title": {"ja": "保育施設等の利用申込", "en": "Nursery application"}},
    )
    publish(childcare, SPEC, 1)
    resident = make_resident(postal_code="518-8501", phone="0595-22-2500")
    other = make_resident("taro@example.jp", postal_code="518-0873", phone="090-1234-5678")
    clerk_a = make_staff("clerk.a@city.iga.example", "clerk", DEPT_A)
    clerk_b = make_staff("clerk.b@city.iga.example", "clerk", DEPT_B)
    world = World(dept_a, dept_b, dog, childcare, resident, other, clerk_a, clerk_b)
    for name, code in (("a", DEPT_A), ("b", DEPT_B)):
        service = make_staff(f"rpa.{name}@city.iga.example", "clerk", code)
        _token, plaintext = api_tokens.issue(None, service, f"基幹系 connector {name}")
        world.tokens[name] = plaintext
    return world


def resident_client(user: User, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def submit(
    client: Client,
    slug: str,
    data: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    **headers: Any,
) -> Any:
    extra = {"HTTP_IDEMPOTENCY_KEY": key or new_key(), **headers}
    if key == "":
        extra.pop("HTTP_IDEMPOTENCY_KEY")
    return client.post(
        f"/api/v1/procedures/{slug}/applications",
        {"answers": answers() if data is None else data},
        content_type="application/json",
        **extra,
    )


def bearer(token: str) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def profile_of(user: User) -> ResidentProfile:
    return ResidentProfile.objects.get(user=user)
