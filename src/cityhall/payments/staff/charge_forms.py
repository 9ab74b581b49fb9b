"""Forms of the charges pages in the staff console."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityhall.core.forms import AccessibleFormMixin
from cityhall.payments.models import Charge
from cityhall.payments.services import charge_import, charges


class ChargeFilterForm(AccessibleFormMixin, forms.Form):
    """GET search of the charges list; every field is optional."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_(
            "Payer name or kana (separate family and given names with a space), "
            "payer number (宛名番号), charge number (調定番号) or slip number (20 digits)."
        ),
        widget=forms.TextInput(attrs={"type": "search", "spellcheck": "false"}),
    )
    kind = forms.TypedChoiceField(label=_("Kind"), required=False, coerce=int, empty_value=None)
    fiscal_year = forms.TypedChoiceField(
        label=_("Fiscal year (年度)"), required=False, coerce=int, empty_value=None
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *Charge.Status.choices],
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All kinds"))] + [  # type: ignore[attr-defined]
            (k.pk, k.localized_name()) for k in charges.visible_kinds(user)
        ]
        this_year = timezone.localdate().year
        self.fields["fiscal_year"].choices = [("", _("All years"))] + [  # type: ignore[attr-defined]
            (y, str(y)) for y in range(this_year + 1, this_year - 8, -1)
        ]

    def filters(self) -> dict[str, Any]:
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "q": data.get("q") or "",
            "kind": data.get("kind"),
            "fiscal_year": data.get("fiscal_year"),
            "status": data.get("status") or "",
        }


class ReissueForm(AccessibleFormMixin, forms.Form):
    due_date = forms.DateField(
        label=_("New due date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The old slip is replaced; if it is paid anyway, it is still recognised."),
    )

    def clean_due_date(self) -> dt.date:
        value: dt.date = self.cleaned_data["due_date"]
        today = timezone.localdate()
        if value < today:
            raise forms.ValidationError(_("The new due date cannot be in the past."))
        if value > today + dt.timedelta(days=366):
            raise forms.ValidationError(_("The new due date must be within a year."))
        return value


class LinkPayerForm(AccessibleFormMixin, forms.Form):
    email = forms.EmailField(
        label=_("E-mail address of the resident's account"),
        help_text=_(
            "Check the resident's identity first. The payer's charges then show on their page."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_email(self) -> Any:
        email = self.cleaned_data["email"]
        user = charges.find_resident(email)
        if user is None:
            raise forms.ValidationError(_("No resident account has this e-mail address."))
        return user


class CancelForm(AccessibleFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Open instalments and their slips are cancelled; paid ones stay."),
    )


class ImportForm(AccessibleFormMixin, forms.Form):
    file = forms.FileField(
        label=_("Charges file (CSV)"),
        help_text=_("UTF-8 or Shift_JIS (CP932), with a header row, one row per instalment."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > charge_import.MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB.") % {"mb": charge_import.MAX_BYTES // 2**20}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload
