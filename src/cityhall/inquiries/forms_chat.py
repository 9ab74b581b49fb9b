"""Forms of the chat pages: the question, and the hand-over to a person."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cityhall.core.forms import AccessibleFormMixin
from cityhall.inquiries.services import chat

NOTE_LENGTH = 2000


class AskForm(AccessibleFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Your question"),
        required=False,
        strip=False,
        help_text=_("For example: “Which day is burnable garbage collected?”"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "enterkeyhint": "send"}),
    )

    def clean_q(self) -> str:
        try:
            return chat.clean_question(self.cleaned_data.get("q"))
        except chat.QuestionError as exc:
            raise forms.ValidationError(str(exc), code="question") from exc


class HandoverForm(AccessibleFormMixin, forms.Form):
    note = forms.CharField(
        label=_("Anything to add"),
        required=False,
        max_length=NOTE_LENGTH,
        help_text=_("What you still need to know. Please do not write your My Number."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    name = forms.CharField(label=_("Your name"), required=False, max_length=120)
    email = forms.EmailField(
        label=_("Your e-mail address"),
        help_text=_("The city answers you at this address."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args: Any, anonymous: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        if not anonymous:
            del self.fields["name"]
            del self.fields["email"]
