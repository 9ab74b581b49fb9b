"""Articles in the staff console: who may draft, publish and approve; the forms with their
error summary; translations; files."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from cityhall.core.models import AuditEvent
from cityhall.notices.models import Article
from cityhall.notices.services import articles
from tests.conftest import login_staff, make_staff
from tests.notices.articles_support import PDF_BYTES, english, make_article, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def koho_client(client: Any) -> Any:
    return english(login_staff(client, make_staff("koho@city.iga.example", "clerk", "koho-kocho")))


@pytest.fixture
def writer_client(client: Any) -> Any:
    """A clerk of another department: drafts, does not publish."""
    user = make_staff("kosodate@city.iga.example", "clerk", "kosodate-shien")
    return english(login_staff(client, user))


def _new_article_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "子育て支援センターの土曜開館",
        "summary": "毎月第2・第4土曜日",
        "body_html": "<p>開館します。<script>x()</script></p>",
        "topic": "childcare",
        "audience": "families",
        "valid_from": "",
        "valid_until": "",
    }
    data.update(overrides)
    return data


def test_residents_and_staff_without_assignment_are_kept_out(client: Any, resident: Any) -> None:
    client.force_login(resident)
    response = client.get(reverse("noticestaff:articles"))
    assert response.status_code in (302, 403)
    client.logout()
    idle = make_staff("idle@city.iga.example", "auditor", "somu")
    login_staff(client, idle)
    assert client.get(reverse("noticestaff:articles")).status_code == 403
    assert client.get(reverse("noticestaff:article_new")).status_code == 403


def test_koho_writes_translates_approves_publishes_and_withdraws(koho_client: Any) -> None:
    response = koho_client.post(
        reverse("noticestaff:article_new"), _new_article_data(department="")
    )
    article = Article.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("noticestaff:article", args=[article.pk])
    assert article.versions.get(language="ja").body_html == "<p>開館します。</p>"

    page = koho_client.get(reverse("noticestaff:article", args=[article.pk])).content.decode()
    assert "Publish" in page and "Português" in page and "missing" in page

    version_url = reverse("noticestaff:article_version", args=[article.pk, "pt-br"])
    response = koho_client.post(
        version_url,
        {
            "title": "Centro abre aos sábados",
            "summary": "",
            "body_html": "<p>Abre.</p>",
            "machine_translated": "on",
        },
    )
    assert response.status_code == 302
    version = article.versions.get(language="pt-br")
    assert version.approved_at is None and version.machine_translated
    page = koho_client.get(version_url).content.decode()
    assert "needs approval" in page and 'lang="pt-BR"' in page
    koho_client.post(version_url, {"action": "approve"})
    version.refresh_from_db()
    assert version.approved_at is not None

    koho_client.post(reverse("noticestaff:article_publish", args=[article.pk]))
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    listing = koho_client.get(reverse("noticestaff:articles")).content.decode()
    assert "子育て支援センターの土曜開館" in listing and "Published" in listing

    koho_client.post(reverse("noticestaff:article_withdraw", args=[article.pk]))
    article.refresh_from_db()
    assert article.status == Article.Status.WITHDRAWN
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "notices.article.created",
        "notices.article.version_saved",
        "notices.article.version_approved",
        "notices.article.published",
        "notices.article.withdrawn",
    } <= actions


def test_form_errors_show_the_error_summary(koho_client: Any) -> None:
    response = koho_client.post(
        reverse("noticestaff:article_new"),
        _new_article_data(
            title="",
            body_html="<script>only()</script>",
            valid_from="2026-05-01T10:00",
            valid_until="2026-04-01T10:00",
        ),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="error-summary"' in page
    assert 'href="#id_title"' in page and 'href="#id_valid_until"' in page
    assert 'href="#id_body_html"' in page
    assert not Article.objects.exists()


def test_publishing_an_ended_article_explains_why(koho_client: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    past = timezone.now() - dt.timedelta(days=5)
    article = make_article(publish=False, valid_from=past, valid_until=past + dt.timedelta(days=1))
    response = koho_client.post(
        reverse("noticestaff:article_publish", args=[article.pk]), follow=True
    )
    assert "end date has passed" in response.content.decode()
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_a_writer_drafts_for_their_department_but_cannot_publish_or_approve(
    writer_client: Any,
) -> None:
    page = writer_client.get(reverse("noticestaff:article_new")).content.decode()
    assert "Child-Rearing Support" in page or "kosodate-shien" in page
    # the department is required for a writer
    response = writer_client.post(reverse("noticestaff:article_new"), _new_article_data())
    assert response.status_code == 422
    from cityhall.people.models import Department

    department = Department.objects.get(code="kosodate-shien")
    response = writer_client.post(
        reverse("noticestaff:article_new"), _new_article_data(department=department.pk)
    )
    assert response.status_code == 302
    article = Article.objects.get()
    assert (
        "Publish"
        not in writer_client.get(reverse("noticestaff:article", args=[article.pk]))
        .content.decode()
        .split("<main", 1)[1]
        .split("Languages", 1)[0]
    )
    assert (
        writer_client.post(reverse("noticestaff:article_publish", args=[article.pk])).status_code
        == 403
    )
    articles.save_version(article, "en", title="Open", body_html="<p>x</p>", actor=None)
    response = writer_client.post(
        reverse("noticestaff:article_version", args=[article.pk, "en"]), {"action": "approve"}
    )
    assert response.status_code == 403
    assert article.versions.get(language="en").approved_at is None


def test_a_writer_cannot_see_another_departments_article_nor_change_a_published_one(
    writer_client: Any,
) -> None:
    other = make_article(publish=False)
    assert writer_client.get(reverse("noticestaff:article", args=[other.pk])).status_code == 404
    listing = writer_client.get(reverse("noticestaff:articles")).content.decode()
    assert other.slug not in listing

    from cityhall.people.models import User

    writer = User.objects.get(email="kosodate@city.iga.example")
    mine = make_article(actor=writer)  # published
    edit_url = reverse("noticestaff:article", args=[mine.pk])
    assert "only the Public Relations Division" in writer_client.get(edit_url).content.decode()
    response = writer_client.post(edit_url, _new_article_data(title="書き換え"))
    assert response.status_code == 403
    assert mine.versions.get(language="ja").title == "ごみ収集日の変更"


def test_files_page_attaches_by_content_and_refuses_a_renamed_file(koho_client: Any) -> None:
    article = make_article(publish=False)
    url = reverse("noticestaff:article_files", args=[article.pk])
    response = koho_client.post(
        url, {"title": "地図", "file": upload("map.png", PDF_BYTES, "image/png")}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="error-summary"' in page and "it is a PDF file" in page
    response = koho_client.post(url, {"title": "チラシ", "file": upload("flyer.pdf", PDF_BYTES)})
    assert response.status_code == 302
    page = koho_client.get(url).content.decode()
    assert "チラシ" in page and "PDF" in page
    attachment = article.attachments.get()
    koho_client.post(url, {"remove": str(attachment.pk)})
    assert not article.attachments.exists()


def test_editing_the_japanese_text_shows_translations_need_review(koho_client: Any) -> None:
    article = make_article(translations={"en": "Garbage"})
    data = _new_article_data(title="ごみ収集日の変更（訂正）", topic="garbage", audience="everyone")
    response = koho_client.post(reverse("noticestaff:article", args=[article.pk]), data)
    assert response.status_code == 302
    assert article.versions.get(language="en").approved_at is None
    page = koho_client.get(reverse("noticestaff:article", args=[article.pk])).content.decode()
    assert "needs approval" in page
