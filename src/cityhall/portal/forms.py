from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cityhall.core.forms import AccessibleFormMixin


class DisplayForm(AccessibleFormMixin, forms.Form):
    furigana = forms.ChoiceField(choices=[("1", _("On")), ("0", _("Off"))], required=False)
    textsize = forms.ChoiceField(
        choices=[("large", _("Larger")), ("normal", _("Normal"))], required=False
    )
