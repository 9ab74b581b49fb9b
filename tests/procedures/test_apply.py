"""The resident's online application, through the real views, database, SMTP and PDF."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from cityhall.procedures.models import Application, ApplicationEvent, Attachment, Status
from cityhall.procedures.services import applications
from tests.conftest import make_resident, make_staff
from tests.procedures.test_apply_support import (
    STEP1,
    STEP2,
    STEP4,
    fill_all,
    forget_parsed_forms,
    make_procedure,
    pdf_bytes,
    png_bytes,
    start,
    step_url,
    upload,
    use_media,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_forms() -> Iterator[None]:
    forget_parsed_forms()
    yield
    forget_parsed_forms()


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    return use_media(settings, tmp_path)


@pytest.fixture
def procedure(db: Any, media: Any) -> Any:
    return make_procedure()


def html(response: Any) -> str:
    return response.content.decode()


def test_start_page_needs_login_and_explains(client: Any, procedure: Any) -> None:
    url = reverse("procedures:apply_start", args=[procedure.slug])
    response = client.get(url)
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("people:login")
    assert "next=" + url in response["Location"]

    client.force_login(make_resident())
    client.cookies["cityhall_lang"] = "en"
    page = html(client.get(url))
    assert "Test allowance" in page
    assert "Your insurance card" in page  # what to bring
    assert "About you" in page and "Your children" in page  # the steps
    assert "Start now" in page
    assert "Proof of identity" not in page


def test_full_online_application(resident_client: Any, resident: Any, procedure: Any) -> None:
    resident_client.cookies["cityhall_lang"] = "en"
    app = start(resident_client, procedure)
    assert app.status == Status.DRAFT and app.via == Application.Via.ONLINE

    # Step 1: step indicator, back link, composite inputs with autocomplete.
    response = resident_client.get(step_url(app, "applicant"))
    page = html(response)
    assert response.status_code == 200
    assert "Step 1 of 4" in page
    assert 'autocomplete="family-name"' in page and 'autocomplete="given-name"' in page
    assert 'autocomplete="postal-code"' in page and 'inputmode="numeric"' in page
    assert 'type="tel"' in page and 'autocomplete="tel"' in page
    assert '<option value="R">令和 (Reiwa)</option>' in page
    assert "(optional)" in page
    response = resident_client.post(step_url(app, "applicant"), STEP1)
    assert response.status_code == 302
    assert response["Location"] == step_url(app, "family")

    # Step 2: "Add another" and "Remove" re-render without validating.
    response = resident_client.post(
        step_url(app, "family"),
        {
            "has_children": "yes",
            "_add": "children",
            "children-count": "1",
            "children-0-name-family": "伊賀",
        },
    )
    page = html(response)
    assert response.status_code == 200
    assert "error-summary" not in page
    assert "Child 2" in page and 'name="children-1-name-family"' in page
    assert 'value="伊賀"' in page  # the typed input is kept
    response = resident_client.post(
        step_url(app, "family"),
        {
            "has_children": "yes",
            "children-count": "2",
            "children-0-name-family": "甲",
            "children-1-name-family": "乙",
            "_remove": "children.0",
        },
    )
    page = html(response)
    assert 'name="children-1-name-family"' not in page and 'value="乙"' in page
    response = resident_client.post(step_url(app, "family"), STEP2)
    assert response.status_code == 302, html(response)

    # Step 3: a real PNG, checked by its content.
    response = resident_client.post(
        step_url(app, "documents"),
        {
            "photo-upload": upload("card.png", png_bytes()),
            "bank": "iga",
            "contact_ways": ["mail", "phone"],
        },
    )
    assert response.status_code == 302, html(response)
    # Step 4: consent and signature, then the check page.
    response = resident_client.post(step_url(app, "confirm"), STEP4)
    assert response["Location"] == reverse("procedures:apply_check", args=[app.pk])

    app.refresh_from_db()
    data = applications.answers(app)
    assert data["name"] == {
        "family": "伊賀",
        "given": "花子",
        "family_kana": "イガ",
        "given_kana": "ハナコ",
    }
    assert data["birthdate"] == "1985-04-01"
    assert data["phone"] == "0595-22-2500" and data["postal_code"] == "518-8501"
    assert data["children"][1] == {
        "name": {"family": "伊賀", "given": "次郎", "family_kana": "イガ", "given_kana": "ジロウ"},
        "birthdate": "2022-01-20",
        "relation": "other",
        "relation_other": "孫",
    }
    assert "relation_other" not in data["children"][0]
    assert data["contact_ways"] == ["mail", "phone"]
    assert data["agree"] is True and data["signature"] == {"typed": "伊賀 花子"}
    photo = Attachment.objects.get(pk=data["photo"][0])
    assert photo.content_type == "image/png" and photo.application_id == app.pk

    check = html(resident_client.get(reverse("procedures:apply_check", args=[app.pk])))
    assert "伊賀 花子 (イガ ハナコ)" in check
    assert "Iga Bank" in check and "孫" in check
    assert step_url(app, "family") + "?return=check" in check  # "Change" links
    assert "Answers still needed" not in check

    response = resident_client.post(reverse("procedures:apply_submit", args=[app.pk]))
    assert response["Location"] == reverse("procedures:apply_done", args=[app.pk])
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED and applications.is_valid_reference(app.reference)
    assert app.applicant_name == "伊賀 花子"
    done = html(resident_client.get(response["Location"]))
    assert app.reference in done
    assert reverse("procedures:application_pdf", args=[app.pk]) in done
    assert "Pay" not in done  # no fee


def test_change_link_returns_to_the_check_page(resident_client: Any, procedure: Any) -> None:
    app = start(resident_client, procedure)
    fill_all(resident_client, app)
    url = step_url(app, "applicant") + "?return=check"
    page = html(resident_client.get(url))
    assert 'name="return" value="check"' in page
    assert 'value="花子"' in page  # the saved answers fill the step again
    changed = {**STEP1, "name-given": "春子", "return": "check"}
    response = resident_client.post(step_url(app, "applicant"), changed)
    assert response["Location"] == reverse("procedures:apply_check", args=[app.pk])
    app.refresh_from_db()
    assert app.data["name"]["given"] == "春子"


def test_steps_cannot_be_skipped_and_unknown_steps_are_404(
    resident_client: Any, procedure: Any
) -> None:
    app = start(resident_client, procedure)
    response = resident_client.get(step_url(app, "confirm"))
    assert response["Location"] == step_url(app, "applicant")
    assert resident_client.get(step_url(app, "nosuchstep")).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_receipt_email_arrives_with_the_reference(
    client: Any, smtp_server: Any, settings: Any, media: Any
) -> None:
    settings.SITE_URL = "https://city.example"
    resident = make_resident("mail.me@example.jp")
    client.force_login(resident)
    procedure = make_procedure()
    app = start(client, procedure)
    fill_all(client, app)
    client.post(reverse("procedures:apply_submit", args=[app.pk]))
    app.refresh_from_db()
    message = smtp_server.last_to("mail.me@example.jp")
    body = message.get_body(("plain",)).get_content()
    assert app.reference in str(message["Subject"])
    assert app.reference in body
    assert "https://city.example" + reverse("procedures:application", args=[app.pk]) in body


def test_prefill_from_the_profile(client: Any, procedure: Any) -> None:
    resident = make_resident(
        "prefill@example.jp",
        phone="0595-21-0000",
        postal_code="518-0873",
        address="伊賀市上野丸之内",
    )
    resident.display_name = "上野 太郎"
    resident.save()
    client.force_login(resident)
    app = start(client, procedure)
    assert app.data["email"] == "prefill@example.jp"
    assert app.data["phone"] == "0595-21-0000"
    assert app.data["name"]["family"] == "上野" and app.data["name"]["given"] == "太郎"
    page = html(client.get(step_url(app, "applicant")))
    assert 'value="prefill@example.jp"' in page
    assert 'value="518-0873"' in page and 'value="伊賀市上野丸之内"' in page
    assert "birthdate" not in app.data  # only a verified identity knows it


def _card_session(client: Any, user: Any) -> None:
    from tests.oidc_provider import harness

    session = client.session
    session.update(
        {
            "assurance": "card",
            "assurance_at": dt.datetime.now(dt.UTC).isoformat(),
            "assurance_acr": harness.CARD_ACR,
            "assurance_user": user.pk,
        }
    )
    session.save()


def test_prefill_from_the_verified_identity_needs_card_assurance(
    client: Any, procedure: Any
) -> None:
    from django.utils import timezone

    from cityhall.people.models import VerifiedIdentity

    resident = make_resident("card@example.jp")
    VerifiedIdentity.objects.create(
        user=resident,
        name="伊賀 次郎",
        address="三重県伊賀市上野",
        birthdate=dt.date(1990, 2, 3),
        verified_at=timezone.now(),
        issuer="https://idp.example",
    )
    client.force_login(resident)
    # A password session does not get the verified identity.
    app = start(client, procedure)
    assert "birthdate" not in app.data and "address" not in app.data
    assert (app.data.get("name") or {}).get("family") != "伊賀"
    client.post(reverse("procedures:apply_discard", args=[app.pk]))

    _card_session(client, resident)
    app = start(client, procedure)
    assert app.data["name"]["family"] == "伊賀" and app.data["name"]["given"] == "次郎"
    assert app.data["birthdate"] == "1990-02-03"
    assert app.data["address"] == "三重県伊賀市上野"
    assert "identity.name" in app.prefill_sources
    page = html(client.get(step_url(app, "applicant")))
    # The 和暦 date field shows the verified date in its era.
    assert '<option value="H" selected>' in page
    assert 'name="birthdate-year" value="2"' in page


def test_prefill_from_the_previous_application(resident_client: Any, procedure: Any) -> None:
    app = start(resident_client, procedure)
    fill_all(resident_client, app)
    resident_client.post(reverse("procedures:apply_submit", args=[app.pk]))
    again = make_procedure("second-allowance")
    second = start(resident_client, again)
    assert second.pk != app.pk
    assert second.data["name"]["given"] == "花子"  # previous answer beats the profile
    assert second.data["birthdate"] == "1985-04-01"
    assert second.data["phone"] == "0595-22-2500"
    assert "previous" in second.prefill_sources


def test_save_and_finish_later_never_loses_input(resident_client: Any, procedure: Any) -> None:
    app = start(resident_client, procedure)
    bad = {**STEP1, "email": "not-an-email", "birthdate-month": "13", "_save": "1"}
    response = resident_client.post(step_url(app, "applicant"), bad)
    assert response["Location"] == reverse("procedures:apply_saved", args=[app.pk])
    app.refresh_from_db()
    assert app.data["_unchecked"]["applicant"]["email"] == "not-an-email"
    page = html(resident_client.get(response["Location"]))
    assert "回答を保存しました" in page
    # Coming back shows exactly what was typed, invalid or not.
    page = html(resident_client.get(step_url(app, "applicant")))
    assert 'value="not-an-email"' in page and 'name="birthdate-month" value="13"' in page
    assert "error-summary" not in page
    # A valid "save" keeps the answers and moves on.
    response = resident_client.post(step_url(app, "applicant"), {**STEP1, "_save": "1"})
    app.refresh_from_db()
    assert app.step == 1 and "_unchecked" not in app.data
    assert app.data["email"] == "hanako@example.jp"


def test_a_failed_continue_keeps_the_input_too(resident_client: Any, procedure: Any) -> None:
    app = start(resident_client, procedure)
    response = resident_client.post(step_url(app, "applicant"), {**STEP1, "email": "x@"})
    assert response.status_code == 422
    app.refresh_from_db()
    assert app.data["_unchecked"]["applicant"]["email"] == "x@"


@pytest.mark.django_db(transaction=True)
def test_resume_link_by_email(client: Any, smtp_server: Any, settings: Any, media: Any) -> None:
    settings.SITE_URL = "https://city.example"
    client.cookies["cityhall_lang"] = "en"
    resident = make_resident("resume@example.jp")
    client.force_login(resident)
    procedure = make_procedure()
    app = start(client, procedure)
    client.post(step_url(app, "applicant"), STEP1)
    client.post(step_url(app, "family"), {"has_children": "no", "_save": "1"})
    response = client.post(reverse("procedures:apply_saved", args=[app.pk]))
    assert response.status_code == 302
    message = smtp_server.last_to("resume@example.jp")
    body = message.get_body(("plain",)).get_content()
    match = re.search(r"https://city\.example(/resume/\S+/)", body)
    assert match, body
    assert "Test" in str(message["Subject"]) or "テスト" in str(message["Subject"])

    # The link works after logging in again, and leads to the first unfinished step.
    client.logout()
    response = client.get(match.group(1))
    assert urlsplit(response["Location"]).path == reverse("people:login")
    client.force_login(resident)
    response = client.get(match.group(1))
    assert response["Location"] == step_url(app, "documents")

    # Another account cannot use it; a broken link gets a friendly page.
    client.force_login(make_resident("someone.else@example.jp"))
    response = client.get(match.group(1))
    assert response.status_code == 404
    assert reverse("procedures:applications") in html(response)
    response = client.get(reverse("procedures:apply_resume", args=["garbage"]))
    assert response.status_code == 404
    assert reverse("procedures:applications") in html(response)


def test_submit_twice_makes_one_application_with_one_reference(
    resident_client: Any, procedure: Any
) -> None:
    app = start(resident_client, procedure)
    fill_all(resident_client, app)
    url = reverse("procedures:apply_submit", args=[app.pk])
    first = resident_client.post(url)
    second = resident_client.post(url)
    assert first["Location"] == second["Location"]
    app.refresh_from_db()
    assert Application.objects.filter(applicant=app.applicant).count() == 1
    assert (
        ApplicationEvent.objects.filter(
            application=app, kind=ApplicationEvent.Kind.SUBMITTED
        ).count()
        == 1
    )
    done = html(resident_client.get(second["Location"]))
    assert app.reference in done
    # Starting the same procedure again is a new draft, not the sent one.
    assert start(resident_client, procedure).pk != app.pk


def test_a_resident_sees_only_their_own_applications(
    client: Any, resident: Any, other_resident: Any, procedure: Any
) -> None:
    client.force_login(resident)
    app = start(client, procedure)
    fill_all(client, app)
    client.post(reverse("procedures:apply_submit", args=[app.pk]))
    app.refresh_from_db()
    photo = Attachment.objects.get(application=app)
    urls = [
        reverse("procedures:application", args=[app.pk]),
        reverse("procedures:application_pdf", args=[app.pk]),
        reverse("procedures:application_file", args=[app.pk, photo.pk]),
        reverse("procedures:application_withdraw", args=[app.pk]),
        reverse("procedures:apply_done", args=[app.pk]),
        reverse("procedures:apply_check", args=[app.pk]),
        reverse("procedures:apply_saved", args=[app.pk]),
        reverse("procedures:apply_discard", args=[app.pk]),
        step_url(app, "applicant"),
    ]
    assert client.get(urls[2]).status_code == 200
    client.force_login(other_resident)
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"message": "hi"}).status_code in (404, 405), url
    assert client.post(reverse("procedures:apply_submit", args=[app.pk])).status_code == 404
    # Their list does not show it either.
    assert app.reference not in html(client.get(reverse("procedures:applications")))
    # Nor can they attach the file to their own application by its id.
    mine = start(client, procedure)
    client.post(step_url(mine, "applicant"), STEP1)
    client.post(step_url(mine, "family"), {"has_children": "no"})
    client.post(step_url(mine, "documents"), {"photo": str(photo.pk), "bank": "iga"})
    mine.refresh_from_db()
    assert "photo" not in mine.data
    assert photo.pk not in (mine.data.get("_unchecked", {}).get("documents", {}).get("photo") or [])


def test_staff_accounts_are_refused(client: Any, procedure: Any) -> None:
    from tests.conftest import login_staff

    staff = make_staff("clerk.apply@city.iga.example", "clerk")
    login_staff(client, staff)
    for url in (
        reverse("procedures:apply_start", args=[procedure.slug]),
        reverse("procedures:applications"),
        reverse("procedures:application", args=[1]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("staff:home"), url
    response = client.post(reverse("procedures:apply_start", args=[procedure.slug]))
    assert response["Location"] == reverse("staff:home")
    assert not Application.objects.exists()


def test_invalid_input_answers_422_in_japanese(resident_client: Any, procedure: Any) -> None:
    resident_client.cookies["cityhall_lang"] = "ja"
    app = start(resident_client, procedure)
    bad = {**STEP1, "name-given": "", "email": "not-an-email", "name-family_kana": "Iga"}
    response = resident_client.post(step_url(app, "applicant"), bad)
    page = html(response)
    assert response.status_code == 422
    assert '<html lang="ja"' in page
    assert "入力内容に問題があります" in page  # "There is a problem"
    assert "正しいメールアドレスを入力してください。" in page
    # Each error links to an input that exists on the page.
    for anchor in re.findall(
        r'<a href="#([^"]+)">', page.split('id="error-summary"')[1].split("</ul>")[0]
    ):
        assert f'id="{anchor}"' in page, anchor
    assert 'href="#id_name-family_kana"' in page and 'href="#id_email"' in page
    assert 'aria-invalid="true"' in page
    # A missing part of a name links to that part.
    response = resident_client.post(step_url(app, "applicant"), {**STEP1, "name-given": ""})
    assert response.status_code == 422 and 'href="#id_name-given"' in html(response)


def test_required_message_in_japanese(resident_client: Any, procedure: Any) -> None:
    resident_client.cookies["cityhall_lang"] = "ja"
    app = start(resident_client, procedure)
    response = resident_client.post(step_url(app, "applicant"), {**STEP1, "email": ""})
    assert response.status_code == 422
    assert "この項目は入力が必要です。" in html(response)


def test_files_are_checked_by_content_not_name(resident_client: Any, procedure: Any) -> None:
    app = start(resident_client, procedure)
    resident_client.post(step_url(app, "applicant"), STEP1)
    resident_client.post(step_url(app, "family"), {"has_children": "no"})
    url = step_url(app, "documents")
    resident_client.cookies["cityhall_lang"] = "en"
    for name, data in (
        ("card.png", pdf_bytes()),  # a PDF called .png (the field takes only images)
        ("card.png", b"just some text, not a picture"),
        ("card.png", png_bytes()[:40]),  # a broken PNG
    ):
        response = resident_client.post(url, {"photo-upload": upload(name, data), "bank": "iga"})
        assert response.status_code == 422, name
        assert "This type of file cannot be used. Use JPEG or PNG." in html(response)
    response = resident_client.post(
        url,
        {"photo-upload": upload("big.png", b"\x89PNG" + b"0" * (1024 * 1024 + 10)), "bank": "iga"},
    )
    assert response.status_code == 422
    assert "The file is too large (max 1 MB)." in html(response)
    assert not Attachment.objects.exists()
    response = resident_client.post(
        url, {"photo-upload": upload("photo.txt", png_bytes(), "text/plain"), "bank": "iga"}
    )
    assert response.status_code == 302  # a real PNG, whatever its name and type say
    assert Attachment.objects.get().content_type == "image/png"


def test_uploaded_files_are_listed_and_can_be_removed(resident_client: Any, procedure: Any) -> None:
    app = start(resident_client, procedure)
    resident_client.post(step_url(app, "applicant"), STEP1)
    resident_client.post(step_url(app, "family"), {"has_children": "no"})
    url = step_url(app, "documents")
    # An upload next to another error is kept: the page lists it, nothing to upload again.
    response = resident_client.post(url, {"photo-upload": upload("card.png", png_bytes())})
    assert response.status_code == 422
    photo = Attachment.objects.get()
    page = html(response)
    assert f'name="photo" value="{photo.pk}"' in page and "card.png" in page
    assert reverse("procedures:application_file", args=[app.pk, photo.pk]) in page
    file_response = resident_client.get(
        reverse("procedures:application_file", args=[app.pk, photo.pk])
    )
    assert file_response["Content-Type"] == "image/png"
    assert b"".join(file_response.streaming_content) == png_bytes()
    # Remove it (re-renders without validating).
    response = resident_client.post(
        url, {"photo": str(photo.pk), "bank": "iga", "_remove_file": f"photo.{photo.pk}"}
    )
    assert response.status_code == 200
    assert f'name="photo" value="{photo.pk}"' not in html(response)
    response = resident_client.post(url, {"bank": "iga"})
    assert response.status_code == 422  # the photo is required


def test_identity_required_sends_to_the_step_up(client: Any, media: Any) -> None:
    from cityhall.people.services import identity

    resident = make_resident("needs.card@example.jp")
    client.force_login(resident)
    procedure = make_procedure("card-only", requires_identity=True)
    start_page = html(client.get(reverse("procedures:apply_start", args=[procedure.slug])))
    assert "/account/oidc/start/" in start_page
    app = start(client, procedure)
    fill_all(client, app)
    check_url = reverse("procedures:apply_check", args=[app.pk])
    assert identity.step_up_url(check_url).replace("&", "&amp;") in html(client.get(check_url))
    response = client.post(reverse("procedures:apply_submit", args=[app.pk]))
    assert response["Location"] == identity.step_up_url(check_url)
    app.refresh_from_db()
    assert app.status == Status.DRAFT
    _card_session(client, resident)
    response = client.post(reverse("procedures:apply_submit", args=[app.pk]))
    assert response["Location"] == reverse("procedures:apply_done", args=[app.pk])
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED and app.assurance == "card"


def test_incomplete_submission_goes_back_to_check_with_errors(
    resident_client: Any, procedure: Any
) -> None:
    app = start(resident_client, procedure)
    resident_client.post(step_url(app, "applicant"), STEP1)
    app.refresh_from_db()
    app.step = 4  # as if every step had been passed
    app.save()
    response = resident_client.post(reverse("procedures:apply_submit", args=[app.pk]))
    assert response.status_code == 422
    page = html(response)
    assert 'class="error-summary"' in page
    assert step_url(app, "family") + "?return=check" in page
    assert step_url(app, "confirm") + "?return=check" in page
    app.refresh_from_db()
    assert app.status == Status.DRAFT


def test_fee_without_a_hook_says_pay_at_the_counter(resident_client: Any, media: Any) -> None:
    from cityhall.procedures.services import hooks

    resident_client.cookies["cityhall_lang"] = "en"
    procedure = make_procedure("with-fee", fee_yen=300)
    app = start(resident_client, procedure)
    fill_all(resident_client, app)
    assert "¥300" in html(resident_client.get(reverse("procedures:apply_check", args=[app.pk])))
    resident_client.post(reverse("procedures:apply_submit", args=[app.pk]))
    done = html(resident_client.get(reverse("procedures:apply_done", args=[app.pk])))
    assert "pay it at the counter" in done and "Pay the fee" not in done

    procedure.fee_hook = "test.fee"
    procedure.save()
    hooks.register_fee_hook("test.fee", lambda a: f"/pay/{a.reference}/")
    try:
        done = html(resident_client.get(reverse("procedures:apply_done", args=[app.pk])))
        app.refresh_from_db()
        assert "Pay the fee" in done and f"/pay/{app.reference}/" in done
    finally:
        hooks.FEE_HOOKS.pop("test.fee", None)


def test_a_broken_draft_never_fails(resident_client: Any, procedure: Any) -> None:
    app = start(resident_client, procedure)
    app.data = {
        "name": "not a mapping",
        "birthdate": ["odd"],
        "email": 12,
        "children": "oops",
        "has_children": {"x": 1},
        "photo": ["a", None, 99999],
        "signature": 5,
        "agree": "maybe",
        "contact_ways": "mail",
        "_unchecked": {
            "family": {"children": {"0": 5, "x": []}, "has_children": ["yes", "no"]},
            "documents": "not even a dict",
            "confirm": {"signature": {"typed": ["x"], "attachment": "nope"}, "agree": {"a": 1}},
        },
    }
    app.step = 4
    app.save()
    for key in ("applicant", "family", "documents", "confirm"):
        assert resident_client.get(step_url(app, key)).status_code == 200, key
    assert resident_client.get(reverse("procedures:apply_check", args=[app.pk])).status_code == 200
    assert resident_client.get(reverse("procedures:applications")).status_code == 200
    response = resident_client.post(reverse("procedures:apply_submit", args=[app.pk]))
    assert response.status_code == 422
    # The resident can still fix it step by step ...
    assert resident_client.post(step_url(app, "applicant"), STEP1).status_code == 302
    # ... or delete it.
    response = resident_client.post(reverse("procedures:apply_discard", args=[app.pk]))
    assert response["Location"] == reverse("procedures:applications")
    assert not Application.objects.filter(pk=app.pk).exists()


def test_my_applications_lists_drafts_and_sent_ones(resident_client: Any, procedure: Any) -> None:
    resident_client.cookies["cityhall_lang"] = "en"
    sent = start(resident_client, procedure)
    fill_all(resident_client, sent)
    resident_client.post(reverse("procedures:apply_submit", args=[sent.pk]))
    sent.refresh_from_db()
    draft = start(resident_client, make_procedure("other-allowance"))
    page = html(resident_client.get(reverse("procedures:applications")))
    assert sent.reference in page and "Submitted" in page
    assert step_url(draft, "applicant") in page
    assert reverse("procedures:apply_discard", args=[draft.pk]) in page
    assert "<caption>" in page and 'scope="col"' in page


def test_application_page_history_reply_and_withdraw(
    resident_client: Any, resident: Any, procedure: Any
) -> None:
    resident_client.cookies["cityhall_lang"] = "en"
    app = start(resident_client, procedure)
    fill_all(resident_client, app)
    resident_client.post(reverse("procedures:apply_submit", args=[app.pk]))
    app.refresh_from_db()
    ApplicationEvent.objects.create(
        application=app,
        kind=ApplicationEvent.Kind.MESSAGE_TO_RESIDENT,
        text="保険証の裏面も送ってください。",
        visible_to_resident=True,
    )
    ApplicationEvent.objects.create(
        application=app, kind=ApplicationEvent.Kind.NOTE, text="internal only"
    )
    url = reverse("procedures:application", args=[app.pk])
    page = html(resident_client.get(url))
    assert "保険証の裏面も送ってください。" in page and "internal only" not in page
    assert "You sent the application." in page
    assert (
        reverse("procedures:application_file", args=[app.pk, Attachment.objects.get().pk]) in page
    )

    response = resident_client.post(url, {"message": ""})
    assert response.status_code == 422 and "error-summary" in html(response)
    response = resident_client.post(url, {"message": "裏面を送ります。"})
    assert response.status_code == 302
    replies = ApplicationEvent.objects.filter(
        application=app, kind=ApplicationEvent.Kind.MESSAGE_FROM_RESIDENT
    )
    assert [e.text for e in replies] == ["裏面を送ります。"]

    withdraw = reverse("procedures:application_withdraw", args=[app.pk])
    assert "Withdraw the application" in html(resident_client.get(withdraw))
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED  # asking is not doing
    assert resident_client.post(withdraw)["Location"] == url
    app.refresh_from_db()
    assert app.status == Status.WITHDRAWN
    assert resident_client.post(withdraw).status_code == 409


def test_receipt_pdf_for_the_resident(resident_client: Any, procedure: Any) -> None:
    from pypdf import PdfReader

    app = start(resident_client, procedure)
    fill_all(resident_client, app)
    resident_client.post(reverse("procedures:apply_submit", args=[app.pk]))
    app.refresh_from_db()
    response = resident_client.get(reverse("procedures:application_pdf", args=[app.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert app.reference in text and "テスト手当の申請" in text and "伊賀 花子" in text


def test_a_discarded_draft_takes_its_files_with_it(
    resident_client: Any, procedure: Any, django_capture_on_commit_callbacks: Any
) -> None:
    app = start(resident_client, procedure)
    resident_client.post(step_url(app, "applicant"), STEP1)
    resident_client.post(step_url(app, "family"), {"has_children": "no"})
    resident_client.post(step_url(app, "documents"), {"photo-upload": upload("a.png", png_bytes())})
    stored = Attachment.objects.get()
    path = stored.file.path
    page = html(resident_client.get(reverse("procedures:apply_discard", args=[app.pk])))
    assert "Delete" in page or "削除" in page
    with django_capture_on_commit_callbacks(execute=True):
        resident_client.post(reverse("procedures:apply_discard", args=[app.pk]))
    assert not Attachment.objects.exists()
    import os

    assert not os.path.exists(path)


def test_step_two_conditions_are_marked_for_the_script(
    resident_client: Any, procedure: Any
) -> None:
    resident_client.cookies["cityhall_lang"] = "en"
    app = start(resident_client, procedure)
    resident_client.post(step_url(app, "applicant"), STEP1)
    page = html(resident_client.get(step_url(app, "family")))
    condition = '{"name": "has_children", "values": ["yes"]}'.replace('"', "&quot;")
    assert f'data-condition="{condition}"' in page
    assert "Answer only if your answer to “Do you have children?” is “Yes”." in page
    assert "procedures/conditions.js" in page
    # "No": the group is not asked and its input is ignored.
    response = resident_client.post(
        step_url(app, "family"),
        {"has_children": "no", "children-count": "1", "children-0-name-family": "x"},
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.data["has_children"] is False and "children" not in app.data


def test_every_post_needs_the_csrf_token(resident: Any, procedure: Any) -> None:
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(resident)
    url = reverse("procedures:apply_start", args=[procedure.slug])
    assert strict.post(url).status_code == 403
    page = html(strict.get(url))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert strict.post(url, {"csrfmiddlewaretoken": token}).status_code == 302
    app = Application.objects.get()
    assert strict.post(step_url(app, "applicant"), STEP1).status_code == 403
    assert strict.post(reverse("procedures:apply_submit", args=[app.pk])).status_code == 403
    assert strict.post(reverse("procedures:apply_discard", args=[app.pk])).status_code == 403
    assert Application.objects.filter(pk=app.pk, step=0).exists()


def test_a_procedure_done_only_at_the_counter_cannot_be_started(
    resident_client: Any, media: Any
) -> None:
    resident_client.cookies["cityhall_lang"] = "en"
    procedure = make_procedure("counter-only", channel="counter")
    url = reverse("procedures:apply_start", args=[procedure.slug])
    page = html(resident_client.get(url))
    assert "cannot be done online" in page and "Start now" not in page
    response = resident_client.post(url)
    assert response.status_code == 409
    assert not Application.objects.exists()
    assert resident_client.get(reverse("procedures:apply_start", args=["nope"])).status_code == 404


def test_starting_again_continues_the_open_draft(resident_client: Any, procedure: Any) -> None:
    resident_client.cookies["cityhall_lang"] = "en"
    app = start(resident_client, procedure)
    resident_client.post(step_url(app, "applicant"), STEP1)
    page = html(resident_client.get(reverse("procedures:apply_start", args=[procedure.slug])))
    assert "Continue my application" in page
    response = resident_client.post(reverse("procedures:apply_start", args=[procedure.slug]))
    assert response["Location"] == step_url(app, "family")
    assert Application.objects.count() == 1
