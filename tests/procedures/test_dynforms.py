"""Django forms built from formspec steps (shared by the online pages and the counter)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils import translation

from cityhall.procedures import dynforms
from cityhall.procedures.formspec.schema import parse
from cityhall.procedures.models import Attachment
from tests.procedures.test_apply_support import (
    FORM,
    STEP1,
    STEP2,
    forget_parsed_forms,
    make_procedure,
    png_bytes,
    use_media,
)

SPEC = parse(FORM)


@pytest.fixture(autouse=True)
def _fresh_forms() -> Iterator[None]:
    forget_parsed_forms()
    yield
    forget_parsed_forms()


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    return use_media(settings, tmp_path)


def form_for(step: str, **kwargs: Any) -> dynforms.StepForm:
    kwargs.setdefault("language", "en")
    kwargs.setdefault("answers", {})
    with translation.override(kwargs["language"]):
        return dynforms.build_step_form(SPEC, step, **kwargs)


def build(spec: Any, step: str, **kwargs: Any) -> dynforms.StepForm:
    with translation.override(kwargs["language"]):
        return dynforms.build_step_form(spec, step, **kwargs)


def post(data: dict[str, Any]) -> QueryDict:
    q = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, list):
            q.setlist(key, value)
        else:
            q[key] = value
    return q


def render(form: dynforms.StepForm) -> str:
    with translation.override(form.language):
        return render_to_string(
            "procedures/includes/step_fields.html", {"form": form}
        ) + render_to_string("includes/error_summary.html", {"form": form})


def summary_targets(page: str) -> list[str]:
    if 'id="error-summary"' not in page:
        return []
    box = page.split('id="error-summary"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'href="#([^"]+)"', box)


def test_initial_values_come_from_answers() -> None:
    answers = {
        "name": {"family": "伊賀", "given": "花子", "family_kana": "イガ", "given_kana": "ハナコ"},
        "birthdate": "1985-04-01",
        "email": "hanako@example.jp",
        "has_children": True,
    }
    form = form_for("applicant", answers=answers)
    page = render(form)
    assert 'name="name-family" value="伊賀"' in page
    assert '<option value="S" selected>' in page  # 1985 is 昭和60年
    assert 'name="birthdate-year" value="60"' in page
    assert 'name="birthdate-month" value="4"' in page
    assert form.raw_input()["birthdate"] == {"era": "S", "year": "60", "month": "4", "day": "1"}
    family = form_for("family", answers=answers)
    assert re.search(
        r'<input type="radio" name="has_children" value="yes"[^>]* checked', render(family)
    )
    assert family.raw_input()["has_children"] == "yes"


def test_unchecked_input_wins_over_answers_and_odd_shapes_never_fail() -> None:
    form = form_for(
        "applicant",
        answers={"email": "old@example.jp", "name": "伊賀 太郎"},
        unchecked={"email": "typed-but-wrong", "birthdate": "not a date", "phone": ["0595"]},
    )
    page = render(form)
    assert 'value="typed-but-wrong"' in page
    assert 'name="name-family" value="伊賀"' in page and 'name="name-given" value="太郎"' in page
    assert 'name="phone" value="0595"' in page
    for odd in (5, None, "x", [1, 2], {"a": {"b": []}}, {"children": {"0": 3}}):
        for step in SPEC.steps:
            rendered = render(
                dynforms.build_step_form(
                    SPEC,
                    step,
                    language="ja",
                    answers={f.key: odd for f in step.fields},
                    unchecked=odd if isinstance(odd, dict) else {f.key: odd for f in step.fields},
                )
            )
            assert "<" in rendered


def test_a_valid_step_gives_normalised_answers_and_json_raw_input() -> None:
    form = form_for("applicant", data=post(STEP1))
    assert form.action is None
    assert form.is_valid(), form.errors
    assert form.answers["name"]["family_kana"] == "イガ"  # hiragana became katakana
    assert form.answers["birthdate"] == "1985-04-01"
    assert form.answers["phone"] == "0595-22-2500"
    raw = form.raw_input()
    assert json.loads(json.dumps(raw)) == raw
    assert raw["name"]["family_kana"] == "いが"  # raw is what was typed


def test_group_with_conditions_validates_each_item() -> None:
    form = form_for("family", data=post(STEP2), answers={})
    assert form.is_valid(), form.errors
    children = form.answers["children"]
    assert len(children) == 2 and children[1]["relation_other"] == "孫"
    assert children[0]["birthdate"] == "2020-05-10"  # 令和2年


def test_errors_link_to_inputs_that_exist() -> None:
    data = {
        **STEP2,
        "children-0-birthdate-month": "13",
        "children-1-name-given": "",
        "children-1-relation": "",
    }
    form = form_for("family", data=post(data))
    with translation.override(form.language):
        assert not form.is_valid()
    page = render(form)
    targets = summary_targets(page)
    assert "id_children-0-birthdate-month" in targets
    assert "id_children-1-name-given" in targets
    assert "id_children-1-relation_0" in targets  # radios link to their first option
    for target in targets:
        assert f'id="{target}"' in page, target
    # The summary names the item ("Child 2: Name: …").
    assert "Child 2: Name: Enter the given name." in page
    # Each invalid input points at its message, and that message exists.
    for ids in re.findall(r'aria-describedby="([^"]+)"', page):
        for one in ids.split():
            assert f'id="{one}"' in page, one


def test_date_errors_land_on_the_wrong_part() -> None:
    base = dict(STEP1)
    for changes, target in (
        ({"birthdate-day": ""}, "id_birthdate-day"),
        ({"birthdate-month": "13"}, "id_birthdate-month"),
        ({"birthdate-day": "45"}, "id_birthdate-day"),
        ({"birthdate-era": "R", "birthdate-year": "60"}, "id_birthdate-year"),
        ({"birthdate-era": "AD", "birthdate-year": "2990"}, "id_birthdate-year"),  # future
    ):
        form = form_for("applicant", data=post({**base, **changes}))
        assert not form.is_valid()
        assert summary_targets(render(form)) == [target], changes


def test_seireki_dates_have_no_era() -> None:
    spec = parse(
        {
            "steps": [
                {
                    "key": "s",
                    "title": {"ja": "日付"},
                    "fields": [{"key": "day", "type": "date", "label": {"ja": "日"}}],
                }
            ]
        }
    )
    form = build(
        spec,
        "s",
        language="ja",
        answers={},
        data=post({"day-year": "２０２６", "day-month": "1", "day-day": "2"}),
    )
    assert "day-era" not in form.fields
    assert form.is_valid() and form.answers == {"day": "2026-01-02"}


def test_add_and_remove_re_render_without_validating() -> None:
    form = form_for(
        "family",
        data=post(
            {
                "has_children": "yes",
                "children-count": "1",
                "children-0-name-family": "甲",
                "_add": "children",
            }
        ),
    )
    assert form.action == ("add", "children")
    assert not form.is_bound and not form.errors
    page = render(form)
    assert 'name="children-count" value="2"' in page
    assert "autofocus" in page.split('id="id_children-1-name-family"')[0].rsplit("<input", 1)[1]
    assert 'value="甲"' in page

    form = form_for(
        "family",
        data=post(
            {
                "has_children": "yes",
                "children-count": "3",
                "children-0-name-family": "甲",
                "children-1-name-family": "乙",
                "children-2-name-family": "丙",
                "_remove": "children.1",
            }
        ),
    )
    assert form.action == ("remove", "children", "1")
    names = [item["name"]["family"] for item in form.raw_input()["children"]]
    assert names == ["甲", "丙"]
    page = render(form)
    assert "Add another" in page  # max is 3: there is room again
    # A third item is the most: no "Add another" then.
    full = form_for("family", unchecked={"children": [{}, {}, {}]})
    assert 'name="_add"' not in render(full)
    # Unknown targets are ignored (the POST is read as a normal submit).
    assert form_for("family", data=post({"_add": "nope"})).action is None


def test_conditions_on_the_same_step_and_on_earlier_steps() -> None:
    spec = parse(
        {
            "steps": [
                {
                    "key": "a",
                    "title": {"ja": "A"},
                    "fields": [
                        {
                            "key": "kind",
                            "type": "choice",
                            "label": {"ja": "種類", "en": "Kind"},
                            "choices": [
                                {"value": "x", "label": {"ja": "X"}},
                                {"value": "y", "label": {"ja": "Y"}},
                            ],
                        },
                    ],
                },
                {
                    "key": "b",
                    "title": {"ja": "B"},
                    "fields": [
                        {
                            "key": "only_x",
                            "type": "text",
                            "label": {"ja": "Xのとき"},
                            "condition": {"field": "kind", "equals": "x"},
                        },
                        {"key": "agree", "type": "yesno", "label": {"ja": "同意", "en": "Agree?"}},
                        {
                            "key": "why",
                            "type": "text",
                            "label": {"ja": "理由", "en": "Why"},
                            "condition": {"field": "agree", "equals": False},
                        },
                        {
                            "key": "clerk",
                            "type": "text",
                            "label": {"ja": "職員メモ"},
                            "counter_only": True,
                            "required": False,
                        },
                    ],
                },
            ]
        }
    )
    shown = build(spec, "b", language="en", answers={"kind": "x"})
    hidden = build(spec, "b", language="en", answers={"kind": "y"})
    assert "only_x" in shown.fields and "only_x" not in hidden.fields
    page = render(shown)
    assert 'data-field="only_x"' in page and 'data-field="only_x" data-condition' not in page
    assert json.loads(
        re.search(r'data-field="why" data-condition="([^"]+)"', page)
        .group(1)
        .replace("&quot;", '"')
    ) == {"name": "agree", "values": ["no"]}
    assert "Answer only if your answer to “Agree?” is “No”." in page
    assert "clerk" not in shown.fields
    counter = build(spec, "b", language="en", answers={"kind": "x"}, counter=True)
    assert "clerk" in counter.fields
    # "why" is not asked when the answer is yes, even if something was typed.
    form = build(
        spec,
        "b",
        language="en",
        answers={"kind": "x"},
        data=post({"only_x": "a", "agree": "yes", "why": "typed anyway"}),
    )
    assert form.is_valid() and form.answers == {"only_x": "a", "agree": True}


def test_optional_fields_are_marked_required_ones_are_not() -> None:
    page = render(form_for("applicant"))
    label = re.search(r'<label for="id_phone">(.*?)</label>', page, re.S).group(1)
    assert "(optional)" in label
    label = re.search(r'<label for="id_email">(.*?)</label>', page, re.S).group(1)
    assert "optional" not in label
    assert "(optional)" not in page.split("<legend>")[1].split("</legend>")[0]


def test_the_form_renders_as_a_whole_with_its_template() -> None:
    form = form_for("confirm")
    with translation.override("en"):
        page = str(form)
    assert "Check your answers before you send them." in page  # info text
    assert 'name="agree"' in page and 'type="checkbox"' in page
    assert 'name="signature_drawn"' in page and 'name="signature-typed"' in page


def test_every_error_code_has_a_message() -> None:
    codes = {
        "required": {},
        "too_long": {"max": 5},
        "invalid_email": {},
        "invalid_phone": {},
        "invalid_postal_code": {},
        "not_a_number": {},
        "too_small": {"min": 2},
        "too_large": {"max": 9},
        "invalid_date": {},
        "date_too_early": {"min": "2020-01-01"},
        "date_too_late": {"max": "2030-12-31"},
        "invalid_choice": {},
        "kana_only": {},
        "name_incomplete": {"parts": ["given_kana"]},
        "must_consent": {},
        "too_few_items": {"min": 2},
        "too_many_items": {"max": 3},
        "invalid_file": {},
        "invalid_signature": {},
        "something_new": {},
    }
    with translation.override("en"):
        messages = {code: dynforms.error_message(code, params) for code, params in codes.items()}
    assert all(messages.values())
    assert "5" in messages["too_long"] and "2" in messages["too_small"]
    assert "2020-01-01" in messages["date_too_early"]
    assert "reading of the given name" in messages["name_incomplete"]
    birth = SPEC.field("birthdate")
    with translation.override("ja"):
        assert "令和2年1月1日" in dynforms.error_message(
            "date_too_early", {"min": "2020-01-01"}, birth, "ja"
        )


@pytest.mark.django_db
def test_files_and_drawn_signatures_are_stored(media: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    procedure = make_procedure()
    from cityhall.procedures.models import Application
    from tests.conftest import make_resident

    resident = make_resident()
    app = Application.objects.create(
        procedure=procedure,
        department=procedure.department,
        version=procedure.form.versions.get(),
        applicant=resident,
    )
    files = {"photo-upload": SimpleUploadedFile("a.png", png_bytes(), "image/png")}
    from django.utils.datastructures import MultiValueDict

    form = form_for(
        "documents",
        data=post({"bank": "iga"}),
        files=MultiValueDict({k: [v] for k, v in files.items()}),
        application=app,
        actor=resident,
    )
    assert form.is_valid(), form.errors
    stored = Attachment.objects.get()
    assert form.answers["photo"] == [stored.pk]
    assert stored.field_key == "photo" and stored.uploaded_by == resident
    # The same id sent back is accepted; a made-up one is dropped.
    again = form_for(
        "documents", data=post({"bank": "iga", "photo": [str(stored.pk), "99999"]}), application=app
    )
    assert again.is_valid() and again.answers["photo"] == [stored.pk]
    # Without an application nothing is trusted.
    assert not form_for("documents", data=post({"bank": "iga", "photo": str(stored.pk)})).is_valid()

    drawn = "data:image/png;base64," + base64.b64encode(png_bytes((40, 20))).decode()
    sign = form_for(
        "confirm",
        data=post({"agree": "on", "signature_drawn": drawn}),
        application=app,
        actor=resident,
        counter=True,
    )
    assert sign.is_valid(), sign.errors
    signature = sign.answers["signature"]
    picture = Attachment.objects.get(pk=signature["attachment"])
    assert picture.content_type == "image/png" and picture.field_key == "signature"
    page = render(sign)
    assert f'name="signature-attachment" value="{picture.pk}"' in page  # kept if shown again
    kept = form_for("confirm", answers={"signature": signature}, application=app)
    assert f'name="signature-attachment" value="{picture.pk}"' in render(kept)

    fake = "data:image/png;base64," + base64.b64encode(b"GIF89a not a png").decode()
    bad = form_for(
        "confirm",
        data=post({"agree": "on", "signature_drawn": fake}),
        application=app,
        counter=True,
    )
    assert not bad.is_valid()
    assert "id_signature-typed" in summary_targets(render(bad))
