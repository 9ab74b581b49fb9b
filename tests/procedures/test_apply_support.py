"""A small multi-step test form and helpers shared by the application tests (no tests here).

The form covers every field type the resident meets online: a name with furigana, a
和暦 date, a yes/no that shows a repeatable group of children (with a condition inside
the group), a file upload, a select, check boxes, an info text, a consent and a
typed signature.
"""

from __future__ import annotations

import io
from typing import Any

FORM: dict[str, Any] = {
    "title": {"ja": "テスト手当 認定請求書", "en": "Test allowance claim"},
    "steps": [
        {
            "key": "applicant",
            "title": {"ja": "請求する人", "en": "About you"},
            "intro": {"ja": "あなたについて教えてください。", "en": "Tell us about you."},
            "fields": [
                {
                    "key": "name",
                    "type": "name",
                    "label": {"ja": "氏名", "en": "Full name"},
                    "prefill": ["identity.name", "previous", "profile.name"],
                },
                {
                    "key": "birthdate",
                    "type": "date",
                    "calendar": "wareki",
                    "label": {"ja": "生年月日", "en": "Date of birth"},
                    "max": "today",
                    "prefill": ["identity.birthdate", "previous"],
                },
                {
                    "key": "email",
                    "type": "email",
                    "label": {"ja": "メールアドレス", "en": "E-mail address"},
                    "prefill": "profile.email",
                },
                {
                    "key": "phone",
                    "type": "phone",
                    "label": {"ja": "電話番号", "en": "Phone number"},
                    "required": False,
                    "prefill": ["profile.phone", "previous"],
                },
                {
                    "key": "postal_code",
                    "type": "postal_code",
                    "label": {"ja": "郵便番号", "en": "Postal code"},
                    "required": False,
                    "prefill": "profile.postal_code",
                },
                {
                    "key": "address",
                    "type": "address",
                    "label": {"ja": "住所", "en": "Address"},
                    "required": False,
                    "prefill": ["identity.address", "profile.address"],
                },
            ],
        },
        {
            "key": "family",
            "title": {"ja": "お子さん", "en": "Your children"},
            "fields": [
                {
                    "key": "has_children",
                    "type": "yesno",
                    "label": {"ja": "お子さんはいますか", "en": "Do you have children?"},
                },
                {
                    "key": "children",
                    "type": "group",
                    "label": {"ja": "お子さん", "en": "Child"},
                    "condition": {"field": "has_children", "equals": True},
                    "min_items": 1,
                    "max_items": 3,
                    "fields": [
                        {"key": "name", "type": "name", "label": {"ja": "氏名", "en": "Name"}},
                        {
                            "key": "birthdate",
                            "type": "date",
                            "calendar": "wareki",
                            "label": {"ja": "生年月日", "en": "Date of birth"},
                        },
                        {
                            "key": "relation",
                            "type": "choice",
                            "label": {"ja": "続柄", "en": "Relation"},
                            "choices": [
                                {"value": "child", "label": {"ja": "子", "en": "Child"}},
                                {"value": "other", "label": {"ja": "その他", "en": "Other"}},
                            ],
                        },
                        {
                            "key": "relation_other",
                            "type": "text",
                            "label": {"ja": "続柄（その他）", "en": "Relation (other)"},
                            "condition": {"field": "relation", "equals": "other"},
                        },
                    ],
                },
            ],
        },
        {
            "key": "documents",
            "title": {"ja": "書類", "en": "Documents"},
            "fields": [
                {
                    "key": "photo",
                    "type": "file",
                    "label": {"ja": "保険証の写真", "en": "Photo of the insurance card"},
                    "accept": ["image/jpeg", "image/png"],
                    "max_mb": 1,
                },
                {
                    "key": "bank",
                    "type": "select",
                    "label": {"ja": "振込先の金融機関", "en": "Bank"},
                    "choices": [
                        {"value": "iga", "label": {"ja": "伊賀銀行", "en": "Iga Bank"}},
                        {"value": "mie", "label": {"ja": "三重信用金庫", "en": "Mie Shinkin"}},
                    ],
                },
                {
                    "key": "contact_ways",
                    "type": "multichoice",
                    "label": {"ja": "連絡方法", "en": "How to contact you"},
                    "required": False,
                    "choices": [
                        {"value": "mail", "label": {"ja": "メール", "en": "E-mail"}},
                        {"value": "phone", "label": {"ja": "電話", "en": "Phone"}},
                    ],
                },
                {
                    "key": "notes",
                    "type": "textarea",
                    "label": {"ja": "備考", "en": "Notes"},
                    "required": False,
                },
            ],
        },
        {
            "key": "confirm",
            "title": {"ja": "同意と署名", "en": "Consent and signature"},
            "fields": [
                {
                    "key": "notice",
                    "type": "info",
                    "label": {
                        "ja": "内容を確認してから送信してください。",
                        "en": "Check your answers before you send them.",
                    },
                },
                {
                    "key": "agree",
                    "type": "consent",
                    "label": {
                        "ja": "記載内容に誤りがないことを誓約します",
                        "en": "I declare that the answers are true",
                    },
                },
                {
                    "key": "signature",
                    "type": "signature",
                    "label": {"ja": "署名", "en": "Signature"},
                },
            ],
        },
    ],
}

TITLE = {"ja": "テスト手当の申請", "en": "Test allowance"}


def png_bytes(size: tuple[int, int] = (8, 8), color: str = "red") -> bytes:
    """A real, small PNG made with Pillow."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buffer, format="JPEG")
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer)
    c.drawString(100, 700, "certificate")
    c.save()
    return buffer.getvalue()


def make_department(code: str = "kosodate-shien", name: str = "こども家庭課") -> Any:
    from cityhall.people.models import Department

    department, _ = Department.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "names": {"en": "Child and Family Division"},
            "phone": "0595-22-9654",
            "email": "kodomo@city.iga.example",
            "location": "伊賀市役所 1階",
        },
    )
    return department


def make_procedure(
    slug: str = "test-allowance",
    *,
    department: Any = None,
    form: dict[str, Any] | None = None,
    requires_identity: bool = False,
    fee_yen: int = 0,
    channel: str = "both",
) -> Any:
    from cityhall.procedures.models import FormDefinition, FormVersion, Procedure

    procedure = Procedure.objects.create(
        slug=slug,
        department=department or make_department(),
        category="childcare",
        channel=channel,
        texts={
            "title": dict(TITLE),
            "summary": {"ja": "テスト用の手続きです。", "en": "A procedure for tests."},
            "bring": {"ja": "保険証", "en": "Your insurance card"},
        },
        requires_identity=requires_identity,
        fee_yen=fee_yen,
    )
    definition = FormDefinition.objects.create(procedure=procedure, draft=form or FORM)
    FormVersion.objects.create(definition=definition, number=1, spec=form or FORM)
    return procedure


def forget_parsed_forms() -> None:
    """Forget the parsed forms cached by version id: test databases reuse ids, and a form
    parsed in one test must not answer for another test's version with the same id."""
    from cityhall.procedures.services import applications

    applications._parsed.cache_clear()


def use_media(settings: Any, tmp_path: Any) -> Any:
    """Keep uploaded files of a test in its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


STEP1 = {
    "name-family": "伊賀",
    "name-given": "花子",
    "name-family_kana": "いが",
    "name-given_kana": "ハナコ",
    "birthdate-era": "S",
    "birthdate-year": "60",
    "birthdate-month": "4",
    "birthdate-day": "1",
    "email": "hanako@example.jp",
    "phone": "０５９５２２２５００",
    "postal_code": "5188501",
    "address": "三重県伊賀市四十九町3184",
}

STEP2 = {
    "has_children": "yes",
    "children-count": "2",
    "children-0-name-family": "伊賀",
    "children-0-name-given": "一郎",
    "children-0-name-family_kana": "イガ",
    "children-0-name-given_kana": "イチロウ",
    "children-0-birthdate-era": "R",
    "children-0-birthdate-year": "2",
    "children-0-birthdate-month": "5",
    "children-0-birthdate-day": "10",
    "children-0-relation": "child",
    "children-1-name-family": "伊賀",
    "children-1-name-given": "次郎",
    "children-1-name-family_kana": "イガ",
    "children-1-name-given_kana": "ジロウ",
    "children-1-birthdate-era": "R",
    "children-1-birthdate-year": "4",
    "children-1-birthdate-month": "1",
    "children-1-birthdate-day": "20",
    "children-1-relation": "other",
    "children-1-relation_other": "孫",
}

STEP4 = {"agree": "on", "signature-typed": "伊賀 花子"}


def step_url(app: Any, key: str) -> str:
    from django.urls import reverse

    return reverse("procedures:apply_step", args=[app.pk, key])


def start(client: Any, procedure: Any) -> Any:
    """Start an application through the start page; returns the draft."""
    from django.urls import reverse

    from cityhall.procedures.models import Application

    response = client.post(reverse("procedures:apply_start", args=[procedure.slug]))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Application.objects.filter(procedure=procedure).latest("id")


def upload(name: str, data: bytes, content_type: str = "image/png") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def fill_all(client: Any, app: Any) -> None:
    """Fill in every step of the test form with good answers."""
    for key, data in (
        ("applicant", STEP1),
        ("family", STEP2),
        ("documents", {"photo-upload": upload("card.png", png_bytes()), "bank": "iga"}),
        ("confirm", STEP4),
    ):
        response = client.post(step_url(app, key), data)
        assert response.status_code == 302, (key, response.content.decode()[:3000])


ANSWERS: dict[str, Any] = {
    "name": {"family": "伊賀", "given": "花子", "family_kana": "イガ", "given_kana": "ハナコ"},
    "birthdate": "1985-04-01",
    "email": "hanako@example.jp",
    "has_children": True,
    "children": [
        {
            "name": {
                "family": "伊賀",
                "given": "一郎",
                "family_kana": "イガ",
                "given_kana": "イチロウ",
            },
            "birthdate": "2020-05-10",
            "relation": "child",
        }
    ],
    "photo": [1],
    "bank": "iga",
    "agree": True,
    "signature": {"typed": "伊賀 花子"},
}


def make_axe_world(resident: Any) -> dict[str, Any]:
    """A procedure, a draft that may open every step, and a sent application of ``resident``
    (for the page-by-page axe runs of tests/e2e/test_axe.py)."""
    from cityhall.procedures.models import ApplicationEvent
    from cityhall.procedures.services import applications

    forget_parsed_forms()
    procedure = make_procedure()
    draft = applications.start(procedure, resident, assurance="password")
    draft.step = len(FORM["steps"])
    draft.save()
    other = make_procedure("axe-sent")
    sent = applications.start(other, resident, assurance="password")
    sent.data = dict(ANSWERS)
    sent.step = len(FORM["steps"])
    sent.save()
    sent = applications.submit(sent, actor=resident, assurance="password")
    ApplicationEvent.objects.create(
        application=sent,
        kind=ApplicationEvent.Kind.MESSAGE_TO_RESIDENT,
        text="保険証の裏面の写真も送ってください。",
        visible_to_resident=True,
    )
    return {"procedure": procedure, "draft": draft, "sent": sent}
