"""Forms of the reconciliation pages: upload, filters, the clerk's decision, revenue export."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cityhall.core.forms import AccessibleFormMixin
from cityhall.payments.models import ImportedFile, ReconciliationLine

MAX_UPLOAD = 200 * 1024 * 1024
TEXTAREA = {"rows": 4}
KIND_CHOICES = [
    (ImportedFile.Kind.AGENT_CSV.value, _("Collection agent file (CSV, コンビニ・スマホ決済)")),
    (ImportedFile.Kind.ZENGIN.value, _("Direct-debit results (全銀 120-byte records)")),
    (ImportedFile.Kind.IFS.value, _("eL-QR payments (共通納税IFS)")),
]


class UploadForm(AccessibleFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of file"), choices=KIND_CHOICES, widget=forms.RadioSelect
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_("Importing the same file again changes nothing."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 200 MB."))
        head = upload.read(2048)
        upload.seek(0)
        if b"\x00" in head:
            raise forms.ValidationError(_("This is not a text file."))
        return upload


def outcome_choices(blank: str) -> list[tuple[str, str]]:
    return [("", blank), *[(v, str(label)) for v, label in ReconciliationLine.Outcome.choices]]


class OutcomeFilterForm(AccessibleFormMixin, forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["outcome"]).choices = outcome_choices(
            str(_("All outcomes"))
        )


class ResolveForm(AccessibleFormMixin, forms.Form):
    resolution = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect)
    other_notice = forms.CharField(
        label=_("Notice number of the other slip (案件特定キー)"),
        required=False,
        max_length=20,
        help_text=_("Only for “Book against another charge”: the 20-digit number on the slip."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=2000,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text=_("Why you decided so. It is kept with the decision."),
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["resolution"]).choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        other = (data.get("other_notice") or "").strip()
        book_other = data.get("resolution") == ReconciliationLine.Resolution.BOOK_OTHER
        if book_other and not (len(other) == 20 and other.isdigit()):
            self.add_error("other_notice", _("Enter the 20-digit notice number."))
        return data


class RevenueForm(AccessibleFormMixin, forms.Form):
    date_from = forms.DateField(
        label=_("Transfer date from (振込日)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Transfer date until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    encoding = forms.ChoiceField(
        label=_("Encoding"),
        choices=[("utf-8", _("UTF-8 (with BOM)")), ("cp932", _("Shift_JIS (CP932)"))],
        initial="utf-8",
        widget=forms.RadioSelect,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
