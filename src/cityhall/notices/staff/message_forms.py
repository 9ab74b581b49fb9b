"""Forms of the templates, messages and alert pages of the staff console.

The value fields of the compose and alert forms are made from the template's
placeholders (``((shelter))`` → a field ``value_shelter``); ``((name))`` is filled per
resident when sending and gets no field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityhall.core.i18n import HTML_LANG
from cityhall.core.models import District, Facility
from cityhall.notices.models import (
    TOPIC_CHOICES,
    Message,
    MessageTemplate,
    Segment,
)
from cityhall.notices.services import templates as template_service

#: ((area)) of an alert to the whole city (a value, written in the texts of every language).
WHOLE_CITY = "伊賀市全域"

#: Labels for the placeholders the presets use; any other gets a generic label.
VALUE_LABELS: dict[str, Any] = {
    "area": _("Area ((area))"),
    "shelter": _("Shelter ((shelter))"),
    "time": _("Time ((time))"),
    "water_point": _("Water distribution point ((water_point))"),
    "date": _("Date ((date))"),
    "place": _("Place ((place))"),
    "program": _("Programme ((program))"),
    "issue": _("Issue ((issue))"),
}


def field_key(language: str) -> str:
    return language.replace("-", "_")


def value_label(name: str) -> Any:
    return VALUE_LABELS.get(name) or _("Value for ((%(name)s))") % {"name": name}


def _describe(form: forms.Form) -> None:
    for name, field in form.fields.items():
        if field.help_text:
            field.widget.attrs["aria-describedby"] = f"id_{name}_helptext"


# --- templates ---------------------------------------------------------------------


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.CharField(
        label=_("Code"),
        max_length=80,
        required=False,
        help_text=_("Letters, digits, - and _. Made up when left empty; it cannot change later."),
    )
    kind = forms.ChoiceField(label=_("Kind"))
    topic = forms.ChoiceField(label=_("Topic"), choices=TOPIC_CHOICES)
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def __init__(
        self, *args: Any, kinds: list[tuple[str, Any]], new: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        kind_field = self.fields["kind"]
        assert isinstance(kind_field, forms.ChoiceField)
        kind_field.choices = kinds
        if not new:
            del self.fields["code"]
        for language in template_service.languages():
            key = field_key(language["code"])
            attrs = {"lang": language["lang"], "spellcheck": "true"}
            self.fields[f"subject_{key}"] = forms.CharField(
                label=_("Subject (%(language)s)") % {"language": language["name"]},
                required=False,
                max_length=template_service.SUBJECT_MAX,
                widget=forms.TextInput(attrs=attrs),
            )
            self.fields[f"body_{key}"] = forms.CharField(
                label=_("Text (%(language)s)") % {"language": language["name"]},
                required=False,
                widget=forms.Textarea(attrs={**attrs, "rows": 6}),
            )
        _describe(self)

    @staticmethod
    def initial_for(template: MessageTemplate) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": template.name,
            "kind": template.kind,
            "topic": template.topic,
            "is_active": template.is_active,
        }
        for code, parts in template.content.items():
            if isinstance(parts, dict):
                initial[f"subject_{field_key(code)}"] = parts.get("subject", "")
                initial[f"body_{field_key(code)}"] = parts.get("body", "")
        return initial

    def content(self) -> dict[str, dict[str, str]]:
        data = self.cleaned_data
        content: dict[str, dict[str, str]] = {}
        for code in template_service.LANGUAGE_ORDER:
            key = field_key(code)
            content[code] = {
                "subject": data.get(f"subject_{key}") or "",
                "body": data.get(f"body_{key}") or "",
            }
        return content

    def language_groups(self) -> list[dict[str, Any]]:
        return [
            {
                **language,
                "subject": self[f"subject_{field_key(language['code'])}"],
                "body": self[f"body_{field_key(language['code'])}"],
            }
            for language in template_service.languages()
        ]

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            if "." in key:
                code, part = key.split(".", 1)
                field = f"{part}_{field_key(code)}"
            elif key in template_service.LANGUAGE_ORDER:
                field = f"subject_{field_key(key)}"
            else:
                field = key
            if field not in self.fields:
                field = None  # type: ignore[assignment]
            for message in messages:
                self.add_error(field, message)


# --- compose ------------------------------------------------------------------------


class _TemplateChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.get_topic_display()})"


class ChooseForm(forms.Form):
    """Step 1: which template, to which saved segment."""

    template = _TemplateChoice(
        label=_("Template"),
        queryset=MessageTemplate.objects.none(),
        empty_label=_("Choose a template"),
    )
    segment = forms.ModelChoiceField(
        label=_("Segment"),
        queryset=Segment.objects.all(),
        empty_label=_("Choose a segment"),
        help_text=_("Saved segments. Make a new one on the segments page."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        template_field = self.fields["template"]
        assert isinstance(template_field, forms.ModelChoiceField)
        template_field.queryset = MessageTemplate.objects.filter(is_active=True).exclude(
            kind=MessageTemplate.Kind.EMERGENCY
        )
        _describe(self)


class ComposeForm(forms.Form):
    """Step 2: channels, the template's values, when."""

    template = forms.IntegerField(widget=forms.HiddenInput)
    segment = forms.IntegerField(widget=forms.HiddenInput)
    channels = forms.MultipleChoiceField(
        label=_("Channels"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Each resident is reached on the channels they chose among these."),
    )
    when = forms.ChoiceField(
        label=_("When"),
        widget=forms.RadioSelect,
        choices=[("now", _("Send now")), ("later", _("Send at a date and time"))],
        initial="now",
    )
    scheduled_at = forms.DateTimeField(
        label=_("Date and time to send"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Only when sending later. Japan time."),
    )

    def __init__(
        self,
        *args: Any,
        template: MessageTemplate,
        available_channels: list[tuple[str, Any]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        channels = self.fields["channels"]
        assert isinstance(channels, forms.MultipleChoiceField)
        channels.choices = available_channels
        channels.initial = [value for value, _label in available_channels]
        self.value_names = template_service.value_placeholders(template)
        for name in self.value_names:
            self.fields[f"value_{name}"] = forms.CharField(
                label=value_label(name),
                max_length=400,
                error_messages={"required": _("Enter a value for ((%(name)s)).") % {"name": name}},
            )
        _describe(self)

    def value_fields(self) -> list[Any]:
        return [self[f"value_{name}"] for name in self.value_names]

    def values(self) -> dict[str, str]:
        return {name: self.cleaned_data[f"value_{name}"].strip() for name in self.value_names}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("when") == "later":
            at = data.get("scheduled_at")
            if at is None:
                self.add_error("scheduled_at", _("Enter the date and time to send."))
            elif at <= timezone.now():
                self.add_error(
                    "scheduled_at", _("The date and time to send must be in the future.")
                )
        return data

    def when_at(self) -> dt.datetime | None:
        if self.cleaned_data.get("when") == "later":
            at: dt.datetime | None = self.cleaned_data.get("scheduled_at")
            return at
        return None

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        aliases = {"scheduled_at": "scheduled_at", "channels": "channels", "values": None}
        for key, messages in errors.items():
            field: str | None = aliases.get(key, key)
            if field and field not in self.fields and f"value_{field}" in self.fields:
                field = f"value_{field}"
            if field not in self.fields or field in ("template", "segment"):
                field = None
            for message in messages:
                self.add_error(field, message)


# --- alerts -------------------------------------------------------------------------


class _AlertChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class AlertForm(forms.Form):
    """The emergency fast path on one page."""

    template = _AlertChoice(
        label=_("Alert"),
        queryset=MessageTemplate.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
    )
    level = forms.ChoiceField(
        label=_("Level"),
        required=False,
        help_text=_("Leave it to use the template's level."),
    )
    whole_city = forms.BooleanField(label=_("Whole city"), required=False)
    districts = forms.MultipleChoiceField(
        label=_("Districts"), required=False, widget=forms.CheckboxSelectMultiple
    )
    value_area = forms.CharField(
        label=VALUE_LABELS["area"],
        max_length=200,
        required=False,
        help_text=_(
            "Left empty: the names of the districts chosen, or the whole city (伊賀市全域)."
        ),
    )
    shelter_facility = forms.ChoiceField(label=_("Shelter from the list"), required=False)
    value_shelter = forms.CharField(
        label=_("Or another shelter"),
        max_length=200,
        required=False,
        help_text=_("Written here, it is used instead of the list."),
    )
    value_time = forms.CharField(label=VALUE_LABELS["time"], max_length=40, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        template_field = self.fields["template"]
        assert isinstance(template_field, forms.ModelChoiceField)
        template_field.queryset = MessageTemplate.objects.filter(
            kind=MessageTemplate.Kind.EMERGENCY, is_active=True
        ).order_by("code")
        self.templates = list(template_field.queryset)
        level = self.fields["level"]
        assert isinstance(level, forms.ChoiceField)
        level.choices = [("", _("The template's level")), *Message.Level.choices]
        self.district_rows = list(
            District.objects.select_related("area").order_by("area__order", "order", "code")
        )
        districts = self.fields["districts"]
        assert isinstance(districts, forms.MultipleChoiceField)
        districts.choices = [(d.code, d.localized_name()) for d in self.district_rows]
        self.shelters = list(Facility.objects.filter(kind=Facility.Kind.SHELTER).order_by("code"))
        shelter = self.fields["shelter_facility"]
        assert isinstance(shelter, forms.ChoiceField)
        shelter.choices = [("", _("Choose a shelter"))] + [
            (f.code, f.localized_name()) for f in self.shelters
        ]
        self.fields["value_time"].initial = timezone.localtime().strftime("%H:%M")
        # Any other placeholder of a preset gets its own field.
        known = {"area", "shelter", "time"}
        self.extra_names: list[str] = []
        for template in self.templates:
            for name in template_service.value_placeholders(template):
                if name not in known and name not in self.extra_names:
                    self.extra_names.append(name)
        for name in self.extra_names:
            self.fields[f"value_{name}"] = forms.CharField(
                label=value_label(name), max_length=200, required=False
            )
        _describe(self)

    def district_groups(self) -> list[dict[str, Any]]:
        """The district checkboxes grouped by former municipality (旧市町村)."""
        groups: list[dict[str, Any]] = []
        by_code = {d.code: d for d in self.district_rows}
        for choice in self["districts"]:
            district = by_code[choice.data["value"]]
            if not groups or groups[-1]["area"].pk != district.area_id:
                groups.append({"area": district.area, "choices": []})
            groups[-1]["choices"].append(choice)
        return groups

    def extra_fields(self) -> list[Any]:
        return [self[f"value_{name}"] for name in self.extra_names]

    def template_choices(self) -> list[dict[str, Any]]:
        """Each preset radio with its やさしい日本語 subject as a preview."""
        by_pk = {str(t.pk): t for t in self.templates}
        rows = []
        for choice in self["template"]:
            template = by_pk.get(str(choice.data["value"]))
            easy = (template.content.get("ja-easy") or {}) if template else {}
            rows.append(
                {
                    "choice": choice,
                    "easy_subject": easy.get("subject", ""),
                    "easy_lang": HTML_LANG["ja-easy"],
                }
            )
        return rows

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        template: MessageTemplate | None = data.get("template")
        whole = bool(data.get("whole_city"))
        districts = data.get("districts") or []
        if whole and districts:
            self.add_error("districts", _("Choose either the whole city or districts, not both."))
        elif not whole and not districts:
            self.add_error("districts", _("Choose the districts, or the whole city."))
        if template is not None:
            for name in template_service.value_placeholders(template):
                if name == "area":
                    continue  # made from the districts when left empty
                if name == "shelter":
                    if not (data.get("value_shelter") or "").strip() and not data.get(
                        "shelter_facility"
                    ):
                        self.add_error(
                            "shelter_facility",
                            _("Choose the shelter, or write its name."),
                        )
                    continue
                if not (data.get(f"value_{name}") or "").strip():
                    field = f"value_{name}"
                    self.add_error(
                        field if field in self.fields else None,
                        _("Enter a value for ((%(name)s)).") % {"name": name},
                    )
        return data

    def district_codes(self) -> list[str]:
        if self.cleaned_data.get("whole_city"):
            return []
        return list(self.cleaned_data.get("districts") or [])

    def level_value(self) -> str:
        level = self.cleaned_data.get("level") or ""
        template: MessageTemplate = self.cleaned_data["template"]
        return level or template_service.preset_level(template.code) or Message.Level.INFO

    def values(self) -> dict[str, str]:
        data = self.cleaned_data
        template: MessageTemplate = data["template"]
        values: dict[str, str] = {}
        for name in template_service.value_placeholders(template):
            if name == "area":
                area = (data.get("value_area") or "").strip()
                if not area:
                    codes = self.district_codes()
                    area = (
                        "、".join(d.name for d in self.district_rows if d.code in codes)
                        if codes
                        else WHOLE_CITY
                    )
                values[name] = area
            elif name == "shelter":
                text = (data.get("value_shelter") or "").strip()
                if not text:
                    code = data.get("shelter_facility")
                    text = next((f.name for f in self.shelters if f.code == code), "")
                values[name] = text
            else:
                values[name] = (data.get(f"value_{name}") or "").strip()
        return values
