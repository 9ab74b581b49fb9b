"""FAQ pages: the staff console (permissions, validation, edit, translations, upload) and
the residents' pages (categories, search, an entry in ja and en, feedback)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cityhall.inquiries.models import FaqEntry, FaqImport, FaqText
from cityhall.inquiries.services import faq, search
from tests.conftest import login_staff, make_staff
from tests.inquiries.faq_support import csv_text, default_csv, department

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    dept = department()
    other = department("zeimu", "税務課")
    faq.import_csv(default_csv().encode(), "faq.csv")
    tax = faq.create_entry(
        key="tax-001",
        question="税の証明書は?",
        answer="税務課で。",
        category="tax",
        department=other,
    )
    return {"dept": dept, "other": other, "gomi": FaqEntry.objects.get(key="gomi-001"), "tax": tax}


# --- staff ---------------------------------------------------------------------------------


def test_staff_pages_need_a_working_member_of_staff(client: Any, world: dict[str, Any]) -> None:
    auditor = make_staff("auditor@city.iga.example", "auditor")
    login_staff(client, auditor)
    for name, args in [
        ("inqstaff:faq", []),
        ("inqstaff:faq_new", []),
        ("inqstaff:faq_import", []),
        ("inqstaff:faq_entry", [world["gomi"].pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 403


def test_clerk_edits_own_departments_entries_only(clerk_client: Any, world: dict[str, Any]) -> None:
    response = clerk_client.get(reverse("inqstaff:faq"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "粗大ごみはどうやって出しますか" in body and "税の証明書は?" in body
    assert (
        clerk_client.get(reverse("inqstaff:faq_entry", args=[world["gomi"].pk])).status_code == 200
    )
    assert (
        clerk_client.get(reverse("inqstaff:faq_entry", args=[world["tax"].pk])).status_code == 403
    )
    url = reverse("inqstaff:faq_text", args=[world["tax"].pk, "en"])
    assert clerk_client.post(url, {"question": "x", "answer": "y"}).status_code == 403


def test_staff_list_filters(clerk_client: Any, world: dict[str, Any]) -> None:
    url = reverse("inqstaff:faq")
    body = clerk_client.get(url, {"category": "tax"}).content.decode()
    assert "税の証明書は?" in body and "粗大ごみ" not in body
    body = clerk_client.get(url, {"department": "shimin-seikatsu"}).content.decode()
    assert "粗大ごみ" in body and "税の証明書は?" not in body
    body = clerk_client.get(url, {"missing": "en"}).content.decode()
    assert "住民票の写し" in body and "粗大ごみはどうやって" not in body
    world["tax"].review_on = "2000-01-01"
    world["tax"].save()
    body = clerk_client.get(url, {"due": "on"}).content.decode()
    assert "税の証明書は?" in body and "粗大ごみ" not in body
    body = clerk_client.get(url, {"q": "tax-001"}).content.decode()
    assert "税の証明書は?" in body and "粗大ごみ" not in body


def test_new_entry_validation_shows_an_error_summary(
    clerk_client: Any, world: dict[str, Any]
) -> None:
    response = clerk_client.post(
        reverse("inqstaff:faq_new"),
        {
            "key": "bad/key",
            "question": "",
            "answer": "回答は残ります",
            "category": "garbage",
            "procedures": "no-such-procedure",
            "url": "not a url",
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="error-summary"' in body
    assert "no-such-procedure" in body and "回答は残ります" in body  # input kept
    assert not FaqEntry.objects.filter(key="bad/key").exists()
    # Another department's code is not a choice for a clerk.
    response = clerk_client.post(
        reverse("inqstaff:faq_new"),
        {
            "key": "x-1",
            "question": "Q",
            "answer": "A",
            "category": "tax",
            "department": world["other"].pk,
        },
    )
    assert response.status_code == 422


def test_new_entry_with_procedure_from_the_catalogue(
    clerk_client: Any, world: dict[str, Any]
) -> None:
    from cityhall.procedures.models import Procedure

    Procedure.objects.create(
        slug="juminhyo",
        department=world["dept"],
        category="residency",
        texts={"title": {"ja": "住民票の写しの交付", "en": "Copy of residence record"}},
    )
    response = clerk_client.post(
        reverse("inqstaff:faq_new"),
        {
            "key": "new-001",
            "question": "新しい質問",
            "answer": "新しい回答",
            "category": "residency",
            "department": world["dept"].pk,
            "procedures": "juminhyo",
            "url": "https://www.city.iga.lg.jp/",
            "review_on": "2031-01-31",
            "published": "on",
        },
    )
    assert response.status_code == 302
    entry = FaqEntry.objects.get(key="new-001")
    assert entry.procedures == ["juminhyo"] and entry.published
    assert faq.text_for(entry, "ja").question == "新しい質問"  # type: ignore[union-attr]
    # The public page links the procedure.
    body = clerk_client.get(reverse("inquiries:faq_entry", args=["new-001"])).content.decode()
    assert reverse("procedures:detail", args=["juminhyo"]) in body


def test_edit_changes_what_search_and_pages_find(clerk_client: Any, world: dict[str, Any]) -> None:
    gomi = world["gomi"]
    response = clerk_client.post(
        reverse("inqstaff:faq_entry", args=[gomi.pk]),
        {
            "question": "粗大ごみ（大きなごみ）の出し方",
            "answer": "受付センターへ電話してください。",
            "keywords": "ソファ 冷蔵庫",
            "category": "garbage",
            "department": world["dept"].pk,
            "procedures": "",
            "url": "",
            "review_on": "",
            "published": "on",
        },
    )
    assert response.status_code == 302
    text = FaqText.objects.get(entry=gomi, language="ja")
    assert text.question == "粗大ごみ（大きなごみ）の出し方" and text.keywords == "ソファ 冷蔵庫"
    hits = search.search("冷蔵庫", "ja")
    if hits:  # the search engine is in place: it finds the new words
        assert hits[0].key == "gomi-001"
    body = clerk_client.get(reverse("inquiries:faq_entry", args=["gomi-001"])).content.decode()
    assert "粗大ごみ（大きなごみ）の出し方" in body


def test_translation_page_saves_and_deletes(clerk_client: Any, world: dict[str, Any]) -> None:
    gomi = world["gomi"]
    url = reverse("inqstaff:faq_text", args=[gomi.pk, "vi"])
    assert clerk_client.get(url).status_code == 200
    response = clerk_client.post(url, {"action": "save", "question": "", "answer": "x"})
    assert response.status_code == 422 and b'id="error-summary"' in response.content
    response = clerk_client.post(
        url, {"action": "save", "question": "Rác cồng kềnh?", "answer": "Gọi trung tâm."}
    )
    assert response.status_code == 302
    assert FaqText.objects.get(entry=gomi, language="vi").question == "Rác cồng kềnh?"
    assert clerk_client.post(url, {"action": "delete"}).status_code == 302
    assert not FaqText.objects.filter(entry=gomi, language="vi").exists()
    ja_url = reverse("inqstaff:faq_text", args=[gomi.pk, "ja"])
    assert clerk_client.get(ja_url).status_code == 302
    assert clerk_client.get(reverse("inqstaff:faq_text", args=[gomi.pk, "xx"])).status_code == 404


def test_csv_upload_reports_or_lists_the_errors(clerk_client: Any, world: dict[str, Any]) -> None:
    url = reverse("inqstaff:faq_import")
    assert clerk_client.get(url).status_code == 200
    bad = csv_text(",質問,回答,,,,,,,", "b-1,質問,,,,,,,,").encode("cp932")
    response = clerk_client.post(url, {"file": SimpleUploadedFile("bad.csv", bad)})
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="error-summary"' in body and 'id="row-errors"' in body
    assert '<th scope="row">2</th>' in body and '<th scope="row">3</th>' in body
    good = csv_text("c-1,びんの出し方,資源ごみの日に出します。,garbage,,,,,,").encode()
    response = clerk_client.post(url, {"file": SimpleUploadedFile("good.csv", good)})
    assert response.status_code == 200
    assert 'id="import-report"' in response.content.decode()
    assert FaqEntry.objects.filter(key="c-1").exists()
    record = FaqImport.objects.get(filename="good.csv")
    assert record.imported_by is not None
    response = clerk_client.post(url, {"file": SimpleUploadedFile("good.csv", good)})
    assert response.status_code == 200
    assert FaqImport.objects.filter(filename="good.csv").count() == 1
    response = clerk_client.post(url, {})
    assert response.status_code == 422


# --- residents ------------------------------------------------------------------------------


def test_faq_index_lists_categories_with_counts(client: Any, world: dict[str, Any]) -> None:
    response = client.get(reverse("inquiries:faq"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "?category=garbage" in body and "?category=tax" in body
    body = client.get(reverse("inquiries:faq"), {"category": "garbage"}).content.decode()
    assert "粗大ごみはどうやって出しますか" in body
    assert client.get(reverse("inquiries:faq"), {"category": "nope"}).status_code == 422
    response = client.get(reverse("inquiries:faq"), {"q": "粗大ごみ"})
    assert response.status_code == 200
    assert 'role="search"' in response.content.decode()


def test_entry_in_japanese_and_english(client: Any, world: dict[str, Any]) -> None:
    url = reverse("inquiries:faq_entry", args=["gomi-001"])
    body = client.get(url).content.decode()
    assert "粗大ごみはどうやって出しますか" in body
    assert 'lang="ja"' in body and "0595-22-9621" in body and "市民生活課" in body
    assert "https://www.city.iga.lg.jp/gomi" in body
    assert reverse("inquiries:contact") + "?faq=gomi-001" in body
    client.cookies["cityhall_lang"] = "en"
    response = client.get(url)
    body = response.content.decode()
    assert "How do I put out bulky waste?" in body
    assert 'class="faq-entry" lang="en"' in body
    assert "not yet available in your language" not in body
    assert "Citizen Services Division" in body
    assert "private" in response["Cache-Control"]
    # Only Japanese: shown in Japanese, marked lang="ja", with a note in English.
    body = client.get(reverse("inquiries:faq_entry", args=["tax-001"])).content.decode()
    assert "税の証明書は?" in body and 'class="faq-entry" lang="ja"' in body
    assert "not yet available in your language" in body


def test_unknown_or_unpublished_entries_are_404(client: Any, world: dict[str, Any]) -> None:
    assert client.get(reverse("inquiries:faq_entry", args=["nope"])).status_code == 404
    faq.unpublish(world["tax"])
    assert client.get(reverse("inquiries:faq_entry", args=["tax-001"])).status_code == 404


def test_feedback_without_javascript_and_with_csrf(world: dict[str, Any]) -> None:
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    url = reverse("inquiries:faq_entry", args=["gomi-001"])
    assert browser.post(url, {"helpful": "yes"}).status_code == 403  # no token
    page = browser.get(url)
    token = page.context["csrf_token"]
    response = browser.post(url, {"helpful": "yes", "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302 and response["Location"].endswith("?thanks=1#feedback")
    browser.post(url, {"helpful": "no", "csrfmiddlewaretoken": str(token)})
    assert (
        browser.post(url, {"helpful": "maybe", "csrfmiddlewaretoken": str(token)}).status_code
        == 422
    )
    world["gomi"].refresh_from_db()
    assert (world["gomi"].helpful_count, world["gomi"].unhelpful_count) == (1, 1)
    browser.cookies["cityhall_lang"] = "en"
    body = browser.get(url + "?thanks=1").content.decode()
    assert "Thank you for your feedback." in body and 'name="helpful"' not in body
