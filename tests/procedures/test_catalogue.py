"""The procedure catalogue: search (Japanese, English, kana), filters, detail pages, languages."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, reverse

from cityhall.people.models import Department
from cityhall.procedures.models import FormDefinition, FormVersion, Procedure
from cityhall.procedures.services import catalogue
from cityhall.procedures.views import catalogue_urls

pytestmark = pytest.mark.django_db


def make_procedure(
    department: Department, slug: str, title: dict[str, str], **extra: Any
) -> Procedure:
    texts = {"title": title, **extra.pop("texts", {})}
    return Procedure.objects.create(slug=slug, department=department, texts=texts, **extra)


def publish_form(procedure: Procedure) -> FormVersion:
    definition = FormDefinition.objects.create(procedure=procedure, draft={"steps": []})
    return FormVersion.objects.create(definition=definition, number=1, spec={"steps": []})


@pytest.fixture
def department(db: Any) -> Department:
    return Department.objects.create(
        code="shimin-seikatsu",
        name="市民生活課",
        names={"en": "Citizens' Life Division", "vi": "Phòng Đời sống Công dân"},
        phone="0595-22-9702",
        location="伊賀市役所 1階",
    )


@pytest.fixture
def procs(department: Department) -> dict[str, Procedure]:
    kankyo = Department.objects.create(
        code="kankyo-seisaku", name="環境政策課", names={"en": "Environment Policy Division"}
    )
    found = {
        "juminhyo": make_procedure(
            department,
            "juminhyo",
            {"ja": "住民票の写しの請求", "en": "Copy of the residence certificate"},
            category="residence",
            life_events=["moving"],
            channel="both",
            fee_yen=300,
            requires_identity=True,
            keywords="じゅうみんひょう certificate of residence",
            order=1,
            texts={
                "summary": {"ja": "住民票の写しを請求します。", "en": "Ask for a copy."},
                "eligibility": {"ja": "本人と同じ世帯の人", "en": "You and your household"},
                "bring": {
                    "ja": "本人確認書類\nマイナンバーカード",
                    "en": "Identity document\nMy Number card",
                },
                "hours": {"ja": "平日 8:30〜17:15", "en": "Weekdays 8:30–17:15"},
            },
        ),
        "sodai-gomi": make_procedure(
            kankyo,
            "sodai-gomi",
            {"ja": "粗大ごみの収集申込", "en": "Large garbage collection"},
            category="environment",
            life_events=["moving"],
            channel="online",
            fee_yen=1000,
            order=2,
        ),
        "inu-toroku": make_procedure(
            department,
            "inu-toroku",
            {"ja": "犬の登録", "en": "Dog registration", "vi": "Đăng ký chó"},
            category="animals",
            channel="counter",
            fee_yen=3000,
            order=3,
            texts={"summary": {"en": "Register your dog and get its tag."}},
        ),
        "jido-teate": make_procedure(
            department,
            "jido-teate",
            {"ja": "児童手当の認定請求", "en": "Child allowance"},
            category="childcare",
            life_events=["birth", "moving"],
            channel="both",
            requires_identity=True,
            order=4,
            texts={"summary": {"en": "Money for raising children, with certificate of birth."}},
        ),
        "old": make_procedure(
            department,
            "old",
            {"ja": "廃止された住民票の手続き", "en": "A retired garbage procedure"},
            category="residence",
            is_active=False,
        ),
    }
    publish_form(found["sodai-gomi"])
    publish_form(found["jido-teate"])
    return found


def slugs(found: list[Procedure]) -> list[str]:
    return [p.slug for p in found]


# --- search -------------------------------------------------------------------------------


def test_normalise_folds_width_case_and_katakana() -> None:
    assert catalogue.normalise("ｼﾞｭｳﾐﾝﾋｮｳ") == "じゅうみんひょう"
    assert catalogue.normalise("ゴミ") == "ごみ"
    assert catalogue.normalise("ＧＡＲＢＡＧＥ Straße") == "garbage strasse"
    assert catalogue.terms("粗大　ごみ  粗大") == ["粗大", "ごみ"]  # ideographic space, duplicates


def test_search_without_query_lists_active_in_catalogue_order(procs: Any) -> None:
    assert slugs(catalogue.search()) == ["juminhyo", "sodai-gomi", "inu-toroku", "jido-teate"]


def test_search_japanese(procs: Any) -> None:
    assert slugs(catalogue.search("住民票")) == ["juminhyo"]  # the inactive one is not found
    assert slugs(catalogue.search("児童手当")) == ["jido-teate"]


def test_search_english_any_case(procs: Any) -> None:
    assert slugs(catalogue.search("GARBAGE")) == ["sodai-gomi"]
    assert slugs(catalogue.search("dog")) == ["inu-toroku"]


def test_search_kana_both_ways_and_widths(procs: Any) -> None:
    assert slugs(catalogue.search("ゴミ")) == ["sodai-gomi"]  # katakana finds hiragana
    assert slugs(catalogue.search("ｺﾞﾐ")) == ["sodai-gomi"]  # half-width katakana
    assert slugs(catalogue.search("ジュウミンヒョウ")) == ["juminhyo"]  # keyword in hiragana
    assert slugs(catalogue.search("ＤＯＧ")) == ["inu-toroku"]  # full-width Latin


def test_search_in_another_language_than_the_page(procs: Any) -> None:
    assert slugs(catalogue.search("Đăng ký", language="ja")) == ["inu-toroku"]


def test_search_every_term_must_match(procs: Any) -> None:
    assert slugs(catalogue.search("dog registration")) == ["inu-toroku"]
    assert slugs(catalogue.search("粗大　ごみ")) == ["sodai-gomi"]
    assert catalogue.search("dog garbage") == []
    assert catalogue.search("存在しない手続き") == []


def test_search_ranks_title_matches_first(procs: Any) -> None:
    # "certificate" is in juminhyo's title (en) and only in jido-teate's summary.
    assert slugs(catalogue.search("certificate", language="en")) == ["juminhyo", "jido-teate"]
    procs["juminhyo"].texts["title"]["en"] = "Copy of the residence record"
    procs["juminhyo"].save()
    procs["jido-teate"].texts["title"]["en"] = "Child allowance certificate"
    procs["jido-teate"].save()
    assert slugs(catalogue.search("certificate", language="en")) == ["jido-teate", "juminhyo"]


def test_filters_category_life_event_online(procs: Any) -> None:
    assert slugs(catalogue.search(category="residence")) == ["juminhyo"]
    assert slugs(catalogue.search("住民票", category="animals")) == []
    assert slugs(catalogue.search(life_event="birth")) == ["jido-teate"]
    assert slugs(catalogue.search(life_event="moving")) == ["juminhyo", "sodai-gomi", "jido-teate"]
    # Online = channel online/both AND a published form; juminhyo (both) has no form yet.
    assert slugs(catalogue.search(online_only=True)) == ["sodai-gomi", "jido-teate"]


def test_can_apply_online_needs_channel_and_published_form(procs: Any, department: Any) -> None:
    assert catalogue.can_apply_online(procs["sodai-gomi"])
    assert not catalogue.can_apply_online(procs["juminhyo"])  # no form
    counter_only = make_procedure(department, "counter-only", {"ja": "窓口だけ"}, channel="counter")
    publish_form(counter_only)
    assert not catalogue.can_apply_online(counter_only)
    # The annotated and the queried answers agree.
    for procedure in catalogue.search():
        fresh = Procedure.objects.get(pk=procedure.pk)
        assert catalogue.can_apply_online(fresh) == catalogue.can_apply_online(procedure)


def test_categories_counts_and_life_events(procs: Any) -> None:
    counts = {c.value: c.count for c in catalogue.categories_with_counts()}
    assert counts == {"residence": 1, "environment": 1, "animals": 1, "childcare": 1}
    assert slugs(catalogue.by_life_event("birth")) == ["jido-teate"]
    assert catalogue.get("old") is None and catalogue.get("nothing") is None
    assert catalogue.get("juminhyo") == procs["juminhyo"]


# --- pages --------------------------------------------------------------------------------


def test_catalogue_page_lists_and_searches(client: Any, procs: Any) -> None:
    client.cookies["cityhall_lang"] = "ja"
    response = client.get(reverse("procedures:catalogue"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="search"' in html and 'for="id_q"' in html
    assert "住民票の写しの請求" in html and "廃止された" not in html
    assert reverse("procedures:detail", args=["juminhyo"]) in html

    html = client.get(reverse("procedures:catalogue"), {"q": "ゴミ"}).content.decode()
    assert "粗大ごみの収集申込" in html and "住民票の写しの請求" not in html

    html = client.get(
        reverse("procedures:catalogue"), {"q": "", "category": "animals", "online": "on"}
    ).content.decode()
    assert "犬の登録" not in html  # counter only

    html = client.get(reverse("procedures:catalogue"), {"q": "zzz"}).content.decode()
    assert "条件に合う手続きはありません。" in html


def test_catalogue_badges(client: Any, procs: Any) -> None:
    client.cookies["cityhall_lang"] = "en"
    html = client.get(reverse("procedures:catalogue"), {"category": "residence"}).content.decode()
    assert "Needs the My Number card" in html
    assert "Fee: 300 yen" in html
    html = client.get(reverse("procedures:catalogue"), {"category": "animals"}).content.decode()
    assert "Fee: 3,000 yen" in html and "At the counter" in html


def test_catalogue_refuses_bad_filters_with_422(client: Any, procs: Any) -> None:
    response = client.get(reverse("procedures:catalogue"), {"category": "nonsense"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'class="error-summary"' in html and 'href="#id_category"' in html
    response = client.get(reverse("procedures:catalogue"), {"q": "x" * 500})
    assert response.status_code == 422
    # Life events without a guide (disaster) can still be filtered on.
    assert (
        client.get(reverse("procedures:catalogue"), {"life_event": "disaster"}).status_code == 200
    )
    # A real category without procedures today is no error, just no results.
    response = client.get(reverse("procedures:catalogue"), {"category": "tax"})
    assert (
        response.status_code == 200
        and "条件に合う手続きはありません。" in response.content.decode()
    )
    html = client.get(reverse("procedures:catalogue")).content.decode()
    assert 'value="tax"' not in html and 'value="animals"' in html


@pytest.mark.parametrize(
    ("lang", "title", "office", "html_lang"),
    [
        ("ja", "住民票の写しの請求", "市民生活課", "ja"),
        ("en", "Copy of the residence certificate", "Citizens&#x27; Life Division", "en"),
        ("vi", "Copy of the residence certificate", "Phòng Đời sống Công dân", "vi"),
        ("ja-easy", "住民票の写しの請求", "市民生活課", "ja"),
    ],
)
def test_detail_in_several_languages(
    client: Any, procs: Any, lang: str, title: str, office: str, html_lang: str
) -> None:
    from cityhall.core.furigana import COOKIE as FURIGANA_COOKIE

    client.cookies["cityhall_lang"] = lang
    client.cookies[FURIGANA_COOKIE] = "0"  # やさしい日本語 adds furigana by default
    response = client.get(reverse("procedures:detail", args=["juminhyo"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{html_lang}"' in html
    assert f"<h1>{title}</h1>" in html
    assert office in html
    assert 'href="tel:0595229702"' in html and "0595-22-9702" in html
    assert "伊賀市役所 1階" in html


def test_detail_shows_bring_fee_hours_and_identity_note(client: Any, procs: Any) -> None:
    client.cookies["cityhall_lang"] = "en"
    html = client.get(reverse("procedures:detail", args=["juminhyo"])).content.decode()
    assert "<li>Identity document</li>" in html and "<li>My Number card</li>" in html
    assert "300 yen" in html
    assert "Weekdays 8:30–17:15" in html
    assert "You and your household" in html
    assert "Bring the card to the counter." in html  # no online form to use it with yet
    # A both-channel procedure without a published form: no apply button yet.
    assert "Apply online" not in html
    assert "The online form is not ready yet" in html
    assert reverse("procedures:guide", args=["moving"]) in html


def test_detail_404_for_inactive_and_unknown(client: Any, procs: Any) -> None:
    assert client.get(reverse("procedures:detail", args=["old"])).status_code == 404
    assert client.get(reverse("procedures:detail", args=["nothing"])).status_code == 404


# --- the "Apply online" button, with and without the application pages -------------------


def _apply_start(request: HttpRequest, slug: str) -> HttpResponse:
    return HttpResponse(slug)


class _UrlConf:
    """A URL configuration object (hashable, unlike a module-less namespace)."""

    def __init__(self, urlpatterns: list[Any]) -> None:
        self.urlpatterns = urlpatterns


def _urlconf(with_apply: bool) -> _UrlConf:
    import cityhall.urls as root

    patterns: list[Any] = list(catalogue_urls.urlpatterns)
    if with_apply:
        patterns.append(path("procedures/<slug:slug>/apply/", _apply_start, name="apply_start"))
    others = [
        p
        for p in root.urlpatterns
        if getattr(p, "namespace", None) != "procedures"
        and getattr(getattr(p, "urlconf_name", None), "__name__", "") != "cityhall.procedures.urls"
        and getattr(p, "urlconf_name", None) != "cityhall.procedures.urls"
    ]
    return _UrlConf([path("", include((patterns, "procedures"))), *others])


@pytest.mark.parametrize("with_apply", [True, False])
def test_apply_button_when_the_apply_pages_exist(
    client: Any, settings: Any, procs: Any, with_apply: bool
) -> None:
    from cityhall.core import i18n

    settings.ROOT_URLCONF = _urlconf(with_apply)
    i18n.choices.cache_clear()
    try:
        client.cookies["cityhall_lang"] = "en"
        response = client.get("/procedures/sodai-gomi/")
        assert response.status_code == 200
        html = response.content.decode()
        if with_apply:
            assert 'href="/procedures/sodai-gomi/apply/"' in html and "Apply online" in html
        else:
            assert "/apply/" not in html
        # No button where the channel is the counter, even with the pages installed.
        html = client.get("/procedures/inu-toroku/").content.decode()
        assert "/apply/" not in html
    finally:
        i18n.choices.cache_clear()


def test_search_over_the_real_catalogue(db: Any) -> None:
    """The content file, loaded by its own loader, is searchable in several scripts."""
    from pathlib import Path

    import cityhall.procedures

    content = Path(cityhall.procedures.__file__).parent / "data" / "procedures.json"
    if not content.exists():
        pytest.skip("no procedures.json yet")
    from cityhall.people.seed import load_departments
    from cityhall.procedures.seed import load_procedures

    load_departments()
    load_procedures()
    assert catalogue.categories_with_counts()
    assert "juminhyo" in slugs(catalogue.search("住民票"))
    assert "sodai-gomi" in slugs(catalogue.search("ゴミ"))  # katakana finds ごみ
    assert "inu-toroku" in slugs(catalogue.search("dog", language="en"))
    allowance = slugs(catalogue.search("児童手当 認定"))
    assert allowance and allowance[0] == "jido-teate-nintei"
    assert set(slugs(catalogue.search(life_event="care"))) >= {"kaigo-nintei", "kaigo-koshin"}


def test_apply_button_with_the_installed_urls(client: Any, procs: Any) -> None:
    from django.urls import NoReverseMatch

    try:
        url: str | None = reverse("procedures:apply_start", args=["sodai-gomi"])
    except NoReverseMatch:
        url = None
    client.cookies["cityhall_lang"] = "en"
    html = client.get(reverse("procedures:detail", args=["sodai-gomi"])).content.decode()
    if url:
        assert f'<a class="button" href="{url}">Apply online</a>' in html
    else:
        assert "Apply online" not in html
    html = client.get(reverse("procedures:detail", args=["jido-teate"])).content.decode()
    assert "Digital Authentication App (デジタル認証アプリ)" in html  # applied for online
