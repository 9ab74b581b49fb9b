"""Demo applications, so that `cityhall demo` opens on a board and a my-page with content.

Only for demonstrations: the applicants are the fictional demo residents, the
answers are made up from each form's fields, and nothing is created when any
application of a demo resident already exists (running the demo again adds nothing).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from cityhall.people.models import User
from cityhall.people.seed import demo_data
from cityhall.procedures.formspec import validate
from cityhall.procedures.formspec.schema import Field, FieldType
from cityhall.procedures.models import Application, Procedure, Status
from cityhall.procedures.services import applications, cases

# (resident e-mail, procedure slug, statuses to walk through, message for the last one)
DEMO: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("resident@example.jp", "jido-teate-nintei", (Status.RECEIVED, Status.IN_REVIEW), ""),
    (
        "resident@example.jp",
        "sodai-gomi",
        (Status.RECEIVED, Status.APPROVED),
        "収集日は来週の水曜日です。",
    ),
    ("elder@example.jp", "kaigo-nintei", (Status.RECEIVED,), ""),
    (
        "maria@example.jp",
        "hoiku-moshikomi",
        (Status.RECEIVED, Status.NEEDS_INFO),
        "就労証明書の写真を送ってください。 / Envie a foto do comprovante de trabalho, por favor.",
    ),
    ("wei@example.jp", "shugaku-enjo", (), ""),
    ("carlos@example.jp", "shotoku-shomei", (Status.RECEIVED,), ""),
    ("lan@example.jp", "inu-toroku", (), ""),
)


def _example(field: Field, user: User, today: dt.date) -> Any:
    """A made-up answer that passes the field's rules (None when it cannot be made up)."""
    t = field.type
    if t == FieldType.NAME:
        family, _, given = (user.display_name or "伊賀 花子").partition(" ")
        return {
            "family": family,
            "given": given or "花子",
            "family_kana": "イガ",
            "given_kana": "ハナコ",
        }
    if t == FieldType.DATE:
        if field.min == "today":
            return (today + dt.timedelta(days=10)).isoformat()
        if field.max == "today" or field.max is None:
            return (today - dt.timedelta(days=365 * 30)).isoformat()
        return today.isoformat()
    if t in (FieldType.CHOICE, FieldType.SELECT):
        return field.choices[0].value
    if t == FieldType.MULTICHOICE:
        return [field.choices[0].value]
    if t == FieldType.YESNO:
        return False
    if t == FieldType.CONSENT:
        return True
    if t == FieldType.SIGNATURE:
        return {"typed": user.display_name or "伊賀 花子"}
    if t == FieldType.NUMBER:
        return int(field.min) if isinstance(field.min, int) and field.min > 0 else 1
    if t == FieldType.EMAIL:
        return user.email
    if t == FieldType.PHONE:
        return "0595-00-0000"
    if t == FieldType.POSTAL_CODE:
        return "518-0000"
    if t == FieldType.ADDRESS:
        return "三重県伊賀市上野丸之内（架空の住所）"
    if t in (FieldType.TEXT, FieldType.TEXTAREA):
        return "デモ"
    if t == FieldType.GROUP:
        item = {sub.key: _example(sub, user, today) for sub in field.fields if sub.has_value}
        return [{k: v for k, v in item.items() if v is not None}] * max(field.min_items, 1)
    return None


def _answers(application: Application, user: User) -> dict[str, Any] | None:
    spec = applications.spec_of(application.version_id)
    today = timezone.localdate()
    data = dict(applications.answers(application))
    for f in spec.fields():
        current = data.get(f.key)
        if f.type == FieldType.NAME and isinstance(current, dict):
            # Prefilled names carry no reading (the card has none): make one up.
            current.setdefault("family_kana", "")
            current["family_kana"] = current["family_kana"] or "イガ"
            current["given_kana"] = current.get("given_kana") or "ハナコ"
        if f.has_value and f.key not in data and not f.counter_only:
            value = _example(f, user, today)
            if value is not None:
                data[f.key] = value
    cleaned, errors = validate.clean_all(spec, data, today=today)
    return None if errors else cleaned


def seed_demo_applications() -> int:
    """Create the demo applications once; return how many were created."""
    residents = {p.email: p for p in demo_data().residents}
    users = {u.email: u for u in User.objects.filter(email__in=list(residents))}
    if not users or Application.objects.filter(applicant__in=users.values()).exists():
        return 0
    actor = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    created = 0
    with transaction.atomic():
        for email, slug, statuses, message in DEMO:
            user = users.get(email)
            procedure = Procedure.objects.filter(slug=slug).first()
            if user is None or procedure is None:
                continue
            app = applications.start(procedure, user, assurance="password", language="ja")
            data = _answers(app, user)
            if data is None:
                continue
            app.data = data
            app.save(update_fields=["data"])
            app = applications.submit(app, actor=user, assurance="card")
            created += 1
            if actor is None:
                continue
            for i, status in enumerate(statuses):
                last = i == len(statuses) - 1
                text = message if last and message else ""
                if status in (Status.NEEDS_INFO, Status.REJECTED) and not text:
                    text = "確認のため、お電話ください。"
                cases.transition(app, status, actor=actor, message=text)
                app.refresh_from_db()
        # One unfinished application, to show save and resume.
        user = users.get("easy@example.jp")
        procedure = Procedure.objects.filter(slug="tenshutsu").first()
        if user is not None and procedure is not None:
            applications.start(procedure, user, assurance="password", language="ja-easy")
    return created
