"""The form that chooses the slips of a new print run."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityhall.payments.models import PaymentKind


def current_fiscal_year() -> int:
    """Japanese fiscal years start in April."""
    today = timezone.localdate()
    return today.year if today.month >= 4 else today.year - 1


class NewRunForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of public money"))
    fiscal_year = forms.IntegerField(
        label=_("Fiscal year (賦課年度)"),
        min_value=2000,
        max_value=2100,
        help_text=_("Western year, e.g. 2026."),
    )
    period = forms.IntegerField(
        label=_("Instalment (期別)"),
        min_value=1,
        max_value=99,
        required=False,
        help_text=_("Leave empty for every instalment."),
    )
    only_unprinted = forms.BooleanField(
        label=_("Only slips never printed before"), required=False, initial=True
    )
    title = forms.CharField(
        label=_("Name of the run"),
        max_length=200,
        required=False,
        help_text=_("Shown in the list of runs. A name is made up when left empty."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind_field = self.fields["kind"]
        assert isinstance(kind_field, forms.ChoiceField)
        kind_field.choices = [("", _("Choose a kind"))] + [
            (k.code, f"{k.localized_name()} ({k.tax_code})")
            for k in PaymentKind.objects.filter(is_active=True).order_by("code")
        ]
        self.fields["fiscal_year"].initial = current_fiscal_year()
        self.fields["fiscal_year"].widget.attrs.update({"inputmode": "numeric"})
        self.fields["period"].widget.attrs.update({"inputmode": "numeric"})
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}_helptext"

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "fiscal_year": data["fiscal_year"],
            "period": data.get("period"),
            "only_unprinted": bool(data.get("only_unprinted")),
        }

    def run_title(self) -> str:
        data = self.cleaned_data
        if data.get("title"):
            return str(data["title"])
        period = f" {data['period']}" if data.get("period") else ""
        return f"{data['kind']} {data['fiscal_year']}{period}"
