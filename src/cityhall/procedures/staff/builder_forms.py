"""Forms of the form builder: a step, a question of each type, publish, import.

Each form only reads and checks what the clerk typed; it turns it into the formspec
JSON of one step or one question (:meth:`FieldForm.to_field`). The draft is changed
by :mod:`cityhall.procedures.services.builder`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cityhall.core.forms import AccessibleFormMixin
from cityhall.core.i18n import html_lang
from cityhall.procedures.formspec.schema import (
    CHOICE_TYPES,
    DEFAULT_ACCEPT,
    DEFAULT_MAX_LENGTH,
    DEFAULT_MAX_MB,
    KEY_RE,
    MAX_MB_LIMIT,
    FieldType,
)
from cityhall.procedures.formspec.text import LANGUAGES, pick
from cityhall.procedures.formspec.values import FALSE_WORDS, TRUE_WORDS
from cityhall.procedures.services import prefill

TYPE_NAMES: dict[str, Any] = {
    FieldType.TEXT: _("Short text"),
    FieldType.TEXTAREA: _("Long text (several lines)"),
    FieldType.NUMBER: _("Number"),
    FieldType.EMAIL: _("E-mail address"),
    FieldType.PHONE: _("Phone number"),
    FieldType.POSTAL_CODE: _("Postal code (〒)"),
    FieldType.ADDRESS: _("Address"),
    FieldType.NAME: _("Name with furigana"),
    FieldType.DATE: _("Date (和暦 or 西暦)"),
    FieldType.CHOICE: _("One choice (radio buttons)"),
    FieldType.SELECT: _("One choice from a long list (drop-down)"),
    FieldType.MULTICHOICE: _("Several choices (check boxes)"),
    FieldType.YESNO: _("Yes or no"),
    FieldType.FILE: _("File upload (photo or PDF)"),
    FieldType.CONSENT: _("Consent (a box that must be ticked)"),
    FieldType.SIGNATURE: _("Signature (on screen at the counter, or typed)"),
    FieldType.GROUP: _("Repeatable group (for example family members)"),
    FieldType.INFO: _("Information text (nothing is asked)"),
}

TYPE_HINTS: dict[str, Any] = {
    FieldType.NAME: _("Family and given name, each with its reading in katakana."),
    FieldType.DATE: _("The resident may type 令和8年4月1日 or 2026-04-01."),
    FieldType.GROUP: _("A set of questions the resident can fill in several times."),
    FieldType.SIGNATURE: _("At the counter the resident signs on the second screen."),
}

FILE_TYPES: dict[str, Any] = {
    "image/jpeg": _("JPEG photo"),
    "image/png": _("PNG image"),
    "image/heic": _("HEIC photo (iPhone)"),
    "application/pdf": _("PDF document"),
}

# Questions whose answer can come from a prefill source.
PREFILLABLE = frozenset(
    {
        FieldType.TEXT,
        FieldType.TEXTAREA,
        FieldType.NUMBER,
        FieldType.EMAIL,
        FieldType.PHONE,
        FieldType.POSTAL_CODE,
        FieldType.ADDRESS,
        FieldType.NAME,
        FieldType.DATE,
        FieldType.CHOICE,
        FieldType.SELECT,
        FieldType.MULTICHOICE,
        FieldType.YESNO,
    }
)
TEXT_LENGTH_TYPES = frozenset({FieldType.TEXT, FieldType.TEXTAREA, FieldType.ADDRESS})
# Order of the language columns in a line of choices, after the value.
CHOICE_COLUMNS = ("ja", "en", "ja-easy", "pt-br", "vi", "zh-hans", "es")
MAX_CHOICES = 300
MAX_TEXT = 500
MAX_HELP = 2000


def language_names() -> dict[str, str]:
    return dict(settings.LANGUAGES)


def suffix(code: str) -> str:
    return code.replace("-", "_")


def type_name(value: str) -> str:
    return str(TYPE_NAMES.get(value, value))


class StampMixin(forms.Form):
    """Carries the draft's stamp (when the page was made) for optimistic concurrency."""

    stamp = forms.CharField(required=False, widget=forms.HiddenInput)


def _text_inputs(
    form: forms.Form,
    prefix: str,
    label: Any,
    *,
    required_ja: bool,
    textarea: bool = False,
    max_length: int = MAX_TEXT,
) -> None:
    names = language_names()
    for code in LANGUAGES:
        attrs = {"lang": html_lang(code), "spellcheck": "false" if code != "en" else "true"}
        widget: forms.Widget = (
            forms.Textarea(attrs={**attrs, "rows": 3}) if textarea else forms.TextInput(attrs=attrs)
        )
        form.fields[f"{prefix}_{suffix(code)}"] = forms.CharField(
            label=f"{label} — {names.get(code, code)}",
            required=required_ja and code == "ja",
            max_length=max_length,
            widget=widget,
            strip=True,
        )


def texts_from(cleaned: dict[str, Any], prefix: str) -> dict[str, str]:
    out = {}
    for code in LANGUAGES:
        value = (cleaned.get(f"{prefix}_{suffix(code)}") or "").strip()
        if value:
            out[code] = value
    return out


def texts_initial(texts: Any, prefix: str) -> dict[str, str]:
    if isinstance(texts, str):
        texts = {"ja": texts}
    texts = texts if isinstance(texts, dict) else {}
    return {f"{prefix}_{suffix(code)}": texts.get(code, "") for code in LANGUAGES}


def text_fields(form: forms.Form, prefix: str) -> list[forms.BoundField]:
    return [form[f"{prefix}_{suffix(code)}"] for code in LANGUAGES]


def _clean_key(value: str) -> str:
    value = (value or "").strip()
    if value and not KEY_RE.match(value):
        raise forms.ValidationError(
            _(
                "Use lower-case letters a–z, digits and _, starting with a letter "
                "(at most 60), for example date_of_birth."
            )
        )
    return value


class TitleForm(AccessibleFormMixin, StampMixin):
    """The form's own title (shown above the steps)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _text_inputs(self, "title", _("Title of the form"), required_ja=True)

    def title(self) -> dict[str, str]:
        return texts_from(self.cleaned_data, "title")


class StepForm(AccessibleFormMixin, StampMixin):
    key = forms.CharField(
        label=_("Key of the step"),
        required=False,
        max_length=60,
        help_text=_("Leave empty to make one from the English title. Letters a–z, digits and _."),
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocapitalize": "none"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _text_inputs(self, "title", _("Title of the step"), required_ja=True)
        _text_inputs(
            self,
            "intro",
            _("Introduction"),
            required_ja=False,
            textarea=True,
            max_length=MAX_HELP,
        )
        self.order_fields(["key"])

    def clean_key(self) -> str:
        return _clean_key(self.cleaned_data.get("key", ""))

    @staticmethod
    def initial_from(step: dict[str, Any]) -> dict[str, Any]:
        return {
            "key": step.get("key", ""),
            **texts_initial(step.get("title"), "title"),
            **texts_initial(step.get("intro"), "intro"),
        }


class TypeForm(AccessibleFormMixin, forms.Form):
    """First page of "add a question": the type, or a ready-made question from the library."""

    type = forms.ChoiceField(
        label=_("Type of question"),
        widget=forms.RadioSelect,
        required=False,
    )
    library = forms.ChoiceField(
        label=_("Or a common question from the library"),
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        library: list[tuple[str, str]] | None = None,
        in_group: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        types = [
            (value, type_name(value))
            for value in FieldType
            if not (in_group and value == FieldType.GROUP)
        ]
        type_field = self.fields["type"]
        library_field = self.fields["library"]
        assert isinstance(type_field, forms.ChoiceField)
        assert isinstance(library_field, forms.ChoiceField)
        type_field.choices = types
        library_field.choices = library or []
        if not library:
            del self.fields["library"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("type") and not data.get("library"):
            raise forms.ValidationError(
                _("Choose a type of question or a question from the library.")
            )
        if data.get("type") and data.get("library"):
            raise forms.ValidationError(_("Choose either a type or a library question, not both."))
        return data


def parse_choices(text: str) -> list[dict[str, Any]]:
    """Lines of ``value | 日本語 | English``, optionally followed by
    ``| やさしい日本語 | Português | Tiếng Việt | 中文 | Español``.

    A line with one part is both value and Japanese label. Raises ValidationError
    naming the line that is wrong.
    """
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if len(lines) > MAX_CHOICES:
        raise forms.ValidationError(
            _("At most %(max)s choices.") % {"max": MAX_CHOICES}, code="too_many"
        )
    for number, line in enumerate(lines, start=1):
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        value = parts[0]
        labels = parts[1:] if len(parts) > 1 else [value]
        if not value:
            raise forms.ValidationError(
                _("Line %(line)s has no value before the first |.") % {"line": number}
            )
        if len(value) > 100:
            raise forms.ValidationError(
                _("Line %(line)s: the value is longer than 100 characters.") % {"line": number}
            )
        if value in seen:
            raise forms.ValidationError(
                _("Line %(line)s: the value “%(value)s” is already used.")
                % {"line": number, "value": value}
            )
        if len(labels) > len(CHOICE_COLUMNS):
            raise forms.ValidationError(
                _("Line %(line)s has more parts than there are languages.") % {"line": number}
            )
        seen.add(value)
        label = {code: text for code, text in zip(CHOICE_COLUMNS, labels, strict=False) if text}
        if not label.get("ja"):
            label["ja"] = value
        out.append({"value": value, "label": label})
    return out


def choices_text(choices: Any) -> str:
    lines = []
    for choice in choices or []:
        if not isinstance(choice, dict):
            continue
        label = choice.get("label") or {}
        if isinstance(label, str):
            label = {"ja": label}
        columns = [label.get(code, "") for code in CHOICE_COLUMNS]
        while columns and not columns[-1]:
            columns.pop()
        lines.append(" | ".join([str(choice.get("value", "")), *columns]))
    return "\n".join(lines)


def _prefill_rank(source: str) -> tuple[int, int]:
    """Most trustworthy first: identity (card) before profile; "previous" last."""
    order = [name for name, _label in prefill.sources()]
    if source == prefill.PREVIOUS:
        return (99, 0)
    plugin = prefill.REGISTRY.get(source.partition(".")[0])
    rank = prefill.RANK.get(plugin.assurance, 0) if plugin else 0
    return (-rank, order.index(source) if source in order else 0)


def _date_bound(value: str) -> str:
    value = (value or "").strip()
    if not value or value == "today":
        return value
    try:
        dt.date.fromisoformat(value)
    except ValueError as exc:
        raise forms.ValidationError(
            _("Write a date like 2026-04-01, or the word today."), code="invalid"
        ) from exc
    return value


class FieldForm(AccessibleFormMixin, StampMixin):
    """One question of a given type. Only the settings that matter for the type are asked."""

    key = forms.CharField(
        label=_("Key"),
        required=False,
        max_length=60,
        help_text=_(
            "The name of the answer in exports and the API. Leave empty to make one from the "
            "English label. Letters a–z, digits and _. Changing it on a published form loses "
            "the link to earlier answers."
        ),
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocapitalize": "none"}),
    )

    def __init__(
        self,
        *args: Any,
        field_type: str,
        earlier: list[dict[str, Any]] | None = None,
        language: str = "ja",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.field_type = FieldType(field_type)
        self.earlier = {str(f.get("key")): f for f in earlier or []}
        t = self.field_type
        _text_inputs(self, "label", _("Label"), required_ja=True)
        _text_inputs(
            self, "help", _("Help text"), required_ja=False, textarea=True, max_length=MAX_HELP
        )
        if t not in (FieldType.INFO, FieldType.CONSENT):
            self.fields["required"] = forms.BooleanField(
                label=_("An answer is required"), required=False
            )
        if t in CHOICE_TYPES:
            self.fields["choices"] = forms.CharField(
                label=_("Choices"),
                widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
                help_text=_(
                    "One choice per line: value | 日本語 | English. More languages may follow "
                    "in this order: やさしい日本語 | Português | Tiếng Việt | 中文 | Español. "
                    "For example: car | 自動車 | Car"
                ),
            )
        if self.earlier:
            self.fields["condition_field"] = forms.ChoiceField(
                label=_("Show this question only if"),
                required=False,
                choices=[("", _("Always show it"))]
                + [
                    (key, f"{pick(f.get('label') or {}, language)} ({key})")
                    for key, f in self.earlier.items()
                ],
            )
            self.fields["condition_value"] = forms.CharField(
                label=_("… has this answer"),
                required=False,
                max_length=200,
                help_text=_(
                    "For a yes-or-no question write yes or no; for choices, the value. "
                    "Leave empty to show the question whenever that one is answered."
                ),
            )
        if t in PREFILLABLE:
            self.fields["prefill"] = forms.MultipleChoiceField(
                label=_("Fill in from what the city already knows"),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                choices=prefill.sources(),
                help_text=_(
                    "The first source that has a value is used; the verified identity is "
                    "tried before the profile, an earlier application last."
                ),
            )
        if t == FieldType.NUMBER:
            self.fields["min"] = forms.IntegerField(label=_("Smallest number"), required=False)
            self.fields["max"] = forms.IntegerField(label=_("Largest number"), required=False)
        if t == FieldType.DATE:
            self.fields["min"] = forms.CharField(
                label=_("Earliest date"),
                required=False,
                max_length=10,
                help_text=_("Like 2026-04-01, or the word today."),
                widget=forms.TextInput(attrs={"class": "input--short"}),
            )
            self.fields["max"] = forms.CharField(
                label=_("Latest date"),
                required=False,
                max_length=10,
                help_text=_("Like 2026-04-01, or the word today."),
                widget=forms.TextInput(attrs={"class": "input--short"}),
            )
            self.fields["calendar"] = forms.ChoiceField(
                label=_("Calendar shown"),
                choices=[
                    ("wareki", _("Japanese era (和暦), like 令和8年")),
                    ("seireki", _("Western (西暦), like 2026")),
                ],
                widget=forms.RadioSelect,
                initial="seireki",
            )
        if t in TEXT_LENGTH_TYPES:
            self.fields["max_length"] = forms.IntegerField(
                label=_("Most characters"),
                required=False,
                min_value=1,
                max_value=10000,
                help_text=_("Empty: %(default)s.") % {"default": DEFAULT_MAX_LENGTH[t]},
                widget=forms.NumberInput(attrs={"class": "input--short"}),
            )
        if t == FieldType.FILE:
            self.fields["accept"] = forms.MultipleChoiceField(
                label=_("File types accepted"),
                widget=forms.CheckboxSelectMultiple,
                choices=[(c, f"{FILE_TYPES.get(c, c)} ({c})") for c in DEFAULT_ACCEPT],
                initial=list(DEFAULT_ACCEPT),
            )
            self.fields["max_mb"] = forms.IntegerField(
                label=_("Largest file, in MB"),
                min_value=1,
                max_value=MAX_MB_LIMIT,
                initial=DEFAULT_MAX_MB,
                widget=forms.NumberInput(attrs={"class": "input--short"}),
            )
        if t == FieldType.GROUP:
            self.fields["min_items"] = forms.IntegerField(
                label=_("Fewest entries"),
                min_value=0,
                max_value=50,
                initial=1,
                widget=forms.NumberInput(attrs={"class": "input--short"}),
            )
            self.fields["max_items"] = forms.IntegerField(
                label=_("Most entries"),
                min_value=1,
                max_value=50,
                initial=10,
                widget=forms.NumberInput(attrs={"class": "input--short"}),
            )
        self.fields["counter_only"] = forms.BooleanField(
            label=_("Only at the counter (the clerk fills it in; residents online do not see it)"),
            required=False,
        )
        self.order_fields(["key"])

    # --- the groups of inputs the template shows ---------------------------------------

    def labels(self) -> list[forms.BoundField]:
        return text_fields(self, "label")

    def helps(self) -> list[forms.BoundField]:
        return text_fields(self, "help")

    def settings_fields(self) -> list[forms.BoundField]:
        names = [
            "required",
            "choices",
            "condition_field",
            "condition_value",
            "prefill",
            "min",
            "max",
            "calendar",
            "max_length",
            "accept",
            "max_mb",
            "min_items",
            "max_items",
            "counter_only",
        ]
        return [self[name] for name in names if name in self.fields]

    # --- checking -------------------------------------------------------------------------

    def clean_key(self) -> str:
        return _clean_key(self.cleaned_data.get("key", ""))

    def clean_choices(self) -> list[dict[str, Any]]:
        choices = parse_choices(self.cleaned_data.get("choices", ""))
        if not choices:
            raise forms.ValidationError(_("Write at least one choice."))
        return choices

    def clean_min(self) -> Any:
        value = self.cleaned_data.get("min")
        return _date_bound(value or "") if self.field_type == FieldType.DATE else value

    def clean_max(self) -> Any:
        value = self.cleaned_data.get("max")
        return _date_bound(value or "") if self.field_type == FieldType.DATE else value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("min"), data.get("max")
        if (
            self.field_type == FieldType.NUMBER
            and low is not None
            and high is not None
            and low > high
        ):
            self.add_error("max", _("The largest number is smaller than the smallest."))
        if (
            self.field_type == FieldType.DATE
            and low
            and high
            and "today" not in (low, high)
            and low > high
        ):
            self.add_error("max", _("The latest date is before the earliest."))
        if (
            self.field_type == FieldType.GROUP
            and data.get("min_items") is not None
            and data.get("max_items") is not None
            and data["min_items"] > data["max_items"]
        ):
            self.add_error("max_items", _("The most entries is fewer than the fewest."))
        target_key = data.get("condition_field")
        if target_key:
            try:
                data["condition"] = self._condition(target_key, data.get("condition_value", ""))
            except forms.ValidationError as exc:
                self.add_error("condition_value", exc)
        return data

    def _condition(self, key: str, raw: str) -> dict[str, Any]:
        target = self.earlier[key]
        raw = (raw or "").strip()
        if not raw:
            return {"field": key, "filled": True}
        kind = target.get("type")
        if kind in (FieldType.YESNO, FieldType.CONSENT):
            lowered = raw.lower()
            if lowered in TRUE_WORDS:
                return {"field": key, "equals": True}
            if lowered in FALSE_WORDS:
                return {"field": key, "equals": False}
            raise forms.ValidationError(_("Write yes or no."))
        if kind in CHOICE_TYPES:
            for choice in target.get("choices") or []:
                label = choice.get("label") or {}
                names = label.values() if isinstance(label, dict) else [label]
                if raw == choice.get("value") or raw in names:
                    return {"field": key, "equals": choice.get("value")}
            values = ", ".join(str(c.get("value")) for c in target.get("choices") or [])
            raise forms.ValidationError(
                _("That question has no such choice. Its values are: %(values)s.")
                % {"values": values}
            )
        if kind == FieldType.NUMBER:
            try:
                return {"field": key, "equals": int(raw)}
            except ValueError as exc:
                raise forms.ValidationError(_("Write a whole number.")) from exc
        return {"field": key, "equals": raw}

    # --- to and from JSON -------------------------------------------------------------------

    def to_field(self, existing: dict[str, Any] | None = None) -> dict[str, Any]:
        """The question as formspec JSON; keys this form does not manage are kept."""
        data = self.cleaned_data
        t = self.field_type
        managed = {
            "key",
            "type",
            "label",
            "help",
            "required",
            "choices",
            "condition",
            "prefill",
            "min",
            "max",
            "max_length",
            "calendar",
            "accept",
            "max_mb",
            "min_items",
            "max_items",
            "counter_only",
        }
        out: dict[str, Any] = {k: v for k, v in (existing or {}).items() if k not in managed}
        out["key"] = data.get("key") or ""
        out["type"] = str(t)
        out["label"] = texts_from(data, "label")
        help_texts = texts_from(data, "help")
        if help_texts:
            out["help"] = help_texts
        if "required" in self.fields:
            out["required"] = bool(data.get("required"))
        if t in CHOICE_TYPES:
            out["choices"] = data["choices"]
        old_condition = (existing or {}).get("condition")
        if (
            isinstance(old_condition, dict)
            and "in" in old_condition
            and self.initial.get("condition_field") == data.get("condition_field")
            and str(self.initial.get("condition_value", "")) == (data.get("condition_value") or "")
        ):
            out["condition"] = old_condition  # "one of" cannot be typed here: keep it as it was
        elif data.get("condition"):
            out["condition"] = data["condition"]
        if data.get("prefill"):
            out["prefill"] = sorted(data["prefill"], key=_prefill_rank)
        for name in ("min", "max"):
            if name in self.fields and data.get(name) not in (None, ""):
                out[name] = data[name]
        if t in TEXT_LENGTH_TYPES and data.get("max_length"):
            out["max_length"] = data["max_length"]
        if t == FieldType.DATE:
            out["calendar"] = data.get("calendar") or "seireki"
        if t == FieldType.FILE:
            out["accept"] = list(data.get("accept") or DEFAULT_ACCEPT)
            out["max_mb"] = data.get("max_mb") or DEFAULT_MAX_MB
        if t == FieldType.GROUP:
            out["fields"] = list((existing or {}).get("fields") or [])
            out["min_items"] = data.get("min_items") or 0
            out["max_items"] = data.get("max_items") or 10
        if data.get("counter_only"):
            out["counter_only"] = True
        return out

    @staticmethod
    def initial_from(f: dict[str, Any]) -> dict[str, Any]:
        t = f.get("type")
        condition = f.get("condition") if isinstance(f.get("condition"), dict) else {}
        value: Any = ""
        if condition:
            if "equals" in condition:
                value = condition["equals"]
                if isinstance(value, bool):
                    value = "yes" if value else "no"
            elif "in" in condition:
                value = ", ".join(str(v) for v in condition["in"] or [])
        prefill_sources = f.get("prefill") or []
        if isinstance(prefill_sources, str):
            prefill_sources = [prefill_sources]
        initial = {
            "key": f.get("key", ""),
            **texts_initial(f.get("label"), "label"),
            **texts_initial(f.get("help"), "help"),
            "required": bool(f.get("required", t != FieldType.INFO)),
            "choices": choices_text(f.get("choices")),
            "condition_field": condition.get("field", "") if condition else "",
            "condition_value": value,
            "prefill": list(prefill_sources),
            "min": f.get("min"),
            "max": f.get("max"),
            "max_length": f.get("max_length"),
            "calendar": f.get("calendar", "seireki"),
            "accept": list(f.get("accept") or DEFAULT_ACCEPT),
            "max_mb": f.get("max_mb", DEFAULT_MAX_MB),
            "min_items": f.get("min_items", 1 if f.get("required", True) else 0),
            "max_items": f.get("max_items", 10),
            "counter_only": bool(f.get("counter_only")),
        }
        return initial


class PublishForm(AccessibleFormMixin, StampMixin):
    note = forms.CharField(
        label=_("What changed"),
        required=False,
        max_length=200,
        help_text=_("A short note for the version history, for example: added the phone number."),
    )


class ImportForm(AccessibleFormMixin, StampMixin):
    file = forms.FileField(
        label=_("Form file (JSON)"),
        help_text=_(
            "A file exported from this builder. The whole file is checked first: "
            "if anything is wrong, nothing changes."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "application/json,.json"}),
    )


class ConfirmForm(StampMixin):
    """A confirmation button (delete): only the stamp."""


class MoveForm(StampMixin):
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])
