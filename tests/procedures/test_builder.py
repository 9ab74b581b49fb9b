"""The form builder: changes to the draft (service and pages), publishing versions,
optimistic concurrency, import/export, permissions and the audit log. Real database."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from cityhall.core.models import AuditEvent
from cityhall.people.models import Department
from cityhall.procedures.formspec.schema import parse
from cityhall.procedures.models import Application, FormDefinition, FormVersion, Procedure
from cityhall.procedures.services import applications, builder
from cityhall.procedures.services.builder import BuilderError, StaleDraft
from cityhall.procedures.staff.builder_forms import choices_text, parse_choices
from tests.conftest import login_staff, make_resident, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_spec_cache() -> Any:
    """Parsed versions are cached by id; ids come back after each test's rollback."""
    applications._parsed.cache_clear()
    yield
    applications._parsed.cache_clear()


def make_procedure(slug: str = "dog", department_code: str = "shimin-seikatsu") -> Procedure:
    department, _ = Department.objects.get_or_create(
        code=department_code, defaults={"name": department_code}
    )
    return Procedure.objects.create(
        slug=slug,
        department=department,
        category="animals",
        texts={"title": {"ja": "犬の登録", "en": "Dog registration"}},
    )


VALID = {
    "title": {"ja": "犬の登録"},
    "steps": [
        {
            "key": "owner",
            "title": {"ja": "飼い主", "en": "Owner"},
            "fields": [
                {
                    "key": "name",
                    "type": "name",
                    "label": {"ja": "氏名"},
                    "prefill": ["profile.name"],
                },
                {"key": "phone", "type": "phone", "label": {"ja": "電話番号"}, "required": False},
            ],
        }
    ],
}


@pytest.fixture
def clerk(db: Any) -> Any:
    return make_staff("clerk@city.iga.example", "clerk")


@pytest.fixture
def procedure(clerk: Any) -> Procedure:
    return make_procedure()


def stamp(procedure: Procedure) -> str:
    return builder.stamp_of(builder.definition_of(procedure))


def edit(clerk: Any, procedure: Procedure, change: Any, action: str = "test") -> Any:
    return builder.edit(clerk, procedure, stamp(procedure), change, action=action)[1]


def draft(procedure: Procedure) -> dict[str, Any]:
    return builder.draft_of(procedure)


# --- changes to the draft ------------------------------------------------------------------


def test_steps_are_added_renamed_moved_and_deleted(clerk: Any, procedure: Procedure) -> None:
    first = edit(
        clerk, procedure, lambda d: builder.add_step(d, {"ja": "申請者", "en": "Applicant"})
    )
    second = edit(clerk, procedure, lambda d: builder.add_step(d, {"ja": "犬", "en": "The dog"}))
    assert (first, second) == ("applicant", "the_dog")
    assert draft(procedure)["title"] == {"ja": "犬の登録", "en": "Dog registration"}

    edit(
        clerk,
        procedure,
        lambda d: builder.update_step(
            d, "the_dog", title={"ja": "犬について", "vi": "Con chó"}, key="dog", intro={}
        ),
    )
    edit(clerk, procedure, lambda d: builder.move_step(d, "dog", -1))
    steps = draft(procedure)["steps"]
    assert [s["key"] for s in steps] == ["dog", "applicant"]
    assert steps[0]["title"] == {"ja": "犬について", "vi": "Con chó"}
    with pytest.raises(BuilderError):
        edit(clerk, procedure, lambda d: builder.move_step(d, "dog", -1))
    with pytest.raises(BuilderError):
        edit(
            clerk,
            procedure,
            lambda d: builder.update_step(d, "dog", title={"ja": "x"}, key="applicant", intro={}),
        )

    edit(clerk, procedure, lambda d: builder.delete_step(d, "applicant"))
    assert [s["key"] for s in draft(procedure)["steps"]] == ["dog"]


def test_fields_are_added_moved_across_steps_edited_and_deleted(
    clerk: Any, procedure: Procedure
) -> None:
    edit(clerk, procedure, lambda d: builder.add_step(d, {"ja": "一", "en": "One"}))
    edit(clerk, procedure, lambda d: builder.add_step(d, {"ja": "二", "en": "Two"}))
    for key in ("a", "b"):
        edit(
            clerk,
            procedure,
            lambda d, k=key: builder.add_field(
                d, "one", {"key": k, "type": "text", "label": {"ja": k}}
            ),
        )
    # A taken key is made unique, never overwritten.
    again = edit(
        clerk,
        procedure,
        lambda d: builder.add_field(d, "two", {"key": "a", "type": "text", "label": {"ja": "A"}}),
    )
    assert again == "a_2"
    edit(clerk, procedure, lambda d: builder.move_field(d, "one", "b", -1))
    assert [f["key"] for f in draft(procedure)["steps"][0]["fields"]] == ["b", "a"]
    # Past the bottom of a step, a question moves to the top of the next one.
    assert edit(clerk, procedure, lambda d: builder.move_field(d, "one", "a", 1)) == "two"
    assert [f["key"] for f in draft(procedure)["steps"][1]["fields"]] == ["a", "a_2"]
    with pytest.raises(BuilderError):
        edit(clerk, procedure, lambda d: builder.move_field(d, "two", "a_2", 1))

    # Renaming a key follows the conditions that name it.
    edit(
        clerk,
        procedure,
        lambda d: builder.update_field(
            d,
            "two",
            "a_2",
            {
                "key": "a_2",
                "type": "text",
                "label": {"ja": "x"},
                "condition": {"field": "a", "filled": True},
            },
        ),
    )
    edit(
        clerk,
        procedure,
        lambda d: builder.update_field(
            d, "two", "a", {"key": "first", "type": "yesno", "label": {"ja": "A"}}
        ),
    )
    fields = draft(procedure)["steps"][1]["fields"]
    assert fields[0]["key"] == "first"
    assert fields[1]["condition"] == {"field": "first", "filled": True}
    # A question others depend on is not deleted until they stop depending on it.
    with pytest.raises(BuilderError, match="a_2"):
        edit(clerk, procedure, lambda d: builder.delete_field(d, "two", "first"))
    edit(clerk, procedure, lambda d: builder.delete_field(d, "two", "a_2"))
    edit(clerk, procedure, lambda d: builder.delete_field(d, "two", "first"))
    assert draft(procedure)["steps"][1]["fields"] == []


def test_group_sub_questions(clerk: Any, procedure: Procedure) -> None:
    edit(clerk, procedure, lambda d: builder.add_step(d, {"ja": "家族", "en": "Family"}))
    edit(
        clerk,
        procedure,
        lambda d: builder.add_field(
            d, "family", {"key": "children", "type": "group", "label": {"ja": "子"}, "fields": []}
        ),
    )
    for key, kind in (("name", "name"), ("birthdate", "date"), ("school", "text")):
        edit(
            clerk,
            procedure,
            lambda d, k=key, t=kind: builder.add_field(
                d, "family", {"key": k, "type": t, "label": {"ja": k}}, "children"
            ),
        )
    with pytest.raises(BuilderError):
        edit(
            clerk,
            procedure,
            lambda d: builder.add_field(
                d, "family", {"key": "g", "type": "group", "label": {"ja": "g"}}, "children"
            ),
        )
    edit(clerk, procedure, lambda d: builder.move_field(d, "family", "school", -1, "children"))
    group = draft(procedure)["steps"][0]["fields"][0]
    assert [f["key"] for f in group["fields"]] == ["name", "school", "birthdate"]
    # Sub-question keys are unique among siblings only.
    key = edit(
        clerk,
        procedure,
        lambda d: builder.add_field(
            d, "family", {"key": "name", "type": "text", "label": {"ja": "n"}}
        ),
    )
    assert key == "name"
    assert builder.check(draft(procedure)) == []
    spec = parse(draft(procedure))
    assert [f.key for f in spec.steps[0].fields[0].fields] == ["name", "school", "birthdate"]


def test_choices_are_parsed_from_lines_and_written_back() -> None:
    choices = parse_choices("car | 自動車 | Car\nbike｜自転車\n徒歩\n")
    assert choices == [
        {"value": "car", "label": {"ja": "自動車", "en": "Car"}},
        {"value": "bike", "label": {"ja": "自転車"}},
        {"value": "徒歩", "label": {"ja": "徒歩"}},
    ]
    assert parse_choices(choices_text(choices)) == choices
    many = parse_choices("x | エックス | X | えっくす | Xis | Ích | 叉 | Equis")
    assert many[0]["label"]["es"] == "Equis" and many[0]["label"]["ja-easy"] == "えっくす"
    from django import forms

    with pytest.raises(forms.ValidationError):
        parse_choices("a | A\na | B")
    with pytest.raises(forms.ValidationError):
        parse_choices(" | 空")


def test_suggested_keys() -> None:
    assert builder.suggest_key("Date of birth", set()) == "date_of_birth"
    assert builder.suggest_key("Date of birth", {"date_of_birth"}) == "date_of_birth_2"
    assert builder.suggest_key("", set(), fallback="phone") == "phone"
    assert builder.suggest_key("2nd child", set()) == "field_2nd_child"
    assert builder.suggest_key("Café — name!", set()) == "cafe_name"


# --- publishing ----------------------------------------------------------------------------


def test_an_invalid_draft_is_not_published_and_every_problem_is_named(
    clerk: Any, procedure: Procedure
) -> None:
    edit(clerk, procedure, lambda d: builder.add_step(d, {"ja": "空"}))
    with pytest.raises(BuilderError) as caught:
        builder.publish(clerk, procedure, stamp(procedure))
    assert [p.path for p in caught.value.problems] == ["steps[0].fields"]
    assert FormVersion.objects.count() == 0
    assert not AuditEvent.objects.filter(action="form.publish").exists()
    with translation.override("ja"):
        message = builder.problem_message(caught.value.problems[0])
        assert message == "ステップには、1つ以上の質問が必要です。"
    with translation.override("en"):
        assert builder.problem_message(caught.value.problems[0]) == (
            "A step needs at least one question."
        )
        place = builder.problem_place(draft(procedure), "steps[0].fields")
        assert place == "Step 1 “空” › questions"


def test_publish_makes_v1_then_v2_and_an_unchanged_draft_is_a_no_op(
    clerk: Any, procedure: Procedure
) -> None:
    builder.import_json(clerk, procedure, "", json.dumps(VALID))
    v1 = builder.publish(clerk, procedure, stamp(procedure), note="first")
    assert v1 is not None and v1.number == 1 and v1.published_by == clerk and v1.note == "first"
    assert not builder.has_unpublished_changes(builder.definition_of(procedure))
    assert builder.publish(clerk, procedure, stamp(procedure)) is None
    assert FormVersion.objects.count() == 1

    edit(
        clerk,
        procedure,
        lambda d: builder.add_field(
            d, "owner", {"key": "email", "type": "email", "label": {"ja": "メール"}}
        ),
    )
    assert builder.has_unpublished_changes(builder.definition_of(procedure))
    v2 = builder.publish(clerk, procedure, stamp(procedure))
    assert v2 is not None and v2.number == 2
    assert AuditEvent.objects.filter(action="form.publish").count() == 2
    # Versions are immutable.
    with pytest.raises(PermissionError):
        v1.save()


def test_an_application_keeps_the_version_it_was_made_with(
    clerk: Any, procedure: Procedure
) -> None:
    builder.import_json(clerk, procedure, "", json.dumps(VALID))
    builder.publish(clerk, procedure, stamp(procedure))
    resident = make_resident("old@example.jp")
    old = applications.start(procedure, resident, assurance="password")
    answers = {"name": {"family": "伊賀", "given": "花子"}, "phone": "0595-22-2500"}
    applications.save_step(old, "owner", answers)
    edit(
        clerk,
        procedure,
        lambda d: builder.update_field(
            d, "owner", "phone", {"key": "phone", "type": "phone", "label": {"ja": "連絡先の電話"}}
        ),
    )
    edit(
        clerk,
        procedure,
        lambda d: builder.add_field(
            d, "owner", {"key": "color", "type": "text", "label": {"ja": "毛の色"}}
        ),
    )
    builder.publish(clerk, procedure, stamp(procedure))
    new = applications.start(procedure, make_resident("new@example.jp"), assurance="password")
    applications.save_step(new, "owner", {**answers, "color": "白"})
    old = Application.objects.get(pk=old.pk)
    assert (old.version.number, new.version.number) == (1, 2)
    assert [f.key for f in applications.spec_of(old.version_id).fields()] == ["name", "phone"]
    old_rows = applications.summary(old, "ja", {})
    assert "電話番号" in [r.label for r in old_rows]
    assert "毛の色" not in [r.label for r in old_rows]
    assert "毛の色" in [r.label for r in applications.summary(new, "ja", {})]


def test_a_stale_change_is_refused_and_nothing_is_lost(clerk: Any, procedure: Procedure) -> None:
    edit(clerk, procedure, lambda d: builder.add_step(d, {"ja": "一", "en": "One"}))
    old_stamp = stamp(procedure)
    other = make_staff("other@city.iga.example", "clerk")
    builder.edit(
        other,
        procedure,
        old_stamp,
        lambda d: builder.add_step(d, {"ja": "二", "en": "Two"}),
        action="x",
    )
    with pytest.raises(StaleDraft):
        builder.edit(
            clerk, procedure, old_stamp, lambda d: builder.delete_step(d, "one"), action="x"
        )
    with pytest.raises(StaleDraft):
        builder.publish(clerk, procedure, old_stamp)
    assert [s["key"] for s in draft(procedure)["steps"]] == ["one", "two"]


def test_export_and_import_round_trip_and_a_bad_file_changes_nothing(
    clerk: Any, procedure: Procedure
) -> None:
    builder.import_json(clerk, procedure, "", json.dumps(VALID).encode())
    exported = builder.export_json(procedure)
    other = make_procedure("other")
    builder.import_json(clerk, other, "", exported.encode("utf-8-sig"))
    assert draft(other) == draft(procedure)
    assert parse(json.loads(exported)) == parse(VALID)

    before = draft(procedure)
    broken = json.loads(exported)
    broken["steps"][0]["fields"][1]["key"] = "name"  # duplicate key
    broken["steps"][0]["fields"][0]["type"] = "nonsense"
    with pytest.raises(BuilderError) as caught:
        builder.import_json(clerk, procedure, stamp(procedure), json.dumps(broken))
    assert {p.path for p in caught.value.problems} == {"steps[0].fields[0].type"}
    with pytest.raises(BuilderError):
        builder.import_json(clerk, procedure, stamp(procedure), b"{not json")
    assert draft(procedure) == before


def test_restore_a_version_into_the_draft(clerk: Any, procedure: Procedure) -> None:
    builder.import_json(clerk, procedure, "", json.dumps(VALID))
    builder.publish(clerk, procedure, stamp(procedure))
    edit(clerk, procedure, lambda d: builder.delete_field(d, "owner", "phone"))
    builder.publish(clerk, procedure, stamp(procedure))
    builder.restore(clerk, procedure, stamp(procedure), 1)
    assert builder.normalised(draft(procedure)) == builder.version_of(procedure, 1).spec
    assert builder.has_unpublished_changes(builder.definition_of(procedure))
    event = AuditEvent.objects.filter(action="form.edit").order_by("-seq").first()
    assert event.details["change"] == "restore" and event.details["version"] == 1


def test_every_change_is_audited(clerk: Any, procedure: Procedure) -> None:
    edit(clerk, procedure, lambda d: builder.add_step(d, {"ja": "一"}), action="step.add")
    event = AuditEvent.objects.get(action="form.edit")
    assert event.actor_id == clerk.pk
    assert event.details == {"procedure": "dog", "change": "step.add"}


def test_another_departments_form_is_refused(clerk: Any) -> None:
    theirs = make_procedure("tax", "zeimu")
    with pytest.raises(PermissionDenied):
        builder.edit(clerk, theirs, "", lambda d: builder.add_step(d, {"ja": "x"}), action="x")
    assert not FormDefinition.objects.filter(procedure=theirs).exists()


# --- pages ---------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client: Any, clerk: Any) -> Any:
    client.cookies["cityhall_lang"] = "en"
    return login_staff(client, clerk)


def url(name: str, *args: Any) -> str:
    return reverse(f"procstaff:{name}", args=args)


def test_the_list_shows_only_forms_the_clerk_may_build(
    staff_client: Any, clerk: Any, procedure: Procedure
) -> None:
    make_procedure("tax", "zeimu")
    builder.import_json(clerk, procedure, "", json.dumps(VALID))
    response = staff_client.get(url("forms"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Dog registration" in body and "tax" not in body
    assert "Unpublished changes" in body
    assert staff_client.get(url("form_edit", "tax")).status_code == 403
    assert staff_client.post(url("step_add", "tax"), {"title_ja": "x"}).status_code == 403


def test_building_a_form_through_the_pages(staff_client: Any, procedure: Procedure) -> None:
    assert staff_client.get(url("form_edit", "dog")).status_code == 200
    # A step: Japanese title required.
    response = staff_client.post(url("step_add", "dog"), {"stamp": "", "title_en": "Owner"})
    assert response.status_code == 422
    assert "There is a problem" in response.content.decode()
    response = staff_client.post(
        url("step_add", "dog"), {"stamp": "", "title_ja": "飼い主", "title_en": "Owner"}
    )
    assert response.status_code == 302
    step = draft(procedure)["steps"][0]
    assert step == {"key": "owner", "title": {"ja": "飼い主", "en": "Owner"}, "fields": []}
    outline = staff_client.get(url("form_edit", "dog")).content.decode()
    assert "Missing translations" in outline

    # The type picker, then the question editor for that type.
    assert staff_client.get(url("field_add", "dog", "owner")).status_code == 200
    assert staff_client.get(url("field_add", "dog", "owner") + "?choose=1").status_code == 422
    page = staff_client.get(url("field_add", "dog", "owner") + "?type=choice")
    assert page.status_code == 200 and 'name="choices"' in page.content.decode()
    response = staff_client.post(
        url("field_add", "dog", "owner") + "?type=choice",
        {
            "stamp": stamp(procedure),
            "label_ja": "犬の種類",
            "label_en": "Kind of dog",
            "required": "on",
            "choices": "small | 小型犬 | Small\nlarge | 大型犬 | Large",
        },
    )
    assert response.status_code == 302, response.content.decode()
    response = staff_client.post(
        url("field_add", "dog", "owner") + "?type=text",
        {
            "stamp": stamp(procedure),
            "label_ja": "犬舎の場所",
            "label_en": "Kennel place",
            "condition_field": "kind_of_dog",
            "condition_value": "大型犬",
            "prefill": ["profile.address", "identity.address"],
            "max_length": "50",
            "counter_only": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    fields = draft(procedure)["steps"][0]["fields"]
    assert fields[0]["key"] == "kind_of_dog"
    assert fields[0]["choices"][1] == {"value": "large", "label": {"ja": "大型犬", "en": "Large"}}
    assert fields[1] == {
        "key": "kennel_place",
        "type": "text",
        "label": {"ja": "犬舎の場所", "en": "Kennel place"},
        "required": False,
        "condition": {"field": "kind_of_dog", "equals": "large"},
        "prefill": ["identity.address", "profile.address"],
        "max_length": 50,
        "counter_only": True,
    }
    # A key typed by the clerk that is taken is refused (an automatic one is made unique).
    response = staff_client.post(
        url("field_add", "dog", "owner") + "?type=text",
        {"stamp": stamp(procedure), "key": "kind_of_dog", "label_ja": "別"},
    )
    assert response.status_code == 422
    assert "Another question already has this key." in response.content.decode()
    # A bad key and a bad condition value are explained, nothing saved.
    response = staff_client.post(
        url("field_edit", "dog", "owner", "kennel_place"),
        {
            "stamp": stamp(procedure),
            "key": "Bad Key",
            "label_ja": "犬舎",
            "condition_field": "kind_of_dog",
            "condition_value": "medium",
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "lower-case letters" in body and "no such choice" in body
    assert draft(procedure)["steps"][0]["fields"][1]["label"]["ja"] == "犬舎の場所"

    # Editing: labels in several languages, a date in 和暦.
    response = staff_client.post(
        url("field_add", "dog", "owner") + "?type=date",
        {
            "stamp": stamp(procedure),
            "label_ja": "生年月日",
            "label_en": "Date of birth",
            "label_vi": "Ngày sinh",
            "help_ja": "和暦でも書けます",
            "required": "on",
            "calendar": "wareki",
            "max": "today",
        },
    )
    assert response.status_code == 302, response.content.decode()
    born = draft(procedure)["steps"][0]["fields"][2]
    assert born["calendar"] == "wareki" and born["max"] == "today"
    assert born["label"] == {"ja": "生年月日", "en": "Date of birth", "vi": "Ngày sinh"}
    assert born["help"] == {"ja": "和暦でも書けます"}

    # Move and delete (with a confirmation page).
    response = staff_client.post(
        url("field_move", "dog", "owner", "date_of_birth"),
        {"stamp": stamp(procedure), "direction": "up"},
    )
    assert response.status_code == 302
    keys = [f["key"] for f in draft(procedure)["steps"][0]["fields"]]
    assert keys == ["kind_of_dog", "date_of_birth", "kennel_place"]
    confirm = staff_client.get(url("field_delete", "dog", "owner", "date_of_birth"))
    assert confirm.status_code == 200 and "Date of birth" in confirm.content.decode()
    staff_client.post(
        url("field_delete", "dog", "owner", "date_of_birth"), {"stamp": stamp(procedure)}
    )
    keys = [f["key"] for f in draft(procedure)["steps"][0]["fields"]]
    assert keys == ["kind_of_dog", "kennel_place"]


def test_group_pages(staff_client: Any, clerk: Any, procedure: Procedure) -> None:
    edit(clerk, procedure, lambda d: builder.add_step(d, {"ja": "家族", "en": "Family"}))
    response = staff_client.post(
        url("field_add", "dog", "family") + "?type=group",
        {
            "stamp": stamp(procedure),
            "label_ja": "家族",
            "label_en": "Family members",
            "required": "on",
            "min_items": "1",
            "max_items": "6",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url("field_edit", "dog", "family", "family_members")
    page = staff_client.get(response["Location"])
    assert "Questions in this group" in page.content.decode()
    picker = staff_client.get(url("subfield_add", "dog", "family", "family_members"))
    assert picker.status_code == 200
    assert 'value="group"' not in picker.content.decode()  # groups do not nest
    assert 'value="group"' in staff_client.get(url("field_add", "dog", "family")).content.decode()
    response = staff_client.post(
        url("subfield_add", "dog", "family", "family_members") + "?type=name",
        {"stamp": stamp(procedure), "label_ja": "氏名", "label_en": "Name", "required": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == url("field_edit", "dog", "family", "family_members")
    response = staff_client.post(
        url("subfield_add", "dog", "family", "family_members") + "?type=choice",
        {
            "stamp": stamp(procedure),
            "label_ja": "続柄",
            "label_en": "Relation",
            "choices": "child | 子\nspouse | 配偶者",
        },
    )
    assert response.status_code == 302
    group = draft(procedure)["steps"][0]["fields"][0]
    assert group["min_items"] == 1 and group["max_items"] == 6
    assert [f["key"] for f in group["fields"]] == ["name", "relation"]
    edit_page = staff_client.get(
        url("subfield_edit", "dog", "family", "family_members", "relation")
    )
    assert edit_page.status_code == 200
    assert "child | 子" in edit_page.content.decode()
    assert staff_client.get(url("field_add", "dog", "family") + "?type=nonsense").status_code == 200


def test_a_stale_page_is_refused_with_the_input_kept(
    staff_client: Any, clerk: Any, procedure: Procedure
) -> None:
    edit(clerk, procedure, lambda d: builder.add_step(d, {"ja": "一", "en": "One"}))
    old = stamp(procedure)
    edit(clerk, procedure, lambda d: builder.add_step(d, {"ja": "二", "en": "Two"}))
    response = staff_client.post(
        url("step_edit", "dog", "one"), {"stamp": old, "title_ja": "新しい題", "key": "one"}
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "Someone else changed this form" in body
    assert 'value="新しい題"' in body
    assert f'value="{stamp(procedure)}"' in body
    assert draft(procedure)["steps"][0]["title"] == {"ja": "一", "en": "One"}
    # A move from a stale outline changes nothing either.
    staff_client.post(url("step_move", "dog", "two"), {"stamp": old, "direction": "up"})
    assert [s["key"] for s in draft(procedure)["steps"]] == ["one", "two"]


def test_publish_page_lists_problems_then_publishes(
    staff_client: Any, clerk: Any, procedure: Procedure
) -> None:
    edit(clerk, procedure, lambda d: builder.add_step(d, {"ja": "一", "en": "One"}))
    page = staff_client.get(url("form_publish", "dog"))
    assert "A step needs at least one question." in page.content.decode()
    response = staff_client.post(url("form_publish", "dog"), {"stamp": stamp(procedure)})
    assert response.status_code == 422
    assert (
        "Step 1 “One” › questions: A step needs at least one question." in response.content.decode()
    )
    assert FormVersion.objects.count() == 0

    edit(
        clerk,
        procedure,
        lambda d: builder.add_field(d, "one", {"key": "a", "type": "text", "label": {"ja": "A"}}),
    )
    response = staff_client.post(
        url("form_publish", "dog"), {"stamp": stamp(procedure), "note": "v1"}
    )
    assert response.status_code == 302
    assert FormVersion.objects.get().note == "v1"
    versions = staff_client.get(url("form_versions", "dog")).content.decode()
    assert "Version 1" in versions
    detail = staff_client.get(url("form_version", "dog", 1))
    assert "&quot;key&quot;: &quot;a&quot;" in detail.content.decode()
    response = staff_client.post(url("form_publish", "dog"), {"stamp": stamp(procedure)})
    assert response.status_code == 302 and FormVersion.objects.count() == 1
    response = staff_client.post(url("form_version_restore", "dog", 1), {"stamp": stamp(procedure)})
    assert response.status_code == 302


def test_import_and_export_pages(staff_client: Any, clerk: Any, procedure: Procedure) -> None:
    upload = SimpleUploadedFile("form.json", json.dumps(VALID).encode(), "application/json")
    response = staff_client.post(url("form_import", "dog"), {"stamp": "", "file": upload})
    assert response.status_code == 302
    exported = staff_client.get(url("form_export", "dog"))
    assert exported["Content-Disposition"] == 'attachment; filename="form-dog.json"'
    assert json.loads(exported.content) == draft(procedure)
    bad = dict(VALID, steps=[])
    upload = SimpleUploadedFile("form.json", json.dumps(bad).encode(), "application/json")
    response = staff_client.post(
        url("form_import", "dog"), {"stamp": stamp(procedure), "file": upload}
    )
    assert response.status_code == 422
    assert "A form needs at least one step." in response.content.decode()
    assert draft(procedure)["steps"]


def test_preview_renders_the_draft_step_by_step(
    staff_client: Any, clerk: Any, procedure: Procedure
) -> None:
    builder.import_json(clerk, procedure, "", json.dumps(VALID))
    edit(clerk, procedure, lambda d: builder.add_step(d, {"ja": "犬", "en": "Dog"}))
    page = staff_client.get(url("form_preview", "dog"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Problems" not in body
    assert "The draft cannot be shown yet" in body  # the empty step
    edit(
        clerk,
        procedure,
        lambda d: builder.add_field(
            d,
            "dog",
            {"key": "dog_name", "type": "text", "label": {"ja": "犬の名前", "en": "Dog's name"}},
        ),
    )
    page = staff_client.get(url("form_preview", "dog") + "?lang=en")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Step 1 of 2" in body and "Next step" in body
    assert 'type="submit"' not in body.split('class="builder-preview"')[1].split("</section>")[0]
    page = staff_client.get(url("form_preview_step", "dog", "dog") + "?lang=en")
    assert "Dog&#x27;s name" in page.content.decode() or "Dog's name" in page.content.decode()


def test_a_common_question_from_the_field_library(
    staff_client: Any, clerk: Any, procedure: Procedure, tmp_path: Any, monkeypatch: Any
) -> None:
    library = tmp_path / "field_library.json"
    library.write_text(
        json.dumps(
            {
                "_about": "test",
                "fields": {
                    "applicant_phone": {
                        "key": "phone",
                        "type": "phone",
                        "label": {"ja": "電話番号", "en": "Phone number"},
                        "prefill": ["profile.phone"],
                    }
                },
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(builder, "LIBRARY_FILE", library)
    edit(clerk, procedure, lambda d: builder.add_step(d, {"ja": "連絡先", "en": "Contact"}))
    page = staff_client.get(url("field_add", "dog", "contact"))
    assert 'value="applicant_phone"' in page.content.decode()
    for expected in ("phone", "phone_2"):
        response = staff_client.post(
            url("field_add", "dog", "contact"),
            {"stamp": stamp(procedure), "library": "applicant_phone"},
        )
        assert response.status_code == 302
        assert response["Location"] == url("field_edit", "dog", "contact", expected)
    fields = draft(procedure)["steps"][0]["fields"]
    assert fields[0] == {
        "key": "phone",
        "type": "phone",
        "label": {"ja": "電話番号", "en": "Phone number"},
        "prefill": ["profile.phone"],
    }
    response = staff_client.post(
        url("field_add", "dog", "contact"), {"stamp": stamp(procedure), "library": "nonsense"}
    )
    assert response.status_code == 422
