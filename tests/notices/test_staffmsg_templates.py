"""Message templates: every rule of validate_content, the presets, seeding, saving."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import translation

from cityhall.core.models import AuditEvent
from cityhall.notices.models import MessageTemplate
from cityhall.notices.services import templates
from cityhall.notices.templating import placeholders
from tests.core.test_translations import EASY_JAPANESE_HARD_WORDS

SEVEN = ["ja-easy", "ja", "en", "pt-br", "vi", "zh-hans", "es"]


def _content(
    languages: list[str], subject: str = "((area)) 避難", body: str = "((shelter))へ"
) -> Any:
    return {code: {"subject": subject, "body": body} for code in languages}


def _errors(content: Any, kind: str = "news") -> dict[str, list[str]]:
    with translation.override("en"):
        return templates.validate_content(content, kind=kind)


# --- validate_content: each rule --------------------------------------------------------


def test_good_content_has_no_errors() -> None:
    assert _errors(_content(["ja"])) == {}
    assert _errors(_content(SEVEN), kind="emergency") == {}


def test_japanese_is_required() -> None:
    errors = _errors(_content(["en"]))
    assert "ja.subject" in errors
    assert "Japanese is required" in errors["ja.subject"][0]


def test_emergency_needs_all_seven_languages() -> None:
    errors = _errors(_content(["ja", "ja-easy", "en"]), kind="emergency")
    assert sorted(k.split(".")[0] for k in errors) == ["es", "pt-br", "vi", "zh-hans"]
    assert "all seven languages" in errors["vi.subject"][0]
    assert "Tiếng Việt (vi)" in errors["vi.subject"][0]
    # the same three languages are fine for news
    assert _errors(_content(["ja", "ja-easy", "en"])) == {}


def test_subject_and_text_both_needed_in_a_language() -> None:
    errors = _errors({"ja": {"subject": "件名", "body": ""}, "en": {"subject": "", "body": "x"}})
    assert "enter the text" in errors["ja.body"][0]
    assert "enter a subject" in errors["en.subject"][0]


def test_lengths() -> None:
    errors = _errors({"ja": {"subject": "あ" * 121, "body": "い" * 2001}})
    assert "121 characters long; at most 120" in errors["ja.subject"][0]
    assert "2001 characters long; at most 2000" in errors["ja.body"][0]
    assert _errors({"ja": {"subject": "あ" * 120, "body": "い" * 2000}}) == {}


def test_subject_is_one_line() -> None:
    errors = _errors({"ja": {"subject": "一行目\n二行目", "body": "本文"}})
    assert "one line" in errors["ja.subject"][0]


def test_placeholder_names_must_be_valid() -> None:
    errors = _errors({"ja": {"subject": "件名", "body": "((避難所)) と ((1st)) と ((a-b))"}})
    text = " ".join(errors["ja.body"])
    for bad in ("((避難所))", "((1st))", "((a-b))"):
        assert bad in text


def test_same_placeholders_in_every_language() -> None:
    content = _content(SEVEN)
    content["pt-br"]["body"] = "Vá para o abrigo"  # dropped ((shelter))
    content["vi"]["body"] = "((shelter)) ((time))"  # added ((time))
    errors = _errors(content, kind="emergency")
    assert set(errors) == {"pt-br.body", "vi.body"}
    assert "Português (pt-br) lacks ((shelter))" in errors["pt-br.body"][0]
    assert "Tiếng Việt (vi) has ((time))" in errors["vi.body"][0]


def test_unknown_language_and_bad_shape() -> None:
    assert "content" in _errors({"ja": {"subject": "a", "body": "b"}, "fr": {}})
    assert "content" in _errors(["ja"])
    assert "ja" in _errors({"ja": "just a string"})


# --- presets ----------------------------------------------------------------------------


def test_every_preset_is_valid_and_alerts_have_seven_languages() -> None:
    alerts = [p for p in templates.presets() if p["kind"] == "emergency"]
    assert {p["name"] for p in alerts} >= {
        "警戒レベル3 高齢者等避難",
        "警戒レベル4 避難指示",
        "警戒レベル5 緊急安全確保",
        "避難所開設",
        "大雨・洪水警報",
        "断水",
        "避難指示の解除",
        "熊の出没",
    }
    for preset in templates.presets():
        assert _errors(preset["content"], kind=preset["kind"]) == {}, preset["code"]
    for preset in alerts:
        assert list(preset["content"]) == SEVEN, preset["code"]  # やさしい日本語 first
        assert preset["level"] in {"info", "level3", "level4", "level5", "all_clear"}


def test_placeholders_agree_across_the_seven_languages() -> None:
    for preset in templates.presets():
        found = {
            code: placeholders(parts["subject"]) | placeholders(parts["body"])
            for code, parts in preset["content"].items()
        }
        assert len({frozenset(v) for v in found.values()}) == 1, (preset["code"], found)


def test_alert_texts_are_calm_and_easy() -> None:
    for preset in templates.presets():
        if preset["kind"] != "emergency":
            continue
        easy = preset["content"]["ja-easy"]
        assert len(easy["subject"]) <= 60
        # short sentences in やさしい日本語
        for line in easy["body"].splitlines():
            assert len(line) <= 80, (preset["code"], line)
        for word in EASY_JAPANESE_HARD_WORDS:
            assert word not in easy["subject"] + easy["body"], (preset["code"], word)
    level4 = next(p for p in templates.presets() if p["code"] == "alert-level4")
    assert "にげてください" in level4["content"]["ja-easy"]["body"]


def test_news_presets_have_name_and_a_value() -> None:
    for preset in templates.presets():
        if preset["kind"] != "news":
            continue
        assert {"ja", "ja-easy", "en"} <= set(preset["content"])
        names = placeholders(preset["content"]["ja"]["body"])
        assert "name" in names and len(names) >= 2


def test_data_files_put_easy_japanese_first() -> None:
    for path in templates.PRESET_FILES:
        data = json.loads(path.read_text(encoding="utf-8"))
        for item in data["templates"]:
            assert next(iter(item["content"])) == "ja-easy", item["code"]


# --- seeding ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_seeding_is_idempotent_and_updates_presets() -> None:
    first = templates.seed_templates()
    assert first == len(templates.presets())
    assert MessageTemplate.objects.filter(kind="emergency").count() == 8
    assert templates.seed_templates() == 0
    seeded = AuditEvent.objects.filter(action="notices.templates_seeded").count()
    assert seeded == 1

    # someone changed a preset's text: seeding brings it back
    bear = MessageTemplate.objects.get(code="alert-bear")
    bear.content = {"ja": {"subject": "x", "body": "y"}}
    bear.save()
    assert templates.seed_templates() == 1
    bear.refresh_from_db()
    # PostgreSQL's jsonb keeps no key order: the display order comes from ordered().
    assert sorted(bear.content) == sorted(SEVEN)
    assert list(templates.ordered(bear.content)) == SEVEN


@pytest.mark.django_db
def test_seed_command(capsys: Any) -> None:
    call_command("seed_notice_templates")
    call_command("seed_notice_templates")
    out = capsys.readouterr().out
    assert "already up to date" in out
    assert MessageTemplate.objects.count() == len(templates.presets())


@pytest.mark.django_db
def test_preset_level() -> None:
    assert templates.preset_level("alert-level4") == "level4"
    assert templates.preset_level("alert-all-clear") == "all_clear"
    assert templates.preset_level("nope") == ""


# --- saving -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_save_template_creates_and_changes_with_audit(koho: Any) -> None:
    template = templates.save_template(
        name="夏祭り",
        kind="news",
        topic="events",
        content={"ja": {"subject": "((event))", "body": "((name))様 ((event))"}, "en": {}},
        actor=koho,
    )
    assert template.code.startswith("tpl-")
    assert template.content == {"ja": {"subject": "((event))", "body": "((name))様 ((event))"}}
    assert AuditEvent.objects.filter(action="notices.template_created").count() == 1
    templates.save_template(
        template=template,
        name="夏祭り（改）",
        kind="news",
        topic="events",
        content={
            "ja": {"subject": "((event))", "body": "((name))様 ((event))"},
            "en": {"subject": "((event))", "body": "Dear ((name)), ((event))"},
        },
        actor=koho,
    )
    template.refresh_from_db()
    assert template.name == "夏祭り（改）" and set(template.content) == {"ja", "en"}
    event = AuditEvent.objects.get(action="notices.template_changed")
    assert set(event.details["fields"]) == {"name", "content"}


@pytest.mark.django_db
def test_save_template_refuses_bad_input(koho: Any) -> None:
    with translation.override("en"), pytest.raises(templates.TemplateError) as caught:
        templates.save_template(
            name="",
            kind="news",
            topic="emergency",
            content={"en": {"subject": "x", "body": "y"}},
            actor=koho,
        )
    assert {"name", "topic", "ja.subject"} <= set(caught.value.errors)
    assert MessageTemplate.objects.count() == 0
    MessageTemplate.objects.create(code="taken", name="t", topic="events", content={})
    with pytest.raises(templates.TemplateError) as caught:
        templates.save_template(
            name="x",
            code="taken",
            kind="news",
            topic="events",
            content={"ja": {"subject": "x", "body": "y"}},
            actor=koho,
        )
    assert "code" in caught.value.errors


def test_easy_japanese_avoids_hard_words_in_every_preset() -> None:
    for preset in templates.presets():
        easy = preset["content"]["ja-easy"]
        for word in EASY_JAPANESE_HARD_WORDS:
            assert word not in easy["subject"] + easy["body"], (preset["code"], word)
