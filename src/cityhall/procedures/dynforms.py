"""Django forms built from a form specification step (online and at the counter).

One step of a :mod:`~cityhall.procedures.formspec` form becomes one
:class:`StepForm`. The resident's pages and the counter pages both use it::

    form = build_step_form(
        spec, step, language=get_language(), answers=applications.answers(app),
        unchecked=applications.unchecked_input(app, step.key),   # typed input kept earlier
        data=request.POST or None, files=request.FILES or None,
        application=app, actor=request.user,                      # needed for files/signatures
        counter=False,
    )
    if form.action:                 # "Add another" / "Remove" / remove a file:
        applications.save_unchecked(app, step.key, form.raw_input())   # optional
        ...render the step again (status 200); nothing was validated
    elif form.is_valid():
        applications.save_step(app, step.key, form.answers)
    else:
        applications.save_unchecked(app, step.key, form.raw_input())   # never lose input
        ...render with status 422 (the error summary lists form.errors)

and in the template::

    {% include "includes/error_summary.html" %}
    <form method="post" enctype="multipart/form-data" novalidate>{% csrf_token %}
      {% include "procedures/includes/step_fields.html" %}
      ...buttons...
    </form>

After ``form.is_valid()``, :attr:`StepForm.answers` holds the step's normalised answers
(from :func:`formspec.validate.validate_step`) and :attr:`StepForm.result` the whole
:class:`~cityhall.procedures.formspec.validate.StepResult`. :meth:`StepForm.raw_input`
gives what was typed, JSON-able, in the raw shapes :func:`formspec.values.normalize`
reads (for ``save_unchecked``), bound or not.

Initial values come from ``unchecked`` (a step's kept raw input) where it has the key,
else from ``answers`` (prefilled or saved); both may be in odd shapes after a form
changed or a bad save, and never make the form fail.

Inputs are named after the field path with ``-`` between parts (``name-family``,
``birth-year``, ``children-0-name-given``); every composite field is a ``<fieldset>``
whose errors are attached to the sub-input they are about, so the links of the error
summary (``includes/error_summary.html``) land on a real input. Uploaded files are
stored (:mod:`.services.attachments`) as soon as the form reads its input, so nothing
has to be uploaded twice; ids of files already given travel in hidden inputs and are
only accepted if they belong to ``application``. A signature takes a typed name, and
at the counter a PNG data URL in the hidden input ``<name>_drawn`` (filled by the
counter's script), stored as an attachment.

Conditional fields whose controlling field is on the same page carry a
``data-condition`` attribute (read by ``static/procedures/conditions.js``) and, for
browsers without script, the hint "Answer only if …"; conditions on answers of
earlier steps are decided on the server.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.forms.boundfield import BoundField
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cityhall.procedures.formspec import conditions, display, validate, values, wareki
from cityhall.procedures.formspec.schema import Condition, Field, FieldType, FormSpec, Step
from cityhall.procedures.formspec.text import pick
from cityhall.procedures.formspec.validate import FieldError, StepResult

log = logging.getLogger(__name__)

SEP = "-"
ACTION_ADD = "_add"
ACTION_REMOVE = "_remove"
ACTION_REMOVE_FILE = "_remove_file"
#: Upper bound on group items read from a request, whatever ``max_items`` says.
MAX_GROUP_ITEMS = 50
NAME_PARTS = values.NAME_PARTS
DATE_PARTS = ("era", "year", "month", "day")
WESTERN = "AD"
TEXT_TYPES = frozenset(
    {
        FieldType.TEXT,
        FieldType.TEXTAREA,
        FieldType.EMAIL,
        FieldType.PHONE,
        FieldType.POSTAL_CODE,
        FieldType.ADDRESS,
        FieldType.NUMBER,
    }
)


# --- messages ------------------------------------------------------------------------------


def _date_param(value: Any, f: Field | None, language: str) -> str:
    if not isinstance(value, str):
        return str(value)
    if f is not None and f.type == FieldType.DATE:
        return display.date_text(value, f, language)
    return value


def error_message(
    code: str, params: Mapping[str, Any] | None = None, f: Field | None = None, language: str = ""
) -> str:
    """The translated message for a validation error ``code`` (see :mod:`formspec.values`)."""
    p = dict(params or {})
    t = f.type if f is not None else None
    if code == "required":
        if t in (FieldType.CHOICE, FieldType.SELECT, FieldType.YESNO, FieldType.MULTICHOICE):
            return _("Select an answer.")
        if t == FieldType.FILE:
            return _("Upload a file.")
        if t == FieldType.GROUP:
            return _("Add at least one entry.")
        if t == FieldType.SIGNATURE:
            return _("Sign by typing your full name.")
        return _("This field is required.")
    if code == "must_consent":
        return _("Tick the box to agree.")
    if code == "too_long":
        return _("Use at most %(max)s characters.") % {"max": p.get("max", "")}
    if code == "invalid_email":
        return _("Enter a valid email address.")
    if code == "invalid_phone":
        return _("Enter a phone number like 0595-22-2500.")
    if code == "invalid_postal_code":
        return _("Enter a postal code of 7 digits, like 518-8501.")
    if code == "not_a_number":
        return _("Enter a whole number.")
    if code == "too_small":
        return _("The number must be %(min)s or more.") % {"min": p.get("min", "")}
    if code == "too_large":
        return _("The number must be %(max)s or less.") % {"max": p.get("max", "")}
    if code == "invalid_date":
        return _("Enter a real date.")
    if code == "date_too_early":
        return _("The date must be %(min)s or later.") % {
            "min": _date_param(p.get("min", ""), f, language)
        }
    if code == "date_too_late":
        return _("The date must be %(max)s or earlier.") % {
            "max": _date_param(p.get("max", ""), f, language)
        }
    if code == "invalid_choice":
        return _("Select one of the choices.")
    if code == "kana_only":
        return _("Write the reading in katakana (or hiragana).")
    if code == "name_incomplete":
        missing = list(p.get("parts") or [])
        first = missing[0] if missing else "family"
        return {
            "family": _("Enter the family name."),
            "given": _("Enter the given name."),
            "family_kana": _("Enter the reading of the family name."),
            "given_kana": _("Enter the reading of the given name."),
        }.get(first, _("Enter the full name."))
    if code == "too_few_items":
        n = int(p.get("min") or 1)
        return ngettext("Add at least %(n)s entry.", "Add at least %(n)s entries.", n) % {"n": n}
    if code == "too_many_items":
        n = int(p.get("max") or 1)
        return ngettext("Give at most %(n)s entry.", "Give at most %(n)s entries.", n) % {"n": n}
    if code == "invalid_file":
        return _("Upload the file again.")
    if code == "invalid_signature":
        return _("Sign by typing your full name.")
    if code in ("too_large_file", "wrong_type", "empty"):
        from cityhall.procedures.services.attachments import problem_message

        return problem_message("too_large" if code == "too_large_file" else code, p)
    return _("Check this answer.")


def describe_error(spec: FormSpec, error: FieldError, language: str) -> tuple[str, str, str]:
    """``(step key, question label, message)`` for an error of a whole application
    (the check page links each to its step)."""
    parts = error.path.split(".")
    top = spec.field(parts[0])
    step_key = ""
    for step in spec.steps:
        if any(f.key == parts[0] for f in step.fields):
            step_key = step.key
    if top is None:
        return step_key, error.path, error_message(error.code, error.params, None, language)
    label = pick(top.label, language)
    f: Field | None = top
    if top.type == FieldType.GROUP and len(parts) >= 2:
        try:
            number = int(parts[1]) + 1
        except ValueError:
            number = 0
        label = f"{label} {number}" if number else label
        if len(parts) >= 3:
            sub = next((s for s in top.fields if s.key == parts[2]), None)
            if sub is not None:
                f = sub
                label = f"{label}: {pick(sub.label, language)}"
    return step_key, label, error_message(error.code, error.params, f, language)


# --- widgets -------------------------------------------------------------------------------


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


def _era_choices(language: str) -> list[tuple[str, str]]:
    japanese = (language or "ja").lower().startswith("ja")
    out: list[tuple[str, str]] = [("", "–")]
    for era in reversed(wareki.ERAS):
        out.append((era.letter, era.kanji if japanese else f"{era.kanji} ({era.name})"))
    out.append((WESTERN, "西暦" if japanese else _("Western calendar (西暦)")))
    return out


def _text(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, int | float):
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    if isinstance(v, list | tuple) and len(v) == 1:
        return _text(v[0])
    return ""


def _yesno_text(v: Any) -> str:
    if v is True:
        return "yes"
    if v is False:
        return "no"
    s = _text(v).strip().lower()
    if s in values.TRUE_WORDS:
        return "yes"
    if s in values.FALSE_WORDS:
        return "no"
    return ""


def _date_parts(f: Field, v: Any) -> dict[str, str]:
    """A date answer (ISO text, or the parts typed) as the inputs' values."""
    if isinstance(v, Mapping):
        parts = {k: _text(v.get(k)).strip() for k in DATE_PARTS}
        year = parts["year"]
        if f.calendar == "wareki" and not parts["era"] and year.isdigit() and int(year) > 999:
            parts["era"] = WESTERN
        return parts
    s = _text(v).strip()
    if not s:
        return dict.fromkeys(DATE_PARTS, "")
    try:
        d = wareki.parse_date(s)
    except ValueError:
        return dict.fromkeys(DATE_PARTS, "")
    if f.calendar == "wareki":
        try:
            era, era_year = wareki.to_wareki(d)
            return {
                "era": era.letter,
                "year": str(era_year),
                "month": str(d.month),
                "day": str(d.day),
            }
        except ValueError:
            return {"era": WESTERN, "year": str(d.year), "month": str(d.month), "day": str(d.day)}
    return {"era": "", "year": str(d.year), "month": str(d.month), "day": str(d.day)}


def _html_value(controller: Field | None, value: Any) -> str:
    """A condition's value as the controlling input sends it."""
    if isinstance(value, bool):
        if controller is not None and controller.type == FieldType.CONSENT:
            return "on" if value else ""
        return "yes" if value else "no"
    if value is None:
        return ""
    return str(value)


def _answer_words(controller: Field, value: Any, language: str) -> str:
    if isinstance(value, bool) or controller.type in (FieldType.YESNO, FieldType.CONSENT):
        yes = value is True or _yesno_text(value) == "yes"
        return _("Yes") if yes else _("No")
    for choice in controller.choices:
        if choice.value == value:
            return pick(choice.label, language) or choice.value
    return str(value)


def condition_hint(condition: Condition, controller: Field, language: str) -> str:
    """ "Answer only if …" for a field shown on a condition (read without script)."""
    question = pick(controller.label, language)
    if condition.filled is not None:
        if condition.filled:
            return _("Answer only if you answered “%(question)s”.") % {"question": question}
        return _("Answer only if you did not answer “%(question)s”.") % {"question": question}
    options = condition.among if condition.among is not None else (condition.equals,)
    answers = " / ".join(_answer_words(controller, o, language) for o in options)
    return _("Answer only if your answer to “%(question)s” is “%(answer)s”.") % {
        "question": question,
        "answer": answers,
    }


# --- the layout the templates walk ---------------------------------------------------------


@dataclass(eq=False)
class Part:
    """One input of a composite field (a name's family name, a date's year …)."""

    name: str
    label: str
    css: str = ""
    form: StepForm | None = None

    @property
    def bound(self) -> BoundField:
        assert self.form is not None
        return self.form[self.name]

    @property
    def invalid(self) -> bool:
        errors = getattr(self.form, "_errors", None)
        return bool(errors and errors.get(self.name))


@dataclass(eq=False)
class FileInfo:
    id: int
    name: str
    size: int
    content_type: str
    url: str = ""


@dataclass(eq=False)
class Item:
    """One entry of a repeatable group ("Child 2")."""

    index: int
    legend: str
    id: str
    nodes: list[Node]
    remove_value: str
    can_remove: bool


@dataclass(eq=False)
class Node:
    """One question of the step as the templates render it."""

    form: StepForm
    field: Field
    name: str  # input name, or prefix of the inputs' names
    label: str
    hint: str
    template: str
    optional: bool = False
    group: Field | None = None
    condition: str = ""  # JSON for data-condition
    condition_hint: str = ""
    errors: list[str] = dataclasses.field(default_factory=list)
    parts: list[Part] = dataclasses.field(default_factory=list)
    items: list[Item] = dataclasses.field(default_factory=list)
    count: int = 0
    can_add: bool = False
    focus_add: bool = False
    text: str = ""  # info

    @property
    def type(self) -> str:
        return str(self.field.type)

    @property
    def id(self) -> str:
        """The wrapper's id (``field-<name>``)."""
        return f"field-{self.name}"

    @property
    def hint_id(self) -> str:
        return f"{self.id}-hint"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"

    @property
    def condition_id(self) -> str:
        return f"{self.id}-condition"

    @property
    def bound(self) -> BoundField | None:
        """The single input of a simple field."""
        return self.form[self.name] if self.name in self.form.fields else None

    @property
    def count_name(self) -> str:
        return f"{self.name}{SEP}count"

    @property
    def upload(self) -> BoundField | None:
        name = f"{self.name}{SEP}upload"
        return self.form[name] if name in self.form.fields else None

    @property
    def typed(self) -> BoundField | None:
        name = f"{self.name}{SEP}typed"
        return self.form[name] if name in self.form.fields else None

    @property
    def drawn_name(self) -> str:
        return f"{self.name}_drawn"

    @property
    def files(self) -> list[FileInfo]:
        return self.form.files_of(self.name)

    @property
    def signature_attachment(self) -> int | None:
        return self.form.signature_of(self.name)

    @property
    def add_label(self) -> str:
        return pick(self.field.label, self.form.language)

    @property
    def extra_hint(self) -> str:
        """What a file input takes, or how to sign."""
        if self.field.type == FieldType.FILE:
            from cityhall.procedures.services.attachments import limit_mb, type_list

            return _("%(types)s, up to %(max)s MB.") % {
                "types": type_list(self.field.accept),
                "max": limit_mb(self.field.max_mb),
            }
        if self.field.type == FieldType.SIGNATURE:
            return _("Type your full name to sign.")
        return ""

    @property
    def extra_hint_id(self) -> str:
        return f"{self.id}-extra"

    @property
    def described_by(self) -> str:
        """Ids of the hint, condition and error texts of this question."""
        ids = []
        if self.hint:
            ids.append(self.hint_id)
        if self.condition_hint:
            ids.append(self.condition_id)
        if self.extra_hint:
            ids.append(self.extra_hint_id)
        if self.errors:
            ids.append(self.error_id)
        return " ".join(ids)

    @property
    def accept(self) -> str:
        return ",".join(self.field.accept)


# --- the form --------------------------------------------------------------------------------


def _getlist(data: Any, name: str) -> list[Any]:
    if data is None:
        return []
    if hasattr(data, "getlist"):
        return list(data.getlist(name))
    value = data.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _get(data: Any, name: str) -> str:
    items = _getlist(data, name)
    return _text(items[-1]) if items else ""


class StepForm(forms.Form):
    """The inputs of one step. Build it with :func:`build_step_form`."""

    template_name = "procedures/includes/step_fields.html"

    def __init__(
        self,
        spec: FormSpec,
        step: Step,
        *,
        language: str,
        answers: Mapping[str, Any],
        counter: bool = False,
        data: Any = None,
        files: Any = None,
        unchecked: Any = None,
        application: Any = None,
        actor: Any = None,
        today: date | None = None,
    ) -> None:
        super().__init__(data=data, files=files, auto_id="id_%s", use_required_attribute=False)
        self.spec = spec
        self.step = step
        self.language = language or "ja"
        self.context_answers: dict[str, Any] = dict(answers or {})
        self.counter = counter
        self.application = application
        self.actor = actor
        self.today = today or timezone.localdate()  # "today" in Japan, not on the server
        #: Set by :func:`build_step_form` for "Add another", "Remove" and file removal.
        self.action: tuple[str, ...] | None = None
        #: The step's normalised answers, after :meth:`is_valid` succeeded.
        self.answers: dict[str, Any] = {}
        self.result: StepResult | None = None
        self._raw: dict[str, Any] | None = None
        self._file_ids: dict[str, list[int]] = {}
        self._signatures: dict[str, int | None] = {}
        self._upload_problems: dict[str, tuple[str, dict[str, Any]]] = {}
        self._by_path: dict[str, Node] = {}
        self._error_refs: dict[str, list[str]] = {}
        self._file_info: dict[int, FileInfo] | None = None
        self._focus: str | None = None
        self._step_keys = {f.key for f in step.fields}
        self._start = self._start_raw(unchecked) if not self.is_bound else {}
        self.layout: list[Node] = []
        for f in step.fields:
            node = self._top_node(f)
            if node is not None:
                self.layout.append(node)
        self._describe()

    # -- texts ---------------------------------------------------------------------------

    @property
    def title(self) -> str:
        return pick(self.step.title, self.language)

    @property
    def intro(self) -> str:
        return pick(self.step.intro, self.language)

    @property
    def has_files(self) -> bool:
        return any(f.type == FieldType.FILE for f in self._all_fields())

    def _all_fields(self) -> list[Field]:
        out: list[Field] = []
        for f in self.step.fields:
            out.append(f)
            out.extend(f.fields)
        return out

    # -- initial values ------------------------------------------------------------------

    def _start_raw(self, unchecked: Any) -> dict[str, Any]:
        kept = unchecked if isinstance(unchecked, Mapping) else {}
        raw: dict[str, Any] = {}
        for f in self.step.fields:
            if f.key in kept:
                raw[f.key] = kept[f.key]
            elif f.key in self.context_answers:
                raw[f.key] = self.context_answers[f.key]
        return raw

    def _shown(self, f: Field) -> bool:
        return self.counter or not f.counter_only

    # -- building ------------------------------------------------------------------------

    def _top_node(self, f: Field) -> Node | None:
        if not self._shown(f):
            return None
        condition, hint = "", ""
        if f.condition is not None:
            if f.condition.field in self._step_keys:
                controller = self.spec.field(f.condition.field)
                condition, hint = self._client_condition(f.condition, controller, f.condition.field)
            elif not conditions.is_visible(f, self.context_answers, spec=self.spec):
                return None
        raw = self._start.get(f.key)
        return self._node(f, f.key, raw, condition=condition, condition_hint=hint)

    def _client_condition(
        self, condition: Condition, controller: Field | None, name: str
    ) -> tuple[str, str]:
        if controller is None:
            return "", ""
        data: dict[str, Any] = {"name": name}
        if condition.filled is not None:
            data["filled"] = condition.filled
        else:
            options = condition.among if condition.among is not None else (condition.equals,)
            data["values"] = [_html_value(controller, o) for o in options]
        return json.dumps(data, ensure_ascii=False), condition_hint(
            condition, controller, self.language
        )

    def _add(self, name: str, django_field: forms.Field, initial: Any = None) -> None:
        self.fields[name] = django_field
        if initial is not None and not self.is_bound:
            self.initial[name] = initial

    def _node(
        self,
        f: Field,
        name: str,
        raw: Any,
        *,
        group: Field | None = None,
        summary: str = "",
        condition: str = "",
        condition_hint: str = "",
        path: str = "",
    ) -> Node:
        lang = self.language
        label = pick(f.label, lang)
        summary_label = f"{summary}: {label}" if summary else label
        node = Node(
            form=self,
            field=f,
            name=name,
            label=label,
            hint=pick(f.help, lang),
            template=f"procedures/includes/fields/{self._template_for(f)}.html",
            optional=not f.required and f.type not in (FieldType.INFO, FieldType.CONSENT),
            group=group,
            condition=condition,
            condition_hint=condition_hint,
        )
        self._by_path[path or f.key] = node
        t = f.type
        if t == FieldType.INFO:
            node.text = label
            node.label = ""
            return node
        if t in TEXT_TYPES:
            self._add(
                name,
                forms.CharField(
                    label=summary_label, required=False, strip=False, widget=self._text_widget(f)
                ),
                _text(raw),
            )
        elif t == FieldType.NAME:
            self._name_parts(node, f, name, raw, summary_label)
        elif t == FieldType.DATE:
            self._date_parts(node, f, name, raw, summary_label)
        elif t == FieldType.CHOICE:
            choices = [(c.value, pick(c.label, lang)) for c in f.choices]
            self._add(
                name,
                forms.CharField(
                    label=summary_label, required=False, widget=forms.RadioSelect(choices=choices)
                ),
                _text(raw),
            )
        elif t == FieldType.SELECT:
            choices = [("", _("Choose one")), *((c.value, pick(c.label, lang)) for c in f.choices)]
            self._add(
                name,
                forms.CharField(
                    label=summary_label, required=False, widget=forms.Select(choices=choices)
                ),
                _text(raw),
            )
        elif t == FieldType.MULTICHOICE:
            choices = [(c.value, pick(c.label, lang)) for c in f.choices]
            picked = [_text(v) for v in raw] if isinstance(raw, list | tuple) else [_text(raw)]
            self._add(
                name,
                forms.Field(
                    label=summary_label,
                    required=False,
                    widget=forms.CheckboxSelectMultiple(choices=choices),
                ),
                [p for p in picked if p],
            )
        elif t == FieldType.YESNO:
            choices = [("yes", _("Yes")), ("no", _("No"))]
            self._add(
                name,
                forms.CharField(
                    label=summary_label, required=False, widget=forms.RadioSelect(choices=choices)
                ),
                _yesno_text(raw),
            )
        elif t == FieldType.CONSENT:
            self._add(
                name,
                forms.BooleanField(label=summary_label, required=False),
                _yesno_text(raw) == "yes" or _text(raw).lower() == "on",
            )
        elif t == FieldType.FILE:
            widget = MultipleFileInput(attrs={"accept": ",".join(f.accept)})
            self._add(
                f"{name}{SEP}upload",
                forms.Field(label=summary_label, required=False, widget=widget),
            )
            if not self.is_bound:
                ids = raw if isinstance(raw, list | tuple) else [raw] if raw else []
                self._file_ids[name] = self._owned(ids, self._file_key(f, group))
        elif t == FieldType.SIGNATURE:
            typed = raw.get("typed") if isinstance(raw, Mapping) else raw
            self._add(
                f"{name}{SEP}typed",
                forms.CharField(
                    label=summary_label,
                    required=False,
                    strip=False,
                    widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
                ),
                _text(typed),
            )
            if not self.is_bound:
                attachment = raw.get("attachment") if isinstance(raw, Mapping) else None
                owned = self._owned([attachment] if attachment else [], self._file_key(f, group))
                self._signatures[name] = owned[0] if owned else None
        elif t == FieldType.GROUP:
            self._group(node, f, name, raw)
        return node

    @staticmethod
    def _template_for(f: Field) -> str:
        t = f.type
        if t in TEXT_TYPES or t == FieldType.SELECT:
            return "input"
        if t in (FieldType.CHOICE, FieldType.MULTICHOICE, FieldType.YESNO):
            return "choices"
        if t in (FieldType.NAME, FieldType.DATE):
            return t.value
        return t.value  # consent, file, signature, group, info

    def _text_widget(self, f: Field) -> forms.Widget:
        t = f.type
        if t == FieldType.TEXTAREA:
            return forms.Textarea(attrs={"rows": 5})
        if t == FieldType.EMAIL:
            return forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"})
        if t == FieldType.PHONE:
            return forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})
        if t == FieldType.POSTAL_CODE:
            return forms.TextInput(
                attrs={
                    "autocomplete": "postal-code",
                    "inputmode": "numeric",
                    "class": "input--short",
                    "spellcheck": "false",
                }
            )
        if t == FieldType.ADDRESS:
            return forms.TextInput(attrs={"autocomplete": "street-address"})
        if t == FieldType.NUMBER:
            return forms.TextInput(attrs={"inputmode": "numeric", "class": "input--short"})
        return forms.TextInput()

    def _name_parts(self, node: Node, f: Field, name: str, raw: Any, summary: str) -> None:
        if isinstance(raw, str):
            raw = values.split_name(raw)
        given = raw if isinstance(raw, Mapping) else {}
        labels = {
            "family": (_("Family name"), "family-name"),
            "given": (_("Given name"), "given-name"),
            "family_kana": (_("Family name in furigana (katakana)"), ""),
            "given_kana": (_("Given name in furigana (katakana)"), ""),
        }
        for part in NAME_PARTS:
            label, autocomplete = labels[part]
            attrs = {"spellcheck": "false"}
            if autocomplete:
                attrs["autocomplete"] = autocomplete
            pname = f"{name}{SEP}{part}"
            self._add(
                pname,
                forms.CharField(
                    label=summary, required=False, strip=False, widget=forms.TextInput(attrs=attrs)
                ),
                _text(given.get(part)),
            )
            node.parts.append(Part(pname, label, "name-input__item", self))

    def _date_parts(self, node: Node, f: Field, name: str, raw: Any, summary: str) -> None:
        parts = _date_parts(f, raw)
        if f.calendar == "wareki":
            pname = f"{name}{SEP}era"
            self._add(
                pname,
                forms.CharField(
                    label=summary,
                    required=False,
                    widget=forms.Select(choices=_era_choices(self.language)),
                ),
                parts["era"],
            )
            node.parts.append(Part(pname, _("Era"), "date-input__item date-input__item--era", self))
        for part, label, css in (
            ("year", _("Year"), "date-input__item--year"),
            ("month", _("Month"), "date-input__item--2"),
            ("day", _("Day"), "date-input__item--2"),
        ):
            pname = f"{name}{SEP}{part}"
            widget = forms.TextInput(
                attrs={"inputmode": "numeric", "class": "date-input__input", "spellcheck": "false"}
            )
            self._add(
                pname,
                forms.CharField(label=summary, required=False, strip=False, widget=widget),
                parts[part],
            )
            node.parts.append(Part(pname, label, f"date-input__item {css}", self))

    def _group_count(self, f: Field, name: str, raw: Any) -> int:
        limit = min(max(f.max_items, 1), MAX_GROUP_ITEMS)
        least = 1 if f.required or f.min_items else 0
        least = max(least, min(f.min_items, limit))
        if self.is_bound:
            try:
                count = int(_get(self.data, f"{name}{SEP}count"))
            except ValueError:
                prefix = f"{name}{SEP}"
                found = [
                    int(k[len(prefix) :].split(SEP, 1)[0])
                    for k in self.data
                    if k.startswith(prefix) and k[len(prefix) :].split(SEP, 1)[0].isdigit()
                ]
                count = max(found) + 1 if found else least
        else:
            try:
                count = len(values.group_items(raw))
            except values.ValueProblem:
                count = 0
            count = max(count, least)
        return max(0, min(count, limit))

    def _group(self, node: Node, f: Field, name: str, raw: Any) -> None:
        try:
            items = values.group_items(raw) if not self.is_bound else []
        except values.ValueProblem:
            items = []
        count = self._group_count(f, name, raw)
        node.count = count
        node.can_add = count < min(f.max_items, MAX_GROUP_ITEMS)
        label = pick(f.label, self.language)
        siblings = {s.key: s for s in f.fields}
        for index in range(count):
            item_raw = items[index] if index < len(items) else {}
            if not isinstance(item_raw, Mapping):
                item_raw = {}
            legend = f"{label} {index + 1}"
            prefix = f"{name}{SEP}{index}"
            sub_nodes: list[Node] = []
            for sub in f.fields:
                if not self._shown(sub):
                    continue
                condition, hint = "", ""
                if sub.condition is not None:
                    target = sub.condition.field
                    if target in siblings:
                        condition, hint = self._client_condition(
                            sub.condition, siblings[target], f"{prefix}{SEP}{target}"
                        )
                    elif target in self._step_keys:
                        condition, hint = self._client_condition(
                            sub.condition, self.spec.field(target), target
                        )
                    elif not conditions.is_visible(sub, self.context_answers, spec=self.spec):
                        continue
                sub_nodes.append(
                    self._node(
                        sub,
                        f"{prefix}{SEP}{sub.key}",
                        item_raw.get(sub.key),
                        group=f,
                        summary=legend,
                        condition=condition,
                        condition_hint=hint,
                        path=f"{f.key}.{index}.{sub.key}",
                    )
                )
            node.items.append(
                Item(
                    index=index,
                    legend=legend,
                    id=f"field-{prefix}",
                    nodes=sub_nodes,
                    remove_value=f"{f.key}.{index}",
                    can_remove=count > 1 or not (f.required or f.min_items),
                )
            )

    # -- files and signatures ------------------------------------------------------------

    @staticmethod
    def _file_key(f: Field, group: Field | None) -> str:
        return f"{group.key}.{f.key}" if group is not None else f.key

    def _owned(self, ids: Any, field_key: str) -> list[int]:
        if self.application is None or not isinstance(ids, list | tuple):
            return []
        from cityhall.procedures.services import attachments

        return attachments.owned(self.application, ids, field_key)

    def _store_uploads(self, f: Field, group: Field | None, name: str) -> list[int]:
        uploads = [u for u in _getlist(self.files, f"{name}{SEP}upload") if u]
        if not uploads:
            return []
        if self.application is None:
            self._upload_problems[name] = ("invalid_file", {})
            return []
        from cityhall.procedures.services import attachments

        stored: list[int] = []
        for upload in uploads:
            try:
                attachment = attachments.store(
                    self.application,
                    self._file_key(f, group),
                    upload,
                    actor=self.actor,
                    max_mb=f.max_mb,
                    accept=f.accept,
                )
            except attachments.AttachmentProblem as problem:
                code = "too_large_file" if problem.code == "too_large" else problem.code
                self._upload_problems[name] = (code, dict(problem.params))
                continue
            stored.append(attachment.pk)
        return stored

    def _store_drawn(self, f: Field, group: Field | None, name: str) -> int | None:
        drawn = _get(self.data, f"{name}_drawn").strip()
        if not drawn or self.application is None:
            return None
        from cityhall.procedures.services import attachments

        try:
            return attachments.store_signature(
                self.application, self._file_key(f, group), drawn, actor=self.actor
            ).pk
        except attachments.AttachmentProblem:
            self._upload_problems[name] = ("invalid_signature", {})
            return None

    def files_of(self, name: str) -> list[FileInfo]:
        """The files already given for a file input (for the list with "Remove")."""
        self.raw_input()
        ids = self._file_ids.get(name, [])
        if not ids:
            return []
        if self._file_info is None:
            self._file_info = {}
            if self.application is not None:
                from cityhall.procedures.models import Attachment

                all_ids = [i for v in self._file_ids.values() for i in v]
                for a in Attachment.objects.filter(application=self.application, pk__in=all_ids):
                    self._file_info[a.pk] = FileInfo(
                        a.pk,
                        a.original_name or _("File"),
                        a.size,
                        a.content_type,
                        self._file_url(a.pk),
                    )
        return [self._file_info[i] for i in ids if i in self._file_info]

    def _file_url(self, pk: int) -> str:
        if self.application is None or self.application.pk is None or self.counter:
            return ""
        from django.urls import reverse

        return reverse("procedures:application_file", args=[self.application.pk, pk])

    def signature_of(self, name: str) -> int | None:
        self.raw_input()
        return self._signatures.get(name)

    # -- reading the input ---------------------------------------------------------------

    def raw_input(self) -> dict[str, Any]:
        """What was typed in this step, JSON-able, in the shapes ``values.normalize`` reads.

        Reading a bound form stores its uploaded files (once) and drops file ids that are
        not the application's.
        """
        if self._raw is None:
            self._raw = {}
            for f in self.step.fields:
                if f.has_value and self._shown(f):
                    self._raw[f.key] = self._raw_of(f, f.key, None)
        return self._raw

    def _value(self, name: str) -> Any:
        if self.is_bound:
            return _get(self.data, name)
        return self.initial.get(name, "")

    def _raw_of(self, f: Field, name: str, group: Field | None) -> Any:
        t = f.type
        if t in TEXT_TYPES or t in (FieldType.CHOICE, FieldType.SELECT, FieldType.YESNO):
            return _text(self._value(name))
        if t == FieldType.NAME:
            return {p: _text(self._value(f"{name}{SEP}{p}")) for p in NAME_PARTS}
        if t == FieldType.DATE:
            out = {"era": _text(self._value(f"{name}{SEP}era")) if f.calendar == "wareki" else ""}
            for p in ("year", "month", "day"):
                out[p] = _text(self._value(f"{name}{SEP}{p}"))
            return out
        if t == FieldType.MULTICHOICE:
            picked = _getlist(self.data, name) if self.is_bound else self.initial.get(name, [])
            return [_text(p) for p in picked if _text(p)]
        if t == FieldType.CONSENT:
            if self.is_bound:
                return "on" if _get(self.data, name) else ""
            return "on" if self.initial.get(name) else ""
        if t == FieldType.FILE:
            if self.is_bound:
                kept = self._owned(_getlist(self.data, name), self._file_key(f, group))
                for pk in self._store_uploads(f, group, name):
                    if pk not in kept:
                        kept.append(pk)
                self._file_ids[name] = kept
            return list(self._file_ids.get(name, []))
        if t == FieldType.SIGNATURE:
            if self.is_bound:
                owned = self._owned(
                    [_get(self.data, f"{name}{SEP}attachment")], self._file_key(f, group)
                )
                drawn = self._store_drawn(f, group, name)
                self._signatures[name] = drawn or (owned[0] if owned else None)
            out_sig: dict[str, Any] = {"typed": _text(self._value(f"{name}{SEP}typed"))}
            if self._signatures.get(name):
                out_sig["attachment"] = self._signatures[name]
            return out_sig
        if t == FieldType.GROUP:
            node = self._by_path.get(f.key)
            count = node.count if node is not None else 0
            items = []
            for index in range(count):
                prefix = f"{name}{SEP}{index}"
                items.append(
                    {
                        sub.key: self._raw_of(sub, f"{prefix}{SEP}{sub.key}", f)
                        for sub in f.fields
                        if sub.has_value and self._shown(sub)
                    }
                )
            return items
        return None

    # -- validation ----------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        raw = self.raw_input()
        try:
            result = validate.validate_step(
                self.spec,
                self.step,
                raw,
                self.context_answers,
                counter=self.counter,
                today=self.today,
            )
        except Exception:  # a form must never fail on odd input: say so, keep the input
            log.exception("validating step %s failed", self.step.key)
            self.add_error(None, _("Some answers could not be checked. Please check them."))
            return cleaned
        self.result = result
        refused = set(self._upload_problems)
        for name, (code, params) in self._upload_problems.items():
            node = self._node_by_name(name)
            if node is not None:
                self._attach(node, code, params)
        for error in result.errors:
            node = self._by_path.get(error.path)
            if node is not None and node.name in refused and error.code in ("required",):
                continue
            if node is None:
                node = self._by_path.get(error.path.split(".")[0])
            if node is None:
                self.add_error(None, error_message(error.code, error.params, None, self.language))
                continue
            self._attach(node, error.code, error.params)
        if not self.errors:
            self.answers = dict(result.values)
        return cleaned

    def _node_by_name(self, name: str) -> Node | None:
        return next((n for n in self._by_path.values() if n.name == name), None)

    def _attach(self, node: Node, code: str, params: Mapping[str, Any]) -> None:
        message = error_message(code, params, node.field, self.language)
        anchor = self._anchor(node, code, params)
        node.errors.append(message)
        if anchor is None:
            self.add_error(None, message)
            return
        self.add_error(anchor, message)
        refs = self._error_refs.setdefault(anchor, [])
        if node.error_id not in refs:
            refs.append(node.error_id)

    def _anchor(self, node: Node, code: str, params: Mapping[str, Any]) -> str | None:
        """The input an error is about (the error summary links to it)."""
        t = node.field.type
        if t == FieldType.NAME:
            raw = self.raw_input_at(node)
            raw = raw if isinstance(raw, Mapping) else {}
            part = "family"
            if code == "name_incomplete" and params.get("parts"):
                part = str(next(iter(params["parts"])))
            elif code == "kana_only":
                for p in values.KANA_PARTS:
                    try:
                        values.kana(_text(raw.get(p)))
                    except values.ValueProblem:
                        part = p
                        break
            elif code == "too_long":
                limit = int(params.get("max") or 0)
                part = next((p for p in NAME_PARTS if len(_text(raw.get(p))) > limit), "family")
            elif code == "required":
                part = next((p for p in NAME_PARTS if not _text(raw.get(p)).strip()), "family")
            return f"{node.name}{SEP}{part}"
        if t == FieldType.DATE:
            raw = self.raw_input_at(node)
            raw = raw if isinstance(raw, Mapping) else {}
            for p in ("year", "month", "day"):
                if not _text(raw.get(p)).strip():
                    return f"{node.name}{SEP}{p}"
            month, day = _text(raw.get("month")).strip(), _text(raw.get("day")).strip()
            if code == "invalid_date":
                m = values.nfkc(month)
                d = values.nfkc(day)
                if not m.isdigit() or not 1 <= int(m) <= 12:
                    return f"{node.name}{SEP}month"
                if not d.isdigit() or not 1 <= int(d) <= 31:
                    return f"{node.name}{SEP}day"
            return f"{node.name}{SEP}year"
        if t == FieldType.FILE:
            return f"{node.name}{SEP}upload"
        if t == FieldType.SIGNATURE:
            return f"{node.name}{SEP}typed"
        if t == FieldType.GROUP:
            for item in node.items:
                for sub in item.nodes:
                    name = self._first_input(sub)
                    if name:
                        return name
            return None
        return node.name if node.name in self.fields else None

    def _first_input(self, node: Node) -> str | None:
        if node.parts:
            return node.parts[0].name
        for suffix in ("", f"{SEP}upload", f"{SEP}typed"):
            if f"{node.name}{suffix}" in self.fields:
                return f"{node.name}{suffix}"
        return None

    def raw_input_at(self, node: Node) -> Any:
        """The raw input of one node (top-level or inside a group item)."""
        raw = self.raw_input()
        parts = node.name.split(SEP)
        value: Any = raw.get(parts[0])
        if node.group is not None and len(parts) >= 3 and isinstance(value, list):
            try:
                item = value[int(parts[1])]
            except (ValueError, IndexError):
                return None
            return item.get(parts[2]) if isinstance(item, Mapping) else None
        return value

    def full_clean(self) -> None:
        super().full_clean()
        self._describe()

    def _describe(self) -> None:
        """``aria-describedby`` of each input: hint, condition and error texts of its question
        (a composite field's fieldset carries its own; its inputs point at their error)."""
        for node in self._walk():
            if node.parts:
                for part in node.parts:
                    refs = self._error_refs.get(part.name, [])
                    self._set_described(self.fields[part.name].widget, " ".join(refs))
                continue
            own = node.described_by.split()
            for suffix in ("", f"{SEP}upload", f"{SEP}typed"):
                name = f"{node.name}{suffix}"
                if name not in self.fields:
                    continue
                widget = self.fields[name].widget
                if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
                    continue  # inside a described fieldset
                refs = own + [r for r in self._error_refs.get(name, []) if r not in own]
                self._set_described(widget, " ".join(refs))
        if self._focus and self._focus in self.fields:
            self.fields[self._focus].widget.attrs["autofocus"] = True

    @staticmethod
    def _set_described(widget: forms.Widget, ids: str) -> None:
        if ids:
            widget.attrs["aria-describedby"] = ids
        else:
            widget.attrs.pop("aria-describedby", None)

    def _walk(self) -> list[Node]:
        out: list[Node] = []
        for node in self.layout:
            out.append(node)
            for item in node.items:
                out.extend(item.nodes)
        return out


# --- actions (add / remove without validating) ----------------------------------------------


def _parse_action(step: Step, data: Any) -> tuple[str, ...] | None:
    if data is None:
        return None
    groups = {f.key: f for f in step.fields if f.type == FieldType.GROUP}
    add = _get(data, ACTION_ADD).strip()
    if add:
        return ("add", add) if add in groups else None
    remove = _get(data, ACTION_REMOVE).strip()
    if remove:
        key, _dot, index = remove.partition(".")
        if key in groups and index.isdigit():
            return ("remove", key, index)
        return None
    remove_file = _get(data, ACTION_REMOVE_FILE).strip()
    if remove_file:
        prefix, _dot, pk = remove_file.rpartition(".")
        if prefix and pk.isdigit():
            return ("remove_file", prefix, pk)
    return None


def _items(raw: dict[str, Any], key: str) -> list[Any]:
    value = raw.get(key)
    return value if isinstance(value, list) else []


def _apply_action(spec_step: Step, raw: dict[str, Any], action: tuple[str, ...]) -> str | None:
    """Change ``raw`` for the action; returns the input to put the focus on, if any."""
    kind = action[0]
    if kind == "add":
        key = action[1]
        f = next(f for f in spec_step.fields if f.key == key)
        items = _items(raw, key)
        if len(items) < min(f.max_items, MAX_GROUP_ITEMS):
            items.append({})
            raw[key] = items
            first = next((s for s in f.fields if s.has_value), None)
            if first is not None:
                suffix = {
                    FieldType.NAME: f"{SEP}family",
                    FieldType.DATE: f"{SEP}era" if first.calendar == "wareki" else f"{SEP}year",
                    FieldType.FILE: f"{SEP}upload",
                    FieldType.SIGNATURE: f"{SEP}typed",
                }.get(first.type, "")
                return f"{key}{SEP}{len(items) - 1}{SEP}{first.key}{suffix}"
        return None
    if kind == "remove":
        key, index = action[1], int(action[2])
        items = _items(raw, key)
        if 0 <= index < len(items):
            del items[index]
        raw[key] = items
        return None
    if kind == "remove_file":
        prefix, pk = action[1], int(action[2])
        parts = prefix.split(SEP)
        container: Any = raw
        if len(parts) == 3 and parts[1].isdigit():
            items = _items(raw, parts[0])
            if int(parts[1]) < len(items):
                container = items[int(parts[1])]
            key = parts[2]
        else:
            key = parts[0]
        if isinstance(container, dict) and isinstance(container.get(key), list):
            container[key] = [i for i in container[key] if i != pk]
    return None


def build_step_form(
    spec: FormSpec,
    step: Step | str,
    *,
    language: str,
    answers: Mapping[str, Any],
    counter: bool = False,
    data: Any = None,
    files: Any = None,
    unchecked: Any = None,
    application: Any = None,
    actor: Any = None,
    today: date | None = None,
) -> StepForm:
    """The form for ``step`` of ``spec`` (a :class:`Step` or its key).

    - ``answers``: the application's answers so far (prefill, saved steps); they give the
      initial values and decide conditions on earlier steps.
    - ``unchecked``: the raw input kept for this step by ``save_unchecked`` (wins over
      ``answers`` for the keys it has).
    - ``data`` / ``files``: the POST, to bind the form.
    - ``application`` / ``actor``: where uploaded files and drawn signatures are stored,
      and which file ids are accepted (required for steps with files or signatures).
    - ``counter``: counter mode (``counter_only`` fields are shown).

    When the POST pressed "Add another", "Remove" or removed a file, the form returned is
    unbound, shows the changed input and has :attr:`StepForm.action` set: the caller
    renders it again without validating (and may keep ``raw_input()`` with
    ``save_unchecked``).
    """
    if not isinstance(step, Step):
        step = spec.steps[spec.step_index(step)]
    options = {
        "language": language,
        "answers": answers,
        "counter": counter,
        "application": application,
        "actor": actor,
        "today": today,
    }
    form = StepForm(spec, step, data=data, files=files, unchecked=unchecked, **options)
    action = _parse_action(step, data) if data is not None else None
    if action is None:
        return form
    raw = json.loads(json.dumps(form.raw_input()))
    focus = _apply_action(step, raw, action)
    again = StepForm(spec, step, unchecked=raw, **options)
    again.action = action
    if action[0] == "remove":
        node = next((n for n in again.layout if n.name == action[1]), None)
        if node is not None:
            node.focus_add = node.can_add
    again._focus = focus
    again._describe()
    return again
