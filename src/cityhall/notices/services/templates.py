"""Message templates (GOV.UK Notify style): subject and text per language with
``((placeholders))``.

- :func:`validate_content` checks a template's languages before it is saved: Japanese is
  required, an emergency template needs all seven languages, subjects and texts have a
  length limit (a LINE text holds 5,000 characters and a web push payload 4 KB, so a
  text is kept to 2,000), placeholder names are well formed, and every language uses
  the same placeholders — a translation that dropped ``((shelter))`` is refused, naming
  the language.
- :func:`save_template` creates or changes a template (in a transaction, audited).
- :func:`seed_templates` loads the preset templates of ``data/alert_templates.json`` (防災・
  避難情報, all seven languages, やさしい日本語 first) and ``data/news_templates.json``,
  upserting by code: a second run changes nothing, a changed preset file updates the
  content.
"""

from __future__ import annotations

import json
import re
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cityhall.core import audit
from cityhall.core.i18n import HTML_LANG
from cityhall.core.seed import upsert
from cityhall.notices.models import EMERGENCY, TOPICS, MessageTemplate
from cityhall.notices.templating import PER_RECIPIENT, PLACEHOLDER, placeholders

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
PRESET_FILES = (DATA_DIR / "alert_templates.json", DATA_DIR / "news_templates.json")

#: The order languages are shown and stored in: やさしい日本語 first (it reaches the most
#: people in a disaster), then Japanese, then the others.
LANGUAGE_ORDER = ["ja-easy", "ja", "en", "pt-br", "vi", "zh-hans", "es"]
LANGUAGE_NAMES = {
    "ja-easy": "やさしい日本語",
    "ja": "日本語",
    "en": "English",
    "pt-br": "Português",
    "vi": "Tiếng Việt",
    "zh-hans": "中文(简体)",
    "es": "Español",
}
PARTS = ("subject", "body")
SUBJECT_MAX = 120
BODY_MAX = 2000
#: Anything between double round brackets, to catch malformed placeholder names.
_BRACKETED = re.compile(r"\(\(([^()]*)\)\)")
_VALID_NAME = re.compile(r"^\s*[A-Za-z][A-Za-z0-9_]{0,39}\s*$")


class TemplateError(ValueError):
    """A template that cannot be saved; ``errors`` maps keys to messages.

    Keys: ``"<language>.subject"``, ``"<language>.body"``, ``"<language>"`` (the
    language as a whole), ``"content"``, or a field (``"name"``, ``"code"``, ``"topic"``,
    ``"kind"``).
    """

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(m for ms in errors.values() for m in ms))


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def languages() -> list[dict[str, str]]:
    """The template languages in display order, with their name and HTML ``lang`` tag."""
    return [
        {"code": code, "name": LANGUAGE_NAMES[code], "lang": HTML_LANG.get(code, code)}
        for code in LANGUAGE_ORDER
    ]


def ordered(content: dict[str, Any]) -> dict[str, dict[str, str]]:
    """``content`` with its languages in display order (unknown codes left out)."""
    return {code: dict(content[code]) for code in LANGUAGE_ORDER if code in content}


def placeholders_of(content: dict[str, Any]) -> list[str]:
    """Every placeholder name used in any language, in order of first appearance."""
    seen: dict[str, None] = {}
    for code in LANGUAGE_ORDER:
        parts = content.get(code)
        if not isinstance(parts, dict):
            continue
        for part in PARTS:
            for match in PLACEHOLDER.finditer(str(parts.get(part) or "")):
                seen.setdefault(match.group(1), None)
    return list(seen)


def value_placeholders(template: MessageTemplate) -> list[str]:
    """The placeholders that need a value when a message is made (not ``((name))``)."""
    return [name for name in placeholders_of(template.content) if name not in PER_RECIPIENT]


def _text_placeholders(parts: dict[str, Any]) -> set[str]:
    return placeholders(str(parts.get("subject") or "")) | placeholders(
        str(parts.get("body") or "")
    )


def validate_content(content: Any, *, kind: str) -> dict[str, list[str]]:
    """Everything wrong with a template's ``content``; an empty dict when it is good."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if not isinstance(content, dict):
        add("content", _("The template's content must be texts per language."))
        return errors
    unknown = sorted(set(content) - set(LANGUAGE_ORDER))
    if unknown:
        add("content", _("Unknown languages: %(codes)s.") % {"codes": ", ".join(unknown)})
    required = list(LANGUAGE_ORDER) if kind == MessageTemplate.Kind.EMERGENCY else ["ja"]
    present: dict[str, dict[str, str]] = {}
    for code in LANGUAGE_ORDER:
        parts = content.get(code)
        if parts is None:
            parts = {}
        if not isinstance(parts, dict):
            add(code, _("%(language)s: subject and text are missing.") % _named(code))
            continue
        subject = str(parts.get("subject") or "").strip()
        body = str(parts.get("body") or "").strip()
        if not subject and not body:
            if code in required:
                if kind == MessageTemplate.Kind.EMERGENCY:
                    message = _(
                        "%(language)s is missing: an emergency alert needs all seven languages."
                    )
                else:
                    message = _("%(language)s is missing: Japanese is required.")
                add(f"{code}.subject", message % _named(code))
            continue
        if not subject:
            add(f"{code}.subject", _("%(language)s: enter a subject.") % _named(code))
        if not body:
            add(f"{code}.body", _("%(language)s: enter the text.") % _named(code))
        if "\n" in subject or "\r" in subject:
            add(f"{code}.subject", _("%(language)s: the subject must be one line.") % _named(code))
        if len(subject) > SUBJECT_MAX:
            add(
                f"{code}.subject",
                _("%(language)s: the subject is %(n)s characters long; at most %(max)s.")
                % {**_named(code), "n": len(subject), "max": SUBJECT_MAX},
            )
        if len(body) > BODY_MAX:
            add(
                f"{code}.body",
                _("%(language)s: the text is %(n)s characters long; at most %(max)s.")
                % {**_named(code), "n": len(body), "max": BODY_MAX},
            )
        for part, text in (("subject", subject), ("body", body)):
            bad = [
                m.group(1) for m in _BRACKETED.finditer(text) if not _VALID_NAME.match(m.group(1))
            ]
            for name in dict.fromkeys(bad):
                add(
                    f"{code}.{part}",
                    _(
                        "%(language)s: ((%(name)s)) is not a valid placeholder: use letters, "
                        "digits and _ only, starting with a letter."
                    )
                    % {**_named(code), "name": name},
                )
        present[code] = {"subject": subject, "body": body}

    # The same placeholders in every language: Japanese is the reference.
    reference_code = "ja" if "ja" in present else next(iter(present), None)
    if reference_code is not None:
        reference = _text_placeholders(present[reference_code])
        for code, parts in present.items():
            if code == reference_code:
                continue
            found = _text_placeholders(parts)
            missing = sorted(reference - found)
            extra = sorted(found - reference)
            if missing:
                add(
                    f"{code}.body",
                    _("%(language)s lacks %(names)s, which %(reference)s has.")
                    % {
                        **_named(code),
                        "names": ", ".join(f"(({n}))" for n in missing),
                        "reference": language_name(reference_code),
                    },
                )
            if extra:
                add(
                    f"{code}.body",
                    _("%(language)s has %(names)s, which %(reference)s does not have.")
                    % {
                        **_named(code),
                        "names": ", ".join(f"(({n}))" for n in extra),
                        "reference": language_name(reference_code),
                    },
                )
    return errors


def _named(code: str) -> dict[str, str]:
    return {"language": f"{language_name(code)} ({code})"}


def clean_content(content: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Strip the texts and drop empty languages; languages in display order."""
    cleaned: dict[str, dict[str, str]] = {}
    for code in LANGUAGE_ORDER:
        parts = content.get(code)
        if not isinstance(parts, dict):
            continue
        subject = str(parts.get("subject") or "").strip()
        body = str(parts.get("body") or "").strip().replace("\r\n", "\n")
        if subject or body:
            cleaned[code] = {"subject": subject, "body": body}
    return cleaned


def save_template(
    *,
    template: MessageTemplate | None = None,
    name: str,
    kind: str,
    topic: str,
    content: dict[str, Any],
    actor: Any,
    code: str = "",
    is_active: bool = True,
    request: Any = None,
) -> MessageTemplate:
    """Create a template (``template=None``) or change one; raises :class:`TemplateError`."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Enter a name for the template.")]
    if kind not in MessageTemplate.Kind.values:
        errors["kind"] = [_("Choose a kind of template.")]
    if topic not in TOPICS:
        errors["topic"] = [_("Choose a topic.")]
    elif kind == MessageTemplate.Kind.EMERGENCY and topic != EMERGENCY:
        errors["topic"] = [_("An emergency template has the topic “Emergency alerts”.")]
    elif kind != MessageTemplate.Kind.EMERGENCY and topic == EMERGENCY:
        errors["topic"] = [_("Only emergency templates have the topic “Emergency alerts”.")]
    code = (code or "").strip()
    if template is None:
        if code and not re.fullmatch(r"[-a-zA-Z0-9_]{1,80}", code):
            errors["code"] = [_("Use letters, digits, - and _ only (at most 80).")]
        elif code and MessageTemplate.objects.filter(code=code).exists():
            errors["code"] = [_("A template with this code exists already.")]
    errors.update(validate_content(content, kind=kind))
    if errors:
        raise TemplateError(errors)
    cleaned = clean_content(content)
    with transaction.atomic():
        if template is None:
            template = MessageTemplate.objects.create(
                code=code or f"tpl-{uuid.uuid4().hex[:10]}",
                name=name,
                kind=kind,
                topic=topic,
                content=cleaned,
                is_active=is_active,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
            action = "notices.template_created"
            changed = ["name", "kind", "topic", "content", "is_active"]
        else:
            template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
            new = {
                "name": name,
                "kind": kind,
                "topic": topic,
                "content": cleaned,
                "is_active": is_active,
            }
            changed = [f for f, v in new.items() if getattr(template, f) != v]
            for field, value in new.items():
                setattr(template, field, value)
            template.save()
            action = "notices.template_changed"
        audit.record(
            action,
            request=request,
            actor=actor,
            target=template,
            details={
                "code": template.code,
                "fields": changed,
                "languages": list(cleaned),
            },
        )
    return template


# --- presets ------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _read(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    items: list[dict[str, Any]] = data["templates"]
    return items


def presets() -> list[dict[str, Any]]:
    """Every preset of the data files (alerts first), as written there."""
    return [item for path in PRESET_FILES for item in _read(path)]


def preset_level(code: str) -> str:
    """The evacuation level (``Message.Level``) a preset alert is sent with by default."""
    for item in presets():
        if item["code"] == code:
            return str(item.get("level") or "")
    return ""


def seed_templates() -> int:
    """Upsert the presets by code; returns how many were created or changed (0 when
    everything was already up to date). Every preset is checked first: a broken file
    writes nothing."""
    items = presets()
    problems: dict[str, list[str]] = {}
    for item in items:
        for key, messages in validate_content(item["content"], kind=item["kind"]).items():
            problems.setdefault(f"{item['code']}: {key}", []).extend(messages)
    if problems:
        raise TemplateError(problems)
    changed = 0
    codes: list[str] = []
    with transaction.atomic():
        for item in items:
            _obj, outcome = upsert(
                MessageTemplate,
                {"code": item["code"]},
                {
                    "name": item["name"],
                    "kind": item["kind"],
                    "topic": item["topic"],
                    "content": clean_content(item["content"]),
                },
            )
            if outcome != "unchanged":
                changed += 1
                codes.append(item["code"])
        if changed:
            audit.record("notices.templates_seeded", details={"changed": changed, "codes": codes})
    return changed
