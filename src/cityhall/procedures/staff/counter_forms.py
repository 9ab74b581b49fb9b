"""Forms of the counter (書かない窓口): find or create the resident, choose procedures,
the resident's confirmation on the second screen, the KPI period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cityhall.core.forms import AccessibleFormMixin
from cityhall.people.forms import ContactFieldsMixin
from cityhall.people.staff_forms import ResidentSearchForm
from cityhall.procedures.models import Procedure
from cityhall.procedures.services import counter

__all__ = [
    "BundleForm",
    "ConfirmForm",
    "KpiForm",
    "NewResidentForm",
    "ProcedureForm",
    "ResidentSearchForm",
]


def _district_choices() -> list[tuple[str, Any]]:
    from cityhall.core.models import District

    choices: list[tuple[str, Any]] = [("", _("Not known"))]
    choices += [(str(d.pk), d.localized_name()) for d in District.objects.select_related("area")]
    return choices


class NewResidentForm(ContactFieldsMixin, AccessibleFormMixin, forms.Form):
    """An account for a resident who has none (the clerk has seen their identity document)."""

    display_name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        help_text=_("As on the identity document, for example 伊賀 花子."),
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        required=False,
        help_text=_("Optional. Receipts and messages are sent here."),
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label=_("Phone number"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    postal_code = forms.CharField(
        label=_("Postal code"),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"class": "input--short", "autocomplete": "off"}),
    )
    address = forms.CharField(label=_("Address"), required=False, max_length=300)
    district = forms.ChoiceField(label=_("District (住民自治協議会)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        district = self.fields["district"]
        assert isinstance(district, forms.ChoiceField)
        district.choices = _district_choices()

    def clean_display_name(self) -> str:
        value = " ".join((self.cleaned_data.get("display_name") or "").split())
        if not value:
            raise forms.ValidationError(_("Write the resident's name."))
        return value

    def profile(self) -> dict[str, Any]:
        data = self.cleaned_data
        out: dict[str, Any] = {}
        for name in ("phone", "postal_code", "address"):
            if data.get(name):
                out[name] = data[name]
        if data.get("district") is not None:
            out["district"] = data["district"]
        return out


def _procedure_label(procedure: Any) -> str:
    return f"{procedure.title} ({procedure.department.name})"


class ProcedureForm(AccessibleFormMixin, forms.Form):
    """One procedure."""

    procedure = forms.ModelChoiceField(
        label=_("Procedure"),
        queryset=Procedure.objects.none(),
        empty_label=_("Choose a procedure"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["procedure"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = counter.procedures()
        field.label_from_instance = _procedure_label  # type: ignore[method-assign,assignment]


class LifeEventForm(AccessibleFormMixin, forms.Form):
    event = forms.ChoiceField(label=_("Life event"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["event"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose a life event")), *counter.life_events()]


class BundleForm(AccessibleFormMixin, forms.Form):
    """The procedures of a life event, as check boxes (all ticked to start with)."""

    event = forms.CharField(widget=forms.HiddenInput)
    procedures = forms.MultipleChoiceField(
        label=_("Procedures to do today"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick at least one procedure.")},
    )

    def __init__(self, *args: Any, event: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bundle = counter.bundle(event)
        field = self.fields["procedures"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(p.slug, f"{p.title} ({p.department.name})") for p in self.bundle]
        self.initial.setdefault("procedures", [p.slug for p in self.bundle])
        self.initial.setdefault("event", event)

    def chosen(self) -> list[Procedure]:
        wanted = set(self.cleaned_data["procedures"])
        return [p for p in self.bundle if p.slug in wanted]


class ConfirmForm(AccessibleFormMixin, forms.Form):
    """What the resident does on the second screen: check, sign, confirm."""

    application = forms.IntegerField(widget=forms.HiddenInput)
    checked = forms.BooleanField(
        label=_("I have checked the contents (内容を確認しました)"),
        error_messages={"required": _("Tick the box to say you have checked the contents.")},
    )
    signature = forms.CharField(
        label=_("Your full name (signature)"),
        max_length=200,
        help_text=_("Type your name to sign. You may also sign with your finger or a pen below."),
        error_messages={"required": _("Sign by typing your full name.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    signature_drawn = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_signature(self) -> str:
        value = " ".join((self.cleaned_data.get("signature") or "").split())
        if not value:
            raise forms.ValidationError(_("Sign by typing your full name."))
        return value

    def clean_signature_drawn(self) -> str:
        value = (self.cleaned_data.get("signature_drawn") or "").strip()
        if value and not value.startswith("data:image/png;base64,"):
            return ""
        return value


class KpiForm(AccessibleFormMixin, forms.Form):
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = counter.month_bounds()
        data["start"] = data.get("start") or first
        data["end"] = data.get("end") or last
        if data["end"] < data["start"]:
            self.add_error("end", _("The end is before the start."))
        elif data["end"] - data["start"] > dt.timedelta(days=3660):
            self.add_error("end", _("Choose at most ten years."))
        return data
