"""The procedure catalogue and its forms: the real data files, loaded into the real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from cityhall.procedures.formspec.schema import Field, FieldType, FormSpec, parse
from cityhall.procedures.formspec.text import LANGUAGES
from cityhall.procedures.models import FormDefinition, FormVersion, Procedure
from cityhall.procedures.seed import (
    LIBRARY_FILE,
    LIFE_EVENT_SLUGS,
    PROCEDURES_FILE,
    ProcedureDataError,
    load_procedures,
)

pytestmark = pytest.mark.django_db

HARD_WORDS = ("記入", "提出", "申請書", "記載", "確認", "該当", "所定", "速やかに", "直ちに")

# The national list of 26 子育て・介護 procedures to be offered online (マイナポータル).
NATIONAL_PRIORITY = {
    # 子育て 15
    "jido-teate-nintei",  # 児童手当等の受給資格及び児童手当の額についての認定請求
    "jido-teate-gaku-kaitei",  # 児童手当等の額の改定の請求及び届出
    "jido-teate-henko",  # 氏名変更／住所変更等の届出
    "jido-teate-shometsu",  # 受給事由消滅の届出
    "jido-teate-mishiharai",  # 未支払の児童手当等の請求
    "jido-teate-kifu",  # 児童手当等に係る寄附の申出
    "jido-teate-kifu-henko",  # 児童手当に係る寄附変更等の申出
    "jido-teate-kyushoku",  # 受給資格者の申出による学校給食費等の徴収等の申出
    "jido-teate-kyushoku-henko",  # 同 変更等の申出
    "jido-teate-genkyo",  # 児童手当等の現況届
    "hoiku-nintei",  # 支給認定の申請
    "hoiku-moshikomi",  # 保育施設等の利用申込
    "hoiku-genkyo",  # 保育施設等の現況届
    "jido-fuyo-genkyo",  # 児童扶養手当の現況届の事前送信
    "ninshin-todoke",  # 妊娠の届出
    # 介護 11
    "kaigo-nintei",
    "kaigo-koshin",
    "kaigo-kubun-henko",
    "kaigo-careplan",
    "kaigo-futan-wariai-saikofu",
    "kaigo-hihokensha-saikofu",
    "kaigo-kogaku",
    "kaigo-gendogaku",
    "kaigo-tennyu-nintei",
    "kaigo-fukushi-yogu",
    "kaigo-jutaku-kaishu",
}


@pytest.fixture
def departments() -> None:
    from cityhall.people.seed import load_departments

    load_departments()


@pytest.fixture
def loaded(departments: None) -> Any:
    return load_procedures()


def raw_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PROCEDURES_FILE.read_text(encoding="utf-8"))
    return data


def write(tmp_path: Path, data: dict[str, Any], name: str = "procedures.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def entry(data: dict[str, Any], slug: str) -> dict[str, Any]:
    return next(p for p in data["procedures"] if p["slug"] == slug)


def snapshot() -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = [
        ("p", *row)
        for row in Procedure.objects.order_by("slug").values_list(
            "slug", "texts", "updated_at", "department_id", "fee_yen", "life_events"
        )
    ]
    rows += [
        ("d", *row)
        for row in FormDefinition.objects.order_by("procedure__slug").values_list(
            "procedure__slug", "draft", "updated_at"
        )
    ]
    rows += [
        ("v", *row)
        for row in FormVersion.objects.order_by(
            "definition__procedure__slug", "number"
        ).values_list("definition__procedure__slug", "number", "spec")
    ]
    return rows


def all_fields(spec: FormSpec) -> Iterator[Field]:
    for f in spec.fields():
        yield f
        yield from f.fields


def form_texts(spec: FormSpec) -> Iterator[tuple[str, dict[str, str]]]:
    if spec.title:
        yield "title", spec.title
    for step in spec.steps:
        yield f"{step.key}.title", step.title
        if step.intro:
            yield f"{step.key}.intro", step.intro
        for f in step.fields:
            for sub in (f, *f.fields):
                yield f"{step.key}.{sub.key}.label", sub.label
                if sub.help:
                    yield f"{step.key}.{sub.key}.help", sub.help
                for choice in sub.choices:
                    yield f"{step.key}.{sub.key}.{choice.value}", choice.label


def fld(spec: FormSpec, key: str) -> Field:
    found = spec.field(key)
    assert found is not None, key
    return found


def condition_field(f: Field) -> str:
    assert f.condition is not None, f.key
    return f.condition.field


def latest_specs() -> dict[str, FormSpec]:
    out: dict[str, FormSpec] = {}
    for version in FormVersion.objects.select_related("definition__procedure").order_by("number"):
        out[version.definition.procedure.slug] = parse(version.spec)
    return out


# --- the real content ----------------------------------------------------------------------


def test_the_real_file_loads_at_least_forty_procedures(loaded: Any) -> None:
    assert loaded.created == Procedure.objects.count() >= 40
    assert loaded.updated == loaded.unchanged == 0
    with_form = sum(1 for p in raw_data()["procedures"] if p.get("form"))
    assert loaded.versions == FormVersion.objects.count() == with_form
    assert set(FormVersion.objects.values_list("number", flat=True)) == {1}


def test_exactly_the_26_national_priority_procedures(loaded: Any) -> None:
    marked = set(Procedure.objects.filter(national_priority=True).values_list("slug", flat=True))
    assert marked == NATIONAL_PRIORITY
    assert len(marked) == 26
    # All of them can be done online, with a form, like マイナポータル offers them.
    for procedure in Procedure.objects.filter(national_priority=True):
        assert procedure.online, procedure.slug
        assert FormDefinition.objects.filter(procedure=procedure).exists(), procedure.slug
    by_category = {
        slug: category
        for slug, category in Procedure.objects.filter(national_priority=True).values_list(
            "slug", "category"
        )
    }
    assert sum(1 for c in by_category.values() if c == "care") == 11


def test_every_procedure_speaks_all_seven_languages(loaded: Any) -> None:
    for procedure in Procedure.objects.all():
        for key in Procedure.TEXT_KEYS:
            texts = procedure.texts.get(key, {})
            missing = [lang for lang in LANGUAGES if not texts.get(lang, "").strip()]
            assert not missing, f"{procedure.slug}.{key} lacks {missing}"
        assert procedure.title_ja == procedure.texts["title"]["ja"]
        assert procedure.keywords
        assert procedure.sla_days > 0


def test_catalogue_facts_are_consistent(loaded: Any) -> None:
    from cityhall.portal.frontdoor import LIFE_EVENTS

    assert tuple(event.slug for event in LIFE_EVENTS) == LIFE_EVENT_SLUGS
    seen_events: set[str] = set()
    for procedure in Procedure.objects.select_related("department"):
        seen_events.update(procedure.life_events)
        has_form = FormDefinition.objects.filter(procedure=procedure).exists()
        if procedure.online:
            assert has_form, f"{procedure.slug} is online but has no form"
        if procedure.fee_yen and procedure.online:
            assert procedure.fee_hook == "payments.fee", procedure.slug
        else:
            assert procedure.fee_hook == "", procedure.slug
    # Every life event of the guide has procedures behind it.
    assert seen_events == set(LIFE_EVENT_SLUGS)
    juminhyo = Procedure.objects.get(slug="juminhyo")
    assert (juminhyo.fee_yen, juminhyo.requires_identity, juminhyo.department.code) == (
        300,
        True,
        "shimin-seikatsu",
    )
    assert Procedure.objects.get(slug="shussei-todoke").channel == "counter"


def test_every_form_parses_and_every_label_has_all_languages(loaded: Any) -> None:
    specs = latest_specs()
    assert len(specs) == FormDefinition.objects.count()
    for slug, spec in specs.items():
        for where, texts in form_texts(spec):
            missing = [lang for lang in LANGUAGES if not texts.get(lang, "").strip()]
            assert not missing, f"{slug}: {where} lacks {missing}"
        definition = FormDefinition.objects.get(procedure__slug=slug)
        assert parse(definition.draft) == spec


def test_forms_are_self_contained_and_realistic(loaded: Any) -> None:
    specs = latest_specs()
    for version in FormVersion.objects.all():
        assert '"use"' not in json.dumps(version.spec), "library references must be expanded"
    claim = specs["jido-teate-nintei"]
    assert len(claim.fields()) >= 20
    keys = {f.key for f in claim.fields()}
    assert {"applicant_name", "spouse_name", "children", "bank_account_number"} <= keys
    assert fld(claim, "applicant_name").prefill == ("identity.name", "profile.name", "previous")
    assert fld(claim, "applicant_birthdate").calendar == "wareki"
    children = fld(claim, "children")
    assert children.type == FieldType.GROUP and children.min_items == 1
    assert condition_field(fld(claim, "spouse_name")) == "has_spouse"
    assert any(f.type == FieldType.CONSENT for f in claim.fields())
    # Conditions, groups and file uploads appear across the catalogue, as on the paper forms.
    every = [f for spec in specs.values() for f in all_fields(spec)]
    assert sum(1 for f in every if f.condition) >= 40
    assert sum(1 for f in every if f.type == FieldType.GROUP) >= 10
    assert sum(1 for f in every if f.type == FieldType.FILE) >= 15
    care = specs["kaigo-nintei"]
    assert {"doctor_name", "clinic_name", "reason", "who_applies", "insured_name"} <= {
        f.key for f in care.fields()
    }
    gomi = fld(specs["sodai-gomi"], "items")
    assert gomi.type == FieldType.GROUP
    assert [f.key for f in gomi.fields] == ["item", "item_other", "count"]
    assert condition_field(gomi.fields[1]) == "item"
    juminhyo = specs["juminhyo"]
    assert {"whose", "persons", "with_domicile", "with_relationship", "copies", "purpose"} <= {
        f.key for f in juminhyo.fields()
    }
    assert fld(juminhyo, "receive_by").choice_values() == ["mail", "counter"]


def test_easy_japanese_avoids_hard_words(loaded: Any) -> None:
    problems: list[str] = []

    def check(where: str, texts: dict[str, str]) -> None:
        easy = texts.get("ja-easy", "")
        problems.extend(f"{where}: {word}" for word in HARD_WORDS if word in easy)

    for procedure in Procedure.objects.all():
        for key, texts in procedure.texts.items():
            check(f"{procedure.slug}.{key}", texts)
    for slug, spec in latest_specs().items():
        for where, texts in form_texts(spec):
            check(f"{slug}: {where}", texts)
    assert not problems, problems


def test_library_fields_have_all_languages() -> None:
    library = json.loads(LIBRARY_FILE.read_text(encoding="utf-8"))["fields"]

    def texts_of(f: dict[str, Any]) -> Iterator[dict[str, str]]:
        yield f["label"]
        if "help" in f:
            yield f["help"]
        for choice in f.get("choices", []):
            yield choice["label"]
        for sub in f.get("fields", []):
            yield from texts_of(sub)

    for name, f in library.items():
        for texts in texts_of(f):
            assert all(texts.get(lang) for lang in LANGUAGES), name
            assert not any(word in texts["ja-easy"] for word in HARD_WORDS), name


# --- loading again, changes and broken files ---------------------------------------------------


def test_a_second_load_changes_nothing(loaded: Any) -> None:
    before = snapshot()
    again = load_procedures()
    assert (again.created, again.updated, again.versions) == (0, 0, 0)
    assert again.unchanged == loaded.created
    assert snapshot() == before


def test_a_changed_form_publishes_version_two_and_keeps_version_one(
    loaded: Any, tmp_path: Path
) -> None:
    data = raw_data()
    form = entry(data, "juminhyo")["form"]
    form["steps"][1]["fields"].append(
        {
            "key": "note_for_clerk",
            "type": "text",
            "required": False,
            "label": {lang: f"備考 ({lang})" for lang in LANGUAGES},
        }
    )
    v1 = FormVersion.objects.get(definition__procedure__slug="juminhyo")
    v1_spec = v1.spec
    counts = load_procedures(write(tmp_path, data))
    assert (counts.created, counts.updated, counts.versions) == (0, 1, 1)
    versions = list(
        FormVersion.objects.filter(definition__procedure__slug="juminhyo").order_by("number")
    )
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].pk == v1.pk and versions[0].spec == v1_spec
    assert parse(versions[1].spec).field("note_for_clerk") is not None
    assert parse(v1_spec).field("note_for_clerk") is None
    definition = FormDefinition.objects.get(procedure__slug="juminhyo")
    assert definition.draft == versions[1].spec
    # Loading the same changed file again changes nothing more.
    again = load_procedures(write(tmp_path, data))
    assert (again.updated, again.versions) == (0, 0)


def test_a_changed_title_updates_the_derived_columns(loaded: Any, tmp_path: Path) -> None:
    data = raw_data()
    entry(data, "inu-toroku")["texts"]["title"]["ja"] = "飼い犬の登録"
    entry(data, "inu-toroku")["keywords"] += " わんちゃん"
    counts = load_procedures(write(tmp_path, data))
    assert (counts.updated, counts.versions) == (1, 0)
    dog = Procedure.objects.get(slug="inu-toroku")
    assert dog.title_ja == "飼い犬の登録"
    assert "わんちゃん" in dog.search_text
    assert Procedure.objects.filter(title_ja="飼い犬の登録").count() == 1


def test_an_unpublished_draft_is_left_alone_when_the_form_did_not_change(loaded: Any) -> None:
    definition = FormDefinition.objects.get(procedure__slug="inu-shibo")
    edited = json.loads(json.dumps(definition.draft))
    edited["steps"][0]["title"]["ja"] = "飼い主（職員が編集中）"
    definition.draft = edited
    definition.save()
    counts = load_procedures()
    assert counts.changed == 0
    definition.refresh_from_db()
    assert definition.draft["steps"][0]["title"]["ja"] == "飼い主（職員が編集中）"


def test_a_broken_file_changes_nothing_and_names_every_problem(loaded: Any, tmp_path: Path) -> None:
    data = raw_data()
    entry(data, "juminhyo")["department"] = "no-such-division"
    entry(data, "inu-toroku")["form"]["steps"][1]["fields"][0]["type"] = "colour-wheel"
    entry(data, "sodai-gomi")["life_events"] = ["moving", "retirement"]
    entry(data, "tenshutsu")["category"] = "space"
    entry(data, "kaigo-nintei")["form"]["steps"][0]["fields"][0] = {"use": "no_such_field"}
    entry(data, "hoiku-moshikomi")["form"]["steps"][0]["fields"][0]["prefill"] = ["horoscope.sign"]
    before = snapshot()
    with pytest.raises(ProcedureDataError) as caught:
        load_procedures(write(tmp_path, data))
    message = str(caught.value)
    problems = caught.value.problems
    assert len(problems) == 6, problems
    assert "(juminhyo).department: department 'no-such-division' does not exist" in message
    assert "(inu-toroku).form.steps[1].fields[0].type" in message and "colour-wheel" in message
    assert "unknown life event 'retirement'" in message
    assert "unknown category 'space'" in message
    assert (
        "(kaigo-nintei).form.steps[0].fields[0]: unknown library field 'no_such_field'" in message
    )
    assert "unknown prefill source 'horoscope.sign'" in message
    assert "nothing was changed" in message
    assert snapshot() == before


def test_a_broken_file_writes_nothing_into_an_empty_database(
    departments: None, tmp_path: Path
) -> None:
    data = raw_data()
    data["procedures"].append(dict(entry(data, "juminhyo")))  # the same slug twice
    entry(data, "katei-gomi")["channel"] = "online"  # online, but there is no form
    with pytest.raises(ProcedureDataError) as caught:
        load_procedures(write(tmp_path, data))
    assert "the slug is used twice" in str(caught.value)
    assert "(katei-gomi).form: a procedure that can be done online needs a form" in str(
        caught.value
    )
    assert Procedure.objects.count() == FormDefinition.objects.count() == 0


def test_files_that_are_not_json_are_reported(departments: None, tmp_path: Path) -> None:
    path = tmp_path / "procedures.json"
    path.write_text("{ not json", encoding="utf-8")
    with pytest.raises(ProcedureDataError, match="not valid JSON"):
        load_procedures(path)
    library = tmp_path / "library.json"
    library.write_text(json.dumps({"fields": {"x": {"type": "text"}}}), encoding="utf-8")
    with pytest.raises(ProcedureDataError) as caught:
        load_procedures(library=library)
    assert "library.json: x" in str(caught.value)
    assert Procedure.objects.count() == 0


def test_references_may_override_but_not_everything(departments: None, tmp_path: Path) -> None:
    procedure_form: dict[str, Any] = {
        "steps": [
            {
                "key": "one",
                "title": {"ja": "一"},
                "fields": [
                    {"use": "applicant_name", "key": "who", "prefill": None},
                    {"use": "applicant_phone", "required": False, "type": "email"},
                ],
            }
        ]
    }
    data = {
        "procedures": [
            {
                "slug": "test-form",
                "department": "shimin-seikatsu",
                "category": "residence",
                "channel": "online",
                "texts": {"title": {"ja": "試験"}},
                "form": procedure_form,
            }
        ]
    }
    with pytest.raises(
        ProcedureDataError, match="'applicant_phone': these cannot be overridden: type"
    ):
        load_procedures(write(tmp_path, data))
    del procedure_form["steps"][0]["fields"][1]["type"]
    counts = load_procedures(write(tmp_path, data))
    assert (counts.created, counts.versions) == (1, 1)
    spec = parse(FormVersion.objects.get().spec)
    who = spec.field("who")
    assert who is not None and who.type == FieldType.NAME and who.prefill == ()
    phone = spec.field("applicant_phone")
    assert phone is not None and phone.required is False
    assert phone.prefill == ("profile.phone", "previous")


def test_the_command_prints_what_it_did(departments: None) -> None:
    out = StringIO()
    call_command("seed_procedures", stdout=out)
    assert "created" in out.getvalue() and "form versions published" in out.getvalue()
    out = StringIO()
    call_command("seed_procedures", stdout=out)
    assert "nothing changed" in out.getvalue()


def test_the_forms_prefill_from_what_the_city_knows(loaded: Any) -> None:
    from cityhall.procedures.services import prefill
    from tests.conftest import make_resident

    user = make_resident(
        "yamada@example.jp",
        phone="0595-22-9621",
        postal_code="518-8501",
        address="伊賀市四十九町3184",
    )
    user.display_name = "山田 花子"
    user.save()
    filled = 0
    for slug, spec in latest_specs().items():
        result = prefill.fill(spec, prefill.Context(user=user, assurance="password"))
        for key in (
            "applicant_name",
            "applicant_phone",
            "applicant_postal_code",
            "applicant_address",
        ):
            f = spec.field(key)
            if f is not None and f.condition is None:
                assert key in result.values, f"{slug}: {key} not prefilled"
                filled += 1
        if spec.field("applicant_email") is not None:
            assert result.values["applicant_email"] == "yamada@example.jp", slug
    assert filled >= 100
    claim = prefill.fill(
        latest_specs()["jido-teate-nintei"], prefill.Context(user=user, assurance="password")
    )
    assert claim.sources["applicant_name"] == "profile.name"  # no identity without the card
    assert claim.values["applicant_name"]["family"] == "山田"
    assert claim.values["applicant_postal_code"] == "518-8501"
