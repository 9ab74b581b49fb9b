"""The life-event guide: answers → checklist, printing, saving, ticking, and who may see a list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse

import cityhall.procedures
from cityhall.people.models import Department
from cityhall.procedures.models import FormDefinition, FormVersion, Procedure, SavedChecklist
from cityhall.procedures.services import guide as guides

pytestmark = pytest.mark.django_db

MOVING_IN = {"direction": "in", "household": ["dog", "children"]}


def make(department: Department, slug: str, ja: str, en: str, **extra: Any) -> Procedure:
    texts = {"title": {"ja": ja, "en": en}, **extra.pop("texts", {})}
    return Procedure.objects.create(slug=slug, department=department, texts=texts, **extra)


def publish_form(procedure: Procedure) -> None:
    definition = FormDefinition.objects.create(procedure=procedure, draft={"steps": []})
    FormVersion.objects.create(definition=definition, number=1, spec={"steps": []})


@pytest.fixture
def procs(db: Any) -> dict[str, Procedure]:
    shimin, _ = Department.objects.update_or_create(
        code="shimin-seikatsu",
        defaults={
            "name": "市民生活課",
            "names": {"en": "Citizens' Life Division"},
            "phone": "0595-22-9702",
            "location": "伊賀市役所 1階",
        },
    )
    kosodate = Department.objects.create(
        code="kosodate-shien", name="子育て支援課", phone="0595-22-9654"
    )
    found = {
        "tennyu": make(
            shimin,
            "tennyu",
            "転入届",
            "Moving-in notification",
            channel="counter",
            texts={"bring": {"en": "Moving-out certificate\nIdentity document"}},
        ),
        "tenshutsu": make(shimin, "tenshutsu", "転出届", "Moving-out notification"),
        "tenkyo": make(shimin, "tenkyo", "転居届", "Change of address"),
        "jido-teate-nintei": make(
            kosodate, "jido-teate-nintei", "児童手当の認定請求", "Child allowance", channel="both"
        ),
        "inu-toroku": make(shimin, "inu-toroku", "犬の登録事項変更届", "Dog registration change"),
        "sodai-gomi": make(
            shimin, "sodai-gomi", "粗大ごみの収集申込", "Large garbage collection", channel="online"
        ),
        "shussei-todoke": make(shimin, "shussei-todoke", "出生届", "Birth registration"),
        "jido-teate-gaku-kaitei": make(
            kosodate, "jido-teate-gaku-kaitei", "児童手当の額改定請求", "Child allowance increase"
        ),
        "hoiku-moshikomi": make(
            kosodate, "hoiku-moshikomi", "保育施設等の利用申込", "Nursery application"
        ),
        "retired": make(
            shimin, "kodomo-iryohi", "子ども医療費", "Child medical costs", is_active=False
        ),
    }
    publish_form(found["jido-teate-nintei"])
    publish_form(found["sodai-gomi"])
    return found


def slugs(steps: list[guides.Step]) -> list[str]:
    return [s.procedure for s in steps]


# --- rules -------------------------------------------------------------------------------


def test_every_guide_is_well_formed() -> None:
    for slug, found in guides.GUIDES.items():
        assert found.slug == slug and found.questions and found.rules
        keys = {q.key for q in found.questions}
        for rule in found.rules:
            for key, accepted in rule.when.items():
                assert key in keys, (slug, key)
                assert set(accepted) <= found.question(key).values(), (slug, key)  # type: ignore[union-attr]


def test_moving_in_with_dog_and_children() -> None:
    found = slugs(guides.steps(guides.MOVING, MOVING_IN))
    assert found == [
        "tennyu",
        "jido-teate-nintei",
        "kodomo-iryohi",
        "inu-toroku",
        "suido-kaishi-chushi",
        "sodai-gomi",
        "katei-gomi",
    ]


def test_moving_out_and_within() -> None:
    out = slugs(guides.steps(guides.MOVING, {"direction": "out", "household": ["children", "dog"]}))
    assert out[0] == "tenshutsu" and "jido-teate-shometsu" in out
    assert "inu-toroku" not in out and "kokuho-kanyu" not in out  # done in the new town
    within = slugs(
        guides.steps(guides.MOVING, {"direction": "within", "household": ["children", "school"]})
    )
    assert within[:3] == ["tenkyo", "jido-teate-henko", "shochugakko-nyugaku"]
    assert "tennyu" not in within and "katei-gomi" not in within
    with_care = slugs(guides.steps(guides.MOVING, {"direction": "in", "household": ["care"]}))
    assert "kaigo-tennyu-nintei" in with_care


def test_birth_first_or_later_child_and_nursery() -> None:
    first = slugs(
        guides.steps(
            guides.BIRTH,
            {"stage": "born", "first_child": "yes", "situation": ["nursery", "nhi"]},
        )
    )
    assert first == [
        "shussei-todoke",
        "jido-teate-nintei",
        "kodomo-iryohi",
        "kokuho-kanyu",
        "hoiku-nintei",
        "hoiku-moshikomi",
    ]
    later = slugs(guides.steps(guides.BIRTH, {"stage": "born", "first_child": "no"}))
    assert "jido-teate-gaku-kaitei" in later and "jido-teate-nintei" not in later
    expecting = slugs(guides.steps(guides.BIRTH, {"stage": "expecting", "first_child": "yes"}))
    assert expecting == ["ninshin-todoke"]


def test_childcare_and_school_rules() -> None:
    found = slugs(
        guides.steps(
            guides.CHILDCARE,
            {"ages": ["school"], "needs": ["nursery", "after_school"], "single": "receiving"},
        )
    )
    assert found == ["hokago-club", "jido-fuyo-genkyo"]  # no nursery for a school child
    school = slugs(
        guides.steps(
            guides.SCHOOL, {"stage": "junior_high", "situation": "foreign", "needs": ["aid"]}
        )
    )
    assert school == ["shochugakko-nyugaku", "shugaku-enjo"]
    assert guides.advice(guides.SCHOOL, {"situation": "resident"})  # the notice comes by post


def test_care_and_bereavement_rules() -> None:
    care = guides.steps(
        guides.CARE, {"who": "family", "certified": "no", "needs": ["equipment", "alterations"]}
    )
    assert slugs(care) == ["kaigo-nintei", "kaigo-fukushi-yogu", "kaigo-jutaku-kaishu"]
    assert guides.advice(guides.CARE, {"who": "family"})  # apply on their behalf
    assert not guides.advice(guides.CARE, {"who": "self"})
    renew = slugs(guides.steps(guides.CARE, {"who": "self", "certified": "expiring"}))
    assert renew == ["kaigo-koshin"]
    after = slugs(
        guides.steps(
            guides.BEREAVEMENT,
            {"insurance": "nhi", "care": "yes", "allowance": "no", "head": "no", "dog": "yes"},
        )
    )
    assert after == ["shibo-todoke", "kokuho-dattai", "sosaihi", "inu-shibo", "koseki-shomei"]
    elderly = slugs(guides.steps(guides.BEREAVEMENT, {"insurance": "elderly", "dog": "no"}))
    assert "sosaihi" in elderly and "kokuho-dattai" not in elderly
    assert len(guides.advice(guides.BEREAVEMENT, {"care": "yes", "head": "yes"})) == 3


def test_notes_are_kept_and_each_procedure_listed_once() -> None:
    found = guides.steps(guides.MOVING, MOVING_IN)
    assert len(slugs(found)) == len(set(slugs(found)))
    tennyu = next(s for s in found if s.procedure == "tennyu")
    assert "14日以内" in str(tennyu.note)


def test_clean_answers_drops_unknown_questions_and_values() -> None:
    cleaned = guides.clean_answers(
        guides.MOVING,
        {"direction": "mars", "household": ["dog", "dragon", "dog"], "evil": "<script>"},
    )
    assert cleaned == {"household": ["dog"]}
    assert guides.clean_answers(guides.MOVING, {"household": "dog"}) == {"household": ["dog"]}


def test_checklist_skips_missing_and_inactive_and_groups(procs: Any) -> None:
    result = guides.checklist(guides.MOVING, MOVING_IN)
    listed = [e.procedure.slug for e in result.entries]
    # kodomo-iryo is inactive, suido-kaishi-chushi does not exist: both are skipped.
    assert listed == ["tennyu", "jido-teate-nintei", "inu-toroku", "sodai-gomi"]
    assert [e.procedure.slug for e in result.online] == ["jido-teate-nintei", "sodai-gomi"]
    assert [e.procedure.slug for e in result.counter] == ["tennyu", "inu-toroku"]
    assert result.advice


# --- pages -------------------------------------------------------------------------------


def guide_url(event: str = "moving") -> str:
    return reverse("procedures:guide", args=[event])


@pytest.mark.parametrize("lang", ["ja", "en", "pt-br", "zh-hans"])
def test_questions_page_is_an_accessible_get_form(client: Any, lang: str) -> None:
    client.cookies["cityhall_lang"] = lang
    response = client.get(guide_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert '<form method="get"' in html
    assert html.count("<fieldset") == len(guides.MOVING.questions)
    assert html.count("<legend>") == len(guides.MOVING.questions)
    assert 'type="radio" name="direction"' in html
    assert 'type="checkbox" name="household"' in html


def test_every_guide_page_renders(client: Any, procs: Any) -> None:
    assert client.get(reverse("procedures:guides")).status_code == 200
    for slug, found in guides.GUIDES.items():
        assert client.get(guide_url(slug)).status_code == 200
        answers = {
            q.key: ([q.choices[0].value] if q.many else q.choices[0].value) for q in found.questions
        }
        response = client.get(guide_url(slug), {"answered": "1", **answers})
        assert response.status_code == 200, slug
        assert "<h1>チェックリスト：" in response.content.decode()


def test_unknown_life_event_is_404(client: Any) -> None:
    assert client.get(guide_url("mars")).status_code == 404


def test_missing_answer_is_422_with_error_summary(client: Any) -> None:
    response = client.get(guide_url(), {"answered": "1", "household": "dog"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'class="error-summary"' in html and 'href="#id_direction_0"' in html
    assert 'value="dog" id="id_household_4" checked' in html  # what was ticked stays ticked


def test_results_group_online_and_counter(client: Any, procs: Any) -> None:
    client.cookies["cityhall_lang"] = "en"
    response = client.get(guide_url(), {"answered": "1", **MOVING_IN})
    assert response.status_code == 200
    html = response.content.decode()
    online, counter = html.split('id="do-online"')[1].split('id="at-counter"')
    assert "Child allowance" in online and "Large garbage collection" in online
    assert "Moving-in notification" in counter and "Dog registration change" in counter
    assert "Moving-in notification" not in online
    assert 'href="tel:0595229702"' in counter and "伊賀市役所 1階" in counter
    assert "<li>Moving-out certificate</li>" in counter
    assert reverse("procedures:detail", args=["jido-teate-nintei"]) in online
    try:
        apply_url = reverse("procedures:apply_start", args=["jido-teate-nintei"])
    except NoReverseMatch:
        pass
    else:
        assert f'href="{apply_url}"' in online
        assert reverse("procedures:apply_start", args=["tennyu"]) not in html
    assert "Within 14 days" in counter
    assert "Moving-out notification" not in html
    # Anonymous visitors are offered to log in to save, and to print.
    assert "Log in to save this list" in html and "next=" in html
    assert "print=1" in html
    assert 'method="post"' not in html.split("<main")[1]


def test_print_view(client: Any, procs: Any) -> None:
    client.cookies["cityhall_lang"] = "en"
    response = client.get(guide_url(), {"answered": "1", "print": "1", **MOVING_IN})
    assert response.status_code == 200
    html = response.content.decode()
    assert "☐" in html and "Moving-in notification" in html
    assert "http://testserver/procedures/jido-teate-nintei/" in html  # where to go online, on paper
    assert "catalogue.css" in html


def test_change_answers_shows_the_form_filled_in(client: Any, procs: Any) -> None:
    response = client.get(guide_url(), {"answered": "1", "edit": "1", **MOVING_IN})
    html = response.content.decode()
    assert response.status_code == 200 and "<fieldset" in html
    assert 'value="in" id="id_direction_0" required checked' in html
    assert 'value="dog" id="id_household_4" checked' in html


# --- saving and ticking --------------------------------------------------------------------


def post_moving(client: Any) -> Any:
    return client.post(guide_url(), MOVING_IN)


def test_anonymous_save_is_refused(client: Any, procs: Any) -> None:
    response = post_moving(client)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("people:login"))
    assert "next=" in response["Location"]
    assert not SavedChecklist.objects.exists()


def test_staff_cannot_save(clerk_client: Any, procs: Any) -> None:
    response = post_moving(clerk_client)
    assert response.status_code == 302 and not SavedChecklist.objects.exists()


def test_resident_saves_lists_and_ticks(resident_client: Any, resident: Any, procs: Any) -> None:
    html = resident_client.get(guide_url(), {"answered": "1", **MOVING_IN}).content.decode()
    assert "アカウントに保存" in html and "csrfmiddlewaretoken" in html

    response = post_moving(resident_client)
    saved = SavedChecklist.objects.get(user=resident)
    assert response.status_code == 302
    assert response["Location"] == reverse("procedures:checklist", args=[saved.pk])
    assert saved.life_event == "moving"
    assert saved.answers == {"direction": "in", "household": ["children", "dog"]}
    assert [i["procedure"] for i in saved.items] == [
        "tennyu",
        "jido-teate-nintei",
        "inu-toroku",
        "sodai-gomi",
    ]
    assert not any(i["done"] for i in saved.items)

    # Saving the same answers again keeps one list.
    post_moving(resident_client)
    assert SavedChecklist.objects.filter(user=resident).count() == 1

    html = resident_client.get(reverse("procedures:checklists")).content.decode()
    assert reverse("procedures:checklist", args=[saved.pk]) in html and "4件中0件完了" in html

    url = reverse("procedures:checklist", args=[saved.pk])
    html = resident_client.get(url).content.decode()
    assert html.count('type="checkbox" name="done"') == 4 and "<legend>" in html

    response = resident_client.post(url, {"done": ["tennyu", "sodai-gomi", "nonsense"]})
    assert response.status_code == 302
    saved.refresh_from_db()
    assert {i["procedure"]: i["done"] for i in saved.items} == {
        "tennyu": True,
        "jido-teate-nintei": False,
        "inu-toroku": False,
        "sodai-gomi": True,
    }
    html = resident_client.get(url).content.decode()
    assert "4件中2件完了" in html
    assert 'value="tennyu" id="done-1" checked' in html


def test_toggle_service(resident: Any, other_resident: Any, procs: Any) -> None:
    saved = guides.save(resident, guides.MOVING, MOVING_IN)
    assert guides.toggle(other_resident, saved.pk, "jido-teate-nintei", True) is None
    updated = guides.toggle(resident, saved.pk, "jido-teate-nintei", True)
    assert updated is not None
    assert guides.progress(updated) == (1, 4)
    assert guides.toggle(resident, saved.pk, "jido-teate-nintei", False) is not None
    saved.refresh_from_db()
    assert guides.progress(saved) == (0, 4)


def test_another_resident_gets_404(
    client: Any, resident: Any, other_resident: Any, procs: Any
) -> None:
    saved = guides.save(resident, guides.MOVING, MOVING_IN)
    client.force_login(other_resident)
    url = reverse("procedures:checklist", args=[saved.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"done": ["tennyu"]}).status_code == 404
    assert client.post(url, {"action": "delete"}).status_code == 404
    saved.refresh_from_db()
    assert not any(i["done"] for i in saved.items)
    html = client.get(reverse("procedures:checklists")).content.decode()
    assert url not in html and "保存したチェックリストは、まだありません。" in html


def test_checklist_pages_need_login(client: Any, resident: Any, procs: Any) -> None:
    saved = guides.save(resident, guides.MOVING, MOVING_IN)
    for url in (
        reverse("procedures:checklists"),
        reverse("procedures:checklist", args=[saved.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and reverse("people:login") in response["Location"]


def test_delete_checklist(resident_client: Any, resident: Any, procs: Any) -> None:
    saved = guides.save(resident, guides.MOVING, MOVING_IN)
    url = reverse("procedures:checklist", args=[saved.pk])
    response = resident_client.post(url, {"action": "delete"})
    assert response.status_code == 302 and response["Location"] == reverse("procedures:checklists")
    assert not SavedChecklist.objects.exists()
    assert resident_client.get(url).status_code == 404


def test_invalid_post_is_422_and_saves_nothing(resident_client: Any, procs: Any) -> None:
    response = resident_client.post(guide_url(), {"direction": "mars"})
    assert response.status_code == 422
    assert not SavedChecklist.objects.exists()


CONTENT = Path(cityhall.procedures.__file__).parent / "data" / "procedures.json"


def test_content_file_has_every_procedure_the_guides_name() -> None:
    if not CONTENT.exists():
        pytest.skip("no procedures.json yet")
    data = json.loads(CONTENT.read_text(encoding="utf-8"))
    present = {entry["slug"] for entry in data["procedures"]}
    for slug, found in guides.GUIDES.items():
        assert not set(found.slugs()) - present, (slug, sorted(set(found.slugs()) - present))


def test_guides_with_the_real_catalogue(client: Any) -> None:
    """The content file loaded by its own loader: every guide, everything ticked, renders."""
    if not CONTENT.exists():
        pytest.skip("no procedures.json yet")
    from cityhall.people.seed import load_departments
    from cityhall.procedures.seed import load_procedures

    load_departments()
    load_procedures()
    client.cookies["cityhall_lang"] = "en"
    for slug, found in guides.GUIDES.items():
        answers: dict[str, Any] = {
            q.key: [c.value for c in q.choices] if q.many else q.choices[0].value
            for q in found.questions
        }
        result = guides.checklist(found, answers)
        assert result.entries, slug
        response = client.get(guide_url(slug), {"answered": "1", **answers})
        assert response.status_code == 200, slug
        html = response.content.decode()
        for entry in result.entries:
            assert reverse("procedures:detail", args=[entry.procedure.slug]) in html
    # The detail page of every active procedure renders in every language.
    for procedure in Procedure.objects.filter(is_active=True):
        for lang in ("ja", "ja-easy", "pt-br", "vi", "zh-hans", "es", "en"):
            client.cookies["cityhall_lang"] = lang
            response = client.get(reverse("procedures:detail", args=[procedure.slug]))
            assert response.status_code == 200, (procedure.slug, lang)
